package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
)

// TestEjabberdConversationCrossesBothWays is TestConversationCrossesBothWays
// on ejabberd: patron → librarian through ejabberd, the reply → Send API,
// our own echo not relayed; and ejabberd routes a librarian's disco query
// to the component.
func TestEjabberdConversationCrossesBothWays(t *testing.T) {
	lib := conversationCrossesBothWays(t, ejabberdWorld(t))
	ctx := context.Background()
	if err := lib.SendRaw(`<iq type="get" id="disco-1" to="` + testenv.ComponentDomain + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`); err != nil {
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
	duplicateDeliveryRelayedOnce(t, ejabberdWorld(t))
}

// TestEjabberdReplyFromNonOperatorRefused: the component's forbidden error
// travels back through ejabberd to the sender.
func TestEjabberdReplyFromNonOperatorRefused(t *testing.T) {
	replyFromNonOperatorRefused(t, ejabberdWorld(t))
}

// TestEjabberdReplyWhileComponentAway: unlike Prosody, ejabberd knows a
// component domain only while the component is connected; a librarian
// writing to a patron meanwhile must still get an error, never silence.
// (With s2s enabled, ejabberd would first try the domain as a remote
// server; see docs/deploy.md.)
func TestEjabberdReplyWhileComponentAway(t *testing.T) {
	replyWhileComponentAwayIsBounced(t, ejabberdWorld(t))
}
