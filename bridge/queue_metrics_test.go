package bridge

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestOldestQueuedFacebook: the Send API outbox is ordered by
// conversation, and its age is that of its oldest entry, whichever
// conversation holds it.
func TestOldestQueuedFacebook(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	err := h.store.update(func(tx *bolt.Tx) error {
		for _, e := range []struct {
			psid string
			at   time.Time
		}{
			{"9000000000000001", now.Add(-time.Hour)},
			{"1000000000000001", now.Add(-time.Minute)},
			{"1000000000000001", now.Add(-30 * time.Second)},
			{"10000000000000012", now.Add(-2 * time.Minute)}, // a PSID the other is a prefix of
		} {
			if err := enqueueFacebook(tx, e.psid, &fbEntry{Page: testPage, Queued: e.at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = h.store.view(func(tx *bolt.Tx) error {
		if got := oldestQueued(tx, tx.Bucket(bucketToFacebook), "to_facebook"); !got.Equal(now.Add(-time.Hour)) {
			t.Errorf("oldest = %v, want %v", got, now.Add(-time.Hour))
		}
		if got := oldestQueued(tx, tx.Bucket(bucketToXMPP), "to_xmpp"); !got.IsZero() {
			t.Errorf("empty XMPP outbox: oldest = %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
