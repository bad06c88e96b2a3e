package bridge

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestSessionsMigrated: maintenance rewrites the JSON session records of
// an older store in the current version, without changing what they say;
// a migration cut short goes on where it stopped, and a finished one is
// not walked again.
func TestSessionsMigrated(t *testing.T) {
	dir := t.TempDir()
	const n = 2500
	SeedBenchSessions(t, dir, n) // JSON, as before record version 1
	RecodeBenchSessions(t, dir, 7)
	want := readAllSessions(t, dir)

	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := NewPseudonymKey(dir) // the seeded store has none

	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Config: testConfig(dir), Store: st, Pseudonyms: ps, SendAPI: newFakeAPI(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	legacy := func() (json int, resume []byte, done bool) {
		t.Helper()
		err := st.view(func(tx *store.Tx) error {
			meta := tx.Bolt().Bucket(store.BucketMeta)
			resume, done = cloneOrNil(meta.Get(metaSessionsFrom)), meta.Get(metaSessionsBinary) != nil
			return tx.Bolt().Bucket(store.BucketSessions).ForEach(func(_, v []byte) error {
				if store.LegacySession(v) {
					json++
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return json, resume, done
	}
	before, _, _ := legacy()
	if before < n/2 {
		t.Fatalf("only %d JSON records to start with", before)
	}

	// A pass stopped after its first write transaction.
	ctx, cancel := context.WithCancel(context.Background())
	p := b.newPass(ctx)
	p.scanKeys, p.writeKeys, p.minRest = 500, 500, 0
	p.afterWrite = cancel
	if _, err := p.migrateSessions(); err == nil {
		t.Fatal("a cancelled migration reported no error")
	}
	left, resume, done := legacy()
	if left >= before || left == 0 || resume == nil || done {
		t.Fatalf("after a cut pass: %d of %d JSON records left, resume %x, done %v", left, before, resume, done)
	}

	// The next pass finishes from there.
	p = b.newPass(context.Background())
	p.minRest = 0
	migrated, err := p.migrateSessions()
	if err != nil {
		t.Fatal(err)
	}
	if left2, resume, done := legacy(); left2 != 0 || resume != nil || !done || migrated != left {
		t.Fatalf("after the pass: %d JSON records left, resume %x, done %v (migrated %d)", left, resume, done, migrated)
	}
	st.Close()
	got := readAllSessions(t, dir)
	if len(got) != len(want) {
		t.Fatalf("%d sessions after migration, want %d", len(got), len(want))
	}
	for i := range want {
		if d := sessionDiff(&got[i], &want[i]); d != "" {
			t.Fatalf("session %d: %s differs:\n got %+v\nwant %+v", i, d, got[i], want[i])
		}
	}
	// Done once: a further pass looks at nothing.
	st2, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	b.store = st2
	if n, err := b.newPass(context.Background()).migrateSessions(); n != 0 || err != nil {
		t.Errorf("a finished migration ran again: %d, %v", n, err)
	}
}
