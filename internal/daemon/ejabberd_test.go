package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/ejabberd"
	"github.com/askbridge/askbridge/messenger/standin"
)

// ejabberdWorld is newWorld's world on Debian's ejabberd instead of
// Prosody: the basic relay must work against both servers.
type ejabberdWorld struct {
	*world
	ej *ejabberd.Server
}

func newEjabberdWorld(t *testing.T) *ejabberdWorld {
	t.Helper()
	w := &ejabberdWorld{world: &world{t: t}}
	w.ej = ejabberd.StartTest(t, ejabberd.Options{
		Host:       "localhost",
		Components: []ejabberd.Component{{Domain: e2eDomain, Secret: "component-secret"}},
		Users: []ejabberd.User{
			{Name: "librarian", Password: "pw-librarian"},
			{Name: "mallory", Password: "pw-mallory"},
		},
	})
	w.start(w.ej.ComponentAddr(), w.ej.C2SAddr())
	return w
}

// TestEjabberdConversationCrossesBothWays is TestConversationCrossesBothWays
// on ejabberd: patron → librarian through ejabberd, the reply → Send API,
// our own echo not relayed; and ejabberd routes a librarian's disco query
// to the component.
func TestEjabberdConversationCrossesBothWays(t *testing.T) {
	lib := conversationCrossesBothWays(t, newEjabberdWorld(t).world)
	ctx := context.Background()
	if err := lib.SendRaw(`<iq type="get" id="disco-1" to="` + e2eDomain + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	iq, err := lib.NextIQ(qctx)
	if err != nil {
		t.Fatal(err)
	}
	if iq.ID != "disco-1" || iq.Type != "result" || !strings.Contains(iq.Raw, "<identity") {
		t.Errorf("disco#info of the component through ejabberd: %+v", iq)
	}
}

func TestEjabberdDuplicateDeliveryRelayedOnce(t *testing.T) {
	duplicateDeliveryRelayedOnce(t, newEjabberdWorld(t).world)
}

// TestEjabberdReplyFromNonOperatorRefused: the component's forbidden error
// travels back through ejabberd to the sender.
func TestEjabberdReplyFromNonOperatorRefused(t *testing.T) {
	w := newEjabberdWorld(t)
	lib := w.login("librarian", "pw-librarian")
	mallory := w.login("mallory", "pw-mallory")
	psid := standin.NewPSID()
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, psid, "hello"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	if _, err := mallory.SendChat(string(psid)+"@"+e2eDomain, "I am not staff"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, mallory); m.Type != "error" || m.ErrorCondition != "forbidden" {
		t.Fatalf("mallory got %+v, want a forbidden error", m)
	}
}

// TestEjabberdReplyWhileComponentAway: unlike Prosody, ejabberd knows a
// component domain only while the component is connected; a librarian
// writing to a patron meanwhile must still get an error, never silence.
// (With s2s enabled, ejabberd would first try the domain as a remote
// server; see docs/deploy.md.)
func TestEjabberdReplyWhileComponentAway(t *testing.T) {
	w := newEjabberdWorld(t)
	lib := w.login("librarian", "pw-librarian")
	w.stop()
	w.stop = nil
	if _, err := lib.SendChat("4100000000000003@"+e2eDomain, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	if m.Type != "error" || m.ErrorCondition == "" {
		t.Fatalf("librarian got %+v, want an error stanza", m)
	}
	t.Logf("ejabberd answered %s: %s", m.ErrorCondition, m.Raw)
}
