package bridge

import (
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
		if got := oldestQueued(tx, tx.Bolt().Bucket(store.BucketToFacebook), "to_facebook"); !got.Equal(now.Add(-20 * time.Minute)) {
			t.Errorf("oldest = %v, want %v", got, now.Add(-20*time.Minute))
		}
		if got := oldestQueued(tx, tx.Bolt().Bucket(store.BucketToXMPP), "to_xmpp"); !got.IsZero() {
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
