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
	w.start(w.ej.ComponentAddr, w.ej.C2SAddr)
	return w
}

// TestEjabberdConversationCrossesBothWays is TestConversationCrossesBothWays
// on ejabberd: patron → librarian through ejabberd, the reply → Send API,
// our own echo not relayed; and ejabberd routes a librarian's disco query
// to the component.
func TestEjabberdConversationCrossesBothWays(t *testing.T) {
	w := newEjabberdWorld(t)
	lib := w.login("librarian", "pw-librarian")
	psid := standin.NewPSID()
	ctx := context.Background()

	if _, err := w.fb.PatronSays(ctx, e2ePage, psid, "Do you have \"Dune\" in Spanish? äëï"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	patron := string(psid) + "@" + e2eDomain
	if m.Body != "Do you have \"Dune\" in Spanish? äëï" || !strings.HasPrefix(m.From, patron) {
		t.Fatalf("librarian got %+v", m)
	}
	if !strings.Contains(m.Raw, "Facebook patron ") {
		t.Errorf("no nickname in %s", m.Raw)
	}

	if _, err := lib.SendChat(patron, "Yes, two copies at Central."); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.fb, 1)
	if sent[0].Recipient != psid || sent[0].Text != "Yes, two copies at Central." || sent[0].MessagingType != "RESPONSE" {
		t.Fatalf("Send API got %+v", sent[0])
	}
	if _, err := w.fb.PatronSays(ctx, e2ePage, psid, "thanks!"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "thanks!" {
		t.Fatalf("after the echo the librarian got %q", m.Body)
	}

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
	w := newEjabberdWorld(t)
	lib := w.login("librarian", "pw-librarian")
	body := []byte(`{"object":"page","entry":[{"id":"` + e2ePage + `","time":1700000000000,"messaging":[{"sender":{"id":"1066835436691078"},"recipient":{"id":"` + e2ePage + `"},"timestamp":1700000000000,"message":{"mid":"mid.dup-1","text":"only once"}}]}]}`)
	for i := 0; i < 3; i++ {
		status, err := w.fb.PostSigned(context.Background(), body)
		if err != nil || status != 200 {
			t.Fatalf("delivery %d: status %d, %v", i, status, err)
		}
	}
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, "1066835436691078", "marker"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "only once" {
		t.Fatalf("first = %q", m.Body)
	}
	if m := nextChat(t, lib); m.Body != "marker" {
		t.Fatalf("second = %q (a duplicate was relayed?)", m.Body)
	}
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
