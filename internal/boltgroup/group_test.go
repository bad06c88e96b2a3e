package boltgroup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *bolt.DB) int {
	t.Helper()
	n := 0
	if err := db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte("b")).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every caller's write is committed once it returns, and concurrent
// callers share commits.
func TestConcurrentCallersShareCommits(t *testing.T) {
	db := openDB(t)
	var g Group
	const callers, each = 32, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	txs := map[int]bool{} // write transactions used
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Appendf(nil, "%02d-%03d", c, i)
				err := g.Do(db, func(tx *bolt.Tx) error {
					mu.Lock()
					txs[tx.ID()] = true
					mu.Unlock()
					return tx.Bucket([]byte("b")).Put(key, []byte("v"))
				})
				if err != nil {
					t.Error(err)
					return
				}
				// Returned means committed: visible to a new read transaction.
				if err := db.View(func(tx *bolt.Tx) error {
					if tx.Bucket([]byte("b")).Get(key) == nil {
						return fmt.Errorf("%s not committed after Do returned", key)
					}
					return nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := count(t, db); n != callers*each {
		t.Fatalf("%d keys, want %d", n, callers*each)
	}
	if commits := len(txs); commits >= callers*each {
		t.Errorf("%d commits for %d writes: none shared", commits, callers*each)
	} else {
		t.Logf("%d writes in %d commits", callers*each, commits)
	}
}

// A failing function gets its own error and does not take its group's
// other writes down with it.
func TestFailureIsolated(t *testing.T) {
	db := openDB(t)
	var g Group
	bad := errors.New("bad input")
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Go(func() {
			errs[i] = g.Do(db, func(tx *bolt.Tx) error {
				if i%8 == 3 {
					// A partial write before the failure must not survive.
					_ = tx.Bucket([]byte("b")).Put([]byte(fmt.Sprintf("partial-%d", i)), []byte("x"))
					return fmt.Errorf("caller %d: %w", i, bad)
				}
				k := make([]byte, 8)
				binary.BigEndian.PutUint64(k, uint64(i))
				return tx.Bucket([]byte("b")).Put(k, []byte("v"))
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%8 == 3) != errors.Is(err, bad) {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if n := count(t, db); n != 64-8 {
		t.Errorf("%d keys, want %d (partial writes of failed callers must be rolled back)", n, 64-8)
	}
}

// A function that panics gets an error; the others commit, and later
// callers are not stuck behind it.
func TestPanicIsTheCallersError(t *testing.T) {
	db := openDB(t)
	var g Group
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			errs[i] = g.Do(db, func(tx *bolt.Tx) error {
				if i == 5 {
					panic("broken event")
				}
				return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 5) != errors.Is(err, ErrPanic) {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if err := g.Do(db, func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("later"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 16 {
		t.Errorf("%d keys, want 15 writes and the later one", n)
	}
}
