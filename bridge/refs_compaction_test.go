package bridge

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge/store"
)

// A prune of many old references makes a compaction due, so that BoltDB
// does not write a long list of free pages at every commit; a small prune
// alone does not.
func TestLargeReferencePruneCompacts(t *testing.T) {
	defer func(n int) { compactAfterRefs = n }(compactAfterRefs)
	compactAfterRefs = 10
	h := newHarness(t)
	seed := func(from, n int) {
		t.Helper()
		old := h.clock.Now().Add(-30 * 24 * time.Hour)
		err := h.store.update(func(tx *store.Tx) error {
			for i := from; i < from+n; i++ {
				k := make([]byte, 16)
				binary.BigEndian.PutUint64(k, uint64(old.UnixNano()))
				binary.BigEndian.PutUint64(k[8:], uint64(i))
				if err := tx.Bolt().Bucket(store.BucketLedgerRef).Put(fmt.Appendf(nil, "x:old-%d", i), k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	seed(0, 9)
	res, err := h.b.Purge(false)
	if err != nil || res.Compacted {
		t.Fatalf("9 references pruned: compacted %v, %v", res.Compacted, err)
	}
	seed(100, 10)
	res, err = h.b.Purge(false)
	if err != nil || !res.Compacted {
		t.Fatalf("10 references pruned: compacted %v, %v", res.Compacted, err)
	}
	if n := bucketLen(t, h, store.BucketLedgerRef); n != 0 {
		t.Errorf("%d old references left", n)
	}
}
