package bridge

import (
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
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
	if m.To.String() != "alice@library.test" {
		t.Fatalf("follow-up to %q", m.To)
	}
	// Alice's server cannot deliver it.
	h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m.ID, From: jid.MustParse("alice@library.test"), To: m.From,
		Error: xmpp.StanzaError{Type: "cancel", Condition: "service-unavailable"}})
	// The bounced message itself goes to the queue, and so does the next.
	if again := h.link.next(t); again.To.String() != testQueue || again.Body != "follow-up" {
		t.Errorf("bounced message rerouted as %+v", again)
	}
	// The record keeps the bounce and ends up sent, to the queue.
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.XMPPID == m.ID {
				return r.State == StateSent && r.Error == "service-unavailable"
			}
		}
		return false
	})
	h.accept(patronText("mid.3", "hello?", h.clock.Now()))
	if m := h.link.next(t); m.To.String() != testQueue {
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

func TestTemporaryBounceRetried(t *testing.T) {
	bounceFirst = 20 * time.Millisecond
	defer func() { bounceFirst = 30 * time.Second }()
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.fed", "via federation", h.clock.Now()))
	m := h.link.next(t)
	bounce := xmpp.Bounce{ID: m.ID, From: jid.MustParse("chat.library.test"), To: m.From,
		Error: xmpp.StanzaError{Type: "cancel", Condition: "remote-server-not-found"}}
	for i := 0; i < bounceRetries; i++ {
		h.b.HandleBounce(t.Context(), bounce)
		if again := h.link.next(t); again.ID != m.ID || again.Body != "via federation" {
			t.Fatalf("retry %d: %+v", i+1, again)
		}
	}
	// Enough: the last bounce stays recorded.
	h.b.HandleBounce(t.Context(), bounce)
	h.quiet(t)
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.XMPPID == m.ID {
				return r.State == StateBounced
			}
		}
		return false
	})
	// A permanent error is not retried.
	h.accept(patronText("mid.perm", "to nobody", h.clock.Now()))
	m2 := h.link.next(t)
	h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m2.ID, From: jid.MustParse(testQueue), To: m2.From,
		Error: xmpp.StanzaError{Type: "cancel", Condition: "item-not-found"}})
	h.quiet(t)
}

// TestForgedBounceIgnored: an error stanza for a message the bridge sent
// is believed only from the message's recipient or the recipient's server;
// from anyone else it changes nothing.
func TestForgedBounceIgnored(t *testing.T) {
	bounceFirst = 20 * time.Millisecond
	defer func() { bounceFirst = 30 * time.Second }()
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.q", "Where are the atlases?", h.clock.Now()))
	m := h.link.next(t)
	if m.To.String() != testQueue {
		t.Fatalf("question to %q", m.To)
	}
	temp := xmpp.StanzaError{Type: "wait", Condition: "resource-constraint"}
	// (A from that is not a JID never gets here: the component drops the
	// stanza. The zero JID stands for it.)
	for _, from := range []jid.JID{jid.MustParse("mallory@chat.library.test"), jid.MustParse("mallory@evil.test/x"),
		jid.MustParse("evil.test"), jid.MustParse("chat.library.test/res"), {}} {
		h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m.ID, From: from, To: m.From, Error: temp})
	}
	if n := counterValue(t, h.b.metrics.bouncesForged); n != 5 {
		t.Errorf("ignored bounces = %v, want 5", n)
	}
	if n := bucketLen(t, h, store.BucketToXMPP); n != 0 {
		t.Errorf("%d entries queued again after forged bounces", n)
	}
	for _, r := range h.records() {
		if r.XMPPID == m.ID && (r.State == StateBounced || r.Error != "") {
			t.Errorf("a forged bounce was recorded: %+v", r)
		}
	}
	// The queue's own server is believed, and the question is sent again.
	h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m.ID, From: jid.MustParse("chat.library.test"), To: m.From, Error: temp})
	if again := h.link.next(t); again.ID != m.ID || again.Body != "Where are the atlases?" {
		t.Fatalf("retry: %+v", again)
	}
	if n := counterValue(t, h.b.metrics.bouncesForged); n != 5 {
		t.Errorf("ignored bounces = %v after a real one", n)
	}
}

// TestSplitTextBouncedByOwner: every part of a long text the owner's
// server bounces goes back to the queue, not only the first.
func TestSplitTextBouncedByOwner(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.XMPP.MaxStanzaBytes = 4096 })
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "answer"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	long := strings.TrimSpace(strings.Repeat("where is the periodicals room ", 400))
	h.accept(patronText("mid.long", long, h.clock.Now()))
	var parts []xmpp.Message
	var got []string
	for strings.Join(got, " ") != long {
		if m := h.link.next(t); m.Body != "" {
			got = append(got, m.Body)
			if m.To.String() != "alice@library.test" {
				t.Fatalf("part to %q", m.To)
			}
			parts = append(parts, m)
		}
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, m := range parts {
		h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: m.ID, From: jid.MustParse("alice@library.test"), To: m.From,
			Error: xmpp.StanzaError{Type: "cancel", Condition: "service-unavailable"}})
	}
	var again []string
	for len(again) < len(parts) {
		m := h.link.next(t)
		if m.To.String() != testQueue {
			t.Fatalf("rerouted to %q: %q", m.To, m.Body)
		}
		again = append(again, m.Body)
	}
	for i := range parts {
		if again[i] != parts[i].Body {
			t.Errorf("part %d rerouted as %.40q, want %.40q", i+1, again[i], parts[i].Body)
		}
	}
}
