package bridge

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestOldestQueuedFacebook: the Send API outbox is ordered by
// conversation, and its age is that of its oldest entry, whichever
// conversation holds it.
func TestOldestQueuedFacebook(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	err := h.store.update(func(tx *store.Tx) error {
		for _, e := range []struct {
			psid string
			at   time.Time
		}{
			{"9000000000000001", now.Add(-20 * time.Minute)},
			{"1000000000000001", now.Add(-time.Minute)},
			{"1000000000000001", now.Add(-30 * time.Second)},
			{"10000000000000012", now.Add(-2 * time.Minute)}, // a PSID the other is a prefix of
		} {
			if err := h.b.fq.enqueue(tx, e.psid, &fbEntry{Page: testPage, Msg: messenger.OutgoingMessage{Recipient: recipientOf(e.psid), Text: "x"}, Queued: e.at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = h.store.view(func(tx *store.Tx) error {
		if got := tx.FacebookOutbox().Oldest(); !got.Equal(now.Add(-20 * time.Minute)) {
			t.Errorf("oldest = %v, want %v", got, now.Add(-20*time.Minute))
		}
		if got := tx.XMPPOutbox().Oldest(); !got.IsZero() {
			t.Errorf("empty XMPP outbox: oldest = %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The owner, holding the outbox, says the same without the walk: the
	// first calls fail for now, so the four entries wait (for a retry, as
	// they are younger than retryFor).
	h.api.failWith(errTransport, errTransport, errTransport)
	h.run()
	waitFor(t, func() bool { return h.api.callCount() == 3 })
	n, oldest, ok := h.b.fq.figures.snapshot()
	if !ok || n != 4 || !oldest.Equal(now.Add(-20*time.Minute)) {
		t.Errorf("owner: %d entries, oldest %v, complete %v; want 4, %v, true", n, oldest, ok, now.Add(-20*time.Minute))
	}
}

// TestOldestQueuedXMPPRetry: the XMPP outbox's age comes from its owner
// and is that of its oldest entry, also when that entry is a bounce retry
// queued at the end with its original time.
func TestOldestQueuedXMPPRetry(t *testing.T) {
	h := newHarness(t)
	h.link.setUp(false)
	now := time.Now()
	err := h.store.update(func(tx *store.Tx) error {
		for i, at := range []time.Time{now.Add(-time.Minute), now.Add(-time.Hour)} {
			e := xmppEntry{Msg: xmpp.Message{ID: fmt.Sprintf("q-%d", i), To: jid.MustParse("ask@chat.library.test"), Body: "x"}, Queued: at}
			if i == 1 {
				e.Tries, e.NotBefore = 1, now.Add(time.Hour) // a retry, not due yet
			}
			if err := h.b.xq.enqueue(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	waitFor(t, func() bool { n, _, ok := h.b.xq.figures.snapshot(); return ok && n == 2 })
	reg := prometheus.NewRegistry()
	reg.MustRegister(newQueueCollector(h.store, func() time.Time { return now }, h.b.xq.figures.snapshot, h.b.fq.figures.snapshot))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	age := -1.0
	for _, f := range families {
		if f.GetName() != "askbridge_queue_oldest_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == "to_xmpp" {
				age = m.GetGauge().GetValue()
			}
		}
	}
	if age < 3599 || age > 3601 {
		t.Errorf("askbridge_queue_oldest_seconds{to_xmpp} = %v, want 3600 (the retry's original time)", age)
	}
}

// TestOutboxDepthBeforeTheOwnerTakesIt: an entry is counted from its
// commit, not from the owner's next turn. The owner, holding the whole
// outbox and nothing in it, has published an empty queue; an entry
// committed since, not yet taken from its mailbox, keeps
// askbridge_outbox_depth above 0 (a test waiting for 0 would otherwise
// post its next webhook while this one's stanza is still on its way).
func TestOutboxDepthBeforeTheOwnerTakesIt(t *testing.T) {
	h := newHarness(t)
	h.b.xq.figures.publish(0, time.Time{}, true)
	h.b.fq.figures.publish(0, time.Time{}, true)
	depth := func() float64 {
		t.Helper()
		reg := prometheus.NewRegistry()
		reg.MustRegister(newQueueCollector(h.store, time.Now, h.b.xq.figures.snapshot, h.b.fq.figures.snapshot))
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "askbridge_outbox_depth" {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no askbridge_outbox_depth")
		return 0
	}
	if d := depth(); d != 0 {
		t.Fatalf("empty store: depth %v", d)
	}
	err := h.store.update(func(tx *store.Tx) error {
		return h.b.xq.enqueue(tx, xmppEntry{Msg: xmpp.Message{ID: "q-1", To: jid.MustParse("ask@chat.library.test"), Body: "x"}, Queued: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := depth(); d != 1 {
		t.Errorf("an entry committed, the owner's figures not yet updated: depth %v, want 1", d)
	}
	// The owner's figures count until it has let go of the entry, even
	// when the store no longer holds it.
	h.b.xq.figures.publish(1, time.Now(), true)
	err = h.store.update(func(tx *store.Tx) error {
		return tx.XMPPOutbox().Scan(func(k []byte, _ *xmppEntry, _ error) (bool, error) {
			return false, tx.XMPPOutbox().Remove(bytes.Clone(k))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := depth(); d != 1 {
		t.Errorf("removal committed, the owner still holding the entry: depth %v, want 1", d)
	}
}
