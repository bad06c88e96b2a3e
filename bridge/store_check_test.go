package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/askbridge/askbridge/bridge/store"
)

// seededStore makes a store in use — 5,000 ledger records with their
// references, deduplication entries and conversations, and a pseudonym
// key — and returns its bytes as a backup writes them (no free space at
// the end, as after a restore), so that cutting the file loses pages.
func seededStore(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	SeedBenchLedger(t, dir, 5000, time.Now())
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var buf bytes.Buffer
	if _, err := st.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stateDirWith writes store (and a pseudonym key) into a new state
// directory and returns it.
func stateDirWith(t *testing.T, store []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(StorePath(dir), store, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pseudonymKeyFile), bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// boltPages returns the store's page size, its free-page list's page and
// the root pages of its buckets, as bbolt sees them.
func boltPages(t *testing.T, store []byte) (ps int, keep map[int]bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(path, store, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keep = map[int]bool{0: true, 1: true}
	ps = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for i := 2; i < int(tx.Size())/ps; i++ {
			if info, err := tx.Page(i); err != nil || info == nil || info.Type == "freelist" || info.Type == "free" {
				keep[i] = true
			}
		}
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			keep[int(b.Root())] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The root page: the one leaf naming the buckets.
	for i := 2; i < len(store)/ps; i++ {
		if bytes.Contains(store[i*ps:(i+1)*ps], []byte("open_sessions")) {
			keep[i] = true
		}
	}
	return ps, keep
}

// scramble fills the bodies (from an offset: pageHeaderSize keeps the
// headers) of the store's pages for which pick is true with random bytes.
func scramble(store []byte, ps, from int, pick func(id int, page []byte) bool) []byte {
	out := bytes.Clone(store)
	r := rand.New(rand.NewPCG(1, 2))
	for id := 2; id < len(out)/ps; id++ {
		page := out[id*ps : (id+1)*ps]
		if pick(id, page) {
			for i := from; i < len(page); i++ {
				page[i] = byte(r.Uint32())
			}
		}
	}
	return out
}

// TestStoreDamaged: every kind of damage is refused at open with a
// DamagedError naming it — never a crash, never an empty store in its
// place — and the file is left as it was.
func TestStoreDamaged(t *testing.T) {
	good := seededStore(t)
	ps, keep := boltPages(t, good)
	m0, m1 := decodeMeta(good, 0), decodeMeta(good[ps:], 1)
	freelist := int(m0.freelist)
	if m1.txid > m0.txid {
		freelist = int(m1.freelist)
	}
	cases := []struct {
		name  string
		store []byte
		want  string
	}{
		{"zero-filled", make([]byte, len(good)), "its two header pages are all zeros"},
		{"truncated-in-half", good[:len(good)/2], "cut short"},
		{"truncated-mid-page", good[:len(good)-100], "not a whole number of"},
		{"meta-pages-only", good[:2*ps], "cut short"},
		{"too-short", good[:100], "cut short"},
		{"scrambled-data-pages", scramble(good, ps, 0, func(int, []byte) bool { return true }), "free-page list"},
		{"scrambled-leaves", scramble(good, ps, pageHeaderSize, func(id int, _ []byte) bool { return !keep[id] }), "scrambled page"},
		{"scrambled-freelist", scramble(good, ps, 0, func(id int, _ []byte) bool { return id == freelist }), "free-page list"},
		{"not-a-store", bytes.Repeat([]byte("askbridge"), 2000), "neither of its two header pages is valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := stateDirWith(t, c.store)
			st, err := OpenStore(dir, time.Second)
			if err == nil {
				st.Close()
				t.Fatal("a damaged store opened")
			}
			var de *DamagedError
			if !errors.As(err, &de) || de.Lost || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a DamagedError saying %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "store "+StorePath(dir)+" is damaged: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line naming the file: %q", err)
			}
			assertUntouched(t, dir, c.store)
		})
	}
}

func assertUntouched(t *testing.T, dir string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(StorePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the damaged file was changed (%d bytes, was %d)", len(got), len(want))
	}
}

// TestStoreDeepDamage: a scrambled page deep in a bucket passes the cheap
// checks of every open (they read the buckets' first pages only) but not
// the full check, which reports it without crashing.
func TestStoreDeepDamage(t *testing.T) {
	good := seededStore(t)
	ps, keep := boltPages(t, good)
	// The last ledger records: in the ledger's last leaf, and in pages of
	// the references and deduplication entries far from their first.
	bad := scramble(good, ps, pageHeaderSize, func(id int, page []byte) bool {
		return !keep[id] && bytes.Contains(page, []byte(`m_seed.4998`))
	})
	if bytes.Equal(bad, good) {
		t.Fatal("no page scrambled")
	}
	dir := stateDirWith(t, bad)
	_, err := OpenStoreWith(dir, StoreOptions{LockWait: time.Second, Verify: true})
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "reading every record failed on a scrambled page") {
		t.Fatalf("full check: %v", err)
	}
	assertUntouched(t, dir, bad)
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatalf("cheap checks: %v", err)
	}
	st.Close()
}

// TestStoreHeaderPageDoubt: one invalid header page (a torn write) is
// what bbolt recovers from by using the other; it makes the open run the
// full check, which passes, and the store opens with its records.
func TestStoreHeaderPageDoubt(t *testing.T) {
	good := seededStore(t)
	ps, _ := boltPages(t, good)
	torn := bytes.Clone(good)
	// Page 0's txid (the header page written last holds the higher one).
	m0, m1 := binary.LittleEndian.Uint64(torn[pageHeaderSize+48:]), binary.LittleEndian.Uint64(torn[ps+pageHeaderSize+48:])
	at := pageHeaderSize + 48
	if m1 > m0 {
		at += ps
	}
	torn[at] ^= 0xff
	dir := stateDirWith(t, torn)
	core, logs := observer.New(zapcore.InfoLevel)
	st, err := OpenStoreWith(dir, StoreOptions{LockWait: time.Second, Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if logs.FilterMessage("store: running the full check").Len() != 1 || logs.FilterMessage("store: full check passed").Len() != 1 {
		t.Errorf("logs: %v", logs.All())
	}
	recs, err := st.Records(time.Now().Add(-400*24*time.Hour), time.Now().Add(time.Hour))
	if err != nil || len(recs) != 5000 {
		t.Errorf("%d records, %v", len(recs), err)
	}
}

// TestStoreVerify: the full check passes on a sound store and counts its
// records.
func TestStoreVerify(t *testing.T) {
	dir := stateDirWith(t, seededStore(t))
	st, err := OpenStoreWith(dir, StoreOptions{LockWait: time.Second, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	rep, err := VerifyFile(StorePath(dir), time.Second)
	if err != nil || rep.Records < 5000 || rep.Pages < 10 || rep.PageSize == 0 {
		t.Errorf("VerifyFile: %+v %v", rep, err)
	}
}

// TestStoreNoSchema: a BoltDB file with buckets but no askbridge schema
// record is not taken for a store.
func TestStoreNoSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(StorePath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		b, err := tx.Bolt().CreateBucket([]byte("something"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(StorePath(dir))
	_, err = OpenStore(dir, time.Second)
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "no schema record") {
		t.Fatalf("got %v", err)
	}
	assertUntouched(t, dir, before)
}

// TestStoreLost: where pseudonym.key shows a store was kept, a missing or
// empty store file is refused instead of being replaced by an empty
// store, unless AllowNew says so. A new install (no key) makes its store.
func TestStoreLost(t *testing.T) {
	for _, empty := range []bool{false, true} {
		dir := stateDirWith(t, nil)
		if !empty {
			os.Remove(StorePath(dir))
		}
		_, err := OpenStore(dir, time.Second)
		var de *DamagedError
		if !errors.As(err, &de) || !de.Lost || !strings.Contains(err.Error(), "pseudonym.key beside it shows that a store was kept here") {
			t.Fatalf("empty=%v: got %v", empty, err)
		}
		if info, err := os.Stat(StorePath(dir)); empty != (err == nil) || (err == nil && info.Size() != 0) {
			t.Errorf("empty=%v: the store file was changed: %v %v", empty, info, err)
		}
		st, err := OpenStoreWith(dir, StoreOptions{LockWait: time.Second, AllowNew: true})
		if err != nil {
			t.Fatalf("AllowNew: %v", err)
		}
		if !st.Fresh() {
			t.Error("a new store is not fresh")
		}
		st.Close()
	}
	st, err := OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatalf("new install: %v", err)
	}
	st.Close()
}
