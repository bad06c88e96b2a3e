package bridge

import (
	"testing"

	"github.com/askbridge/askbridge/xmpp"
)

func TestBounceRecordedAndConversationBackToQueue(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "answer"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.accept(patronText("mid.2", "follow-up", h.clock.Now()))
	m := h.link.next(t)
	if m.To != "alice@library.test" {
		t.Fatalf("follow-up to %q", m.To)
	}
	// Alice's server cannot deliver it.
	h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m.ID, From: "alice@library.test", To: m.From,
		Error: xmpp.StanzaError{Type: "cancel", Condition: "service-unavailable"}})
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.XMPPID == m.ID {
				return r.State == StateBounced && r.Error == "service-unavailable"
			}
		}
		return false
	})
	// The next message goes to the queue again.
	h.accept(patronText("mid.3", "hello?", h.clock.Now()))
	if m := h.link.next(t); m.To != testQueue {
		t.Errorf("after bounce went to %q", m.To)
	}
}

func TestUnsendableStanzaDoesNotBlockOutbox(t *testing.T) {
	h := newHarness(t)
	h.link.poison = "POISON"
	h.run()
	h.accept(patronText("mid.p", "POISON", h.clock.Now()), patronText("mid.q", "after", h.clock.Now().Add(1)))
	if m := h.link.next(t); m.Body != "after" {
		t.Fatalf("got %q", m.Body)
	}
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.MID == "mid.p" {
				return r.State == StateFailed
			}
		}
		return false
	})
}
