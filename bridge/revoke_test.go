package bridge

import (
	"strings"
	"testing"

	"github.com/askbridge/askbridge/config"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestRemovedOperatorLosesConversations: a librarian removed from
// xmpp.operators by a reload stops receiving the patrons they had
// claimed; the conversation goes back to the queue, which is told.
func TestRemovedOperatorLosesConversations(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.XMPP.Operators = []string{"alice@library.test", "bob@library.test"}
	})
	h.run()
	h.start()
	if e := h.reply("alice@library.test/desk", "Let me look."); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.accept(patronText("mid.2", "thanks, waiting", h.clock.Now()))
	if m := h.link.next(t); m.To.String() != "alice@library.test" {
		t.Fatalf("follow-up went to %q", m.To)
	}
	h.drainPresence()

	next := *h.cfg
	next.XMPP.Operators = []string{"bob@library.test"}
	h.b.SetConfig(&next)

	// The queue is told, and sees the patron online; alice sees them leave.
	m := h.link.next(t)
	if m.To.String() != testQueue || !strings.Contains(m.Body, "was being answered by alice@library.test, who may no longer answer patrons") {
		t.Fatalf("notice %+v", m)
	}
	seen := map[string]string{}
	for len(seen) < 2 {
		p := h.link.nextPresence(t)
		seen[p.To.String()] = p.Type
	}
	if seen["alice@library.test"] != "unavailable" || seen[testQueue] != "" {
		t.Errorf("presences %v", seen)
	}
	h.accept(patronText("mid.3", "are you there?", h.clock.Now()))
	if m := h.link.next(t); m.To.String() != testQueue || m.Body != "are you there?" {
		t.Errorf("next patron message went to %q: %q", m.To, m.Body)
	}
	if e := h.reply("alice@library.test/desk", "still me"); e == nil || e.Condition != "forbidden" {
		t.Errorf("alice's reply after removal: %v", e)
	}
	// Nothing changes hands twice.
	if n, err := h.b.releaseRevoked(&next); n != 0 || err != nil {
		t.Errorf("second pass moved %d (%v)", n, err)
	}
}

// TestRemovedOperatorHandedBackAtStart: a change made while the daemon
// was stopped takes effect at start.
func TestRemovedOperatorHandedBackAtStart(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.XMPP.Operators = []string{"alice@library.test"}
	})
	h.run()
	h.start()
	if e := h.reply("alice@library.test/desk", "Let me look."); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.close()
	h.cfg.XMPP.Operators = []string{"bob@library.test"}
	h.open()
	h.run()
	if m := h.link.next(t); m.To.String() != testQueue || !strings.Contains(m.Body, "alice@library.test, who may no longer answer patrons") {
		t.Fatalf("after restart: %+v", m)
	}
}

// TestRemovedOperatorQueuedMessages: what was waiting in the outbox for
// a librarian removed by a reload (the link was down) goes to the queue
// instead, never to the removed librarian.
func TestRemovedOperatorQueuedMessages(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.XMPP.Operators = []string{"alice@library.test"}
	})
	h.run()
	h.start()
	if e := h.reply("alice@library.test/desk", "Let me look."); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.link.setUp(false)
	h.accept(patronText("mid.2", "my card number is 12345", h.clock.Now()))
	waitFor(t, func() bool { return bucketLen(t, h, store.BucketToXMPP) > 0 })

	next := *h.cfg
	next.XMPP.Operators = nil
	h.b.SetConfig(&next)
	h.link.setUp(true)
	h.b.LinkChanged(true)

	var toQueue []string
	for len(toQueue) < 2 {
		m := h.link.next(t)
		if m.To.String() != testQueue {
			t.Fatalf("%q went to %q", m.Body, m.To)
		}
		toQueue = append(toQueue, m.Body)
	}
	if toQueue[0] != "my card number is 12345" || !strings.Contains(toQueue[1], "was being answered by alice@library.test") {
		t.Errorf("the queue got %q", toQueue)
	}
}
