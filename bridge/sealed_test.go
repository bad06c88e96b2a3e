package bridge

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

const otherPSID = "1066835436691079"

// writePlain stores v as plain JSON at the bucket's next sequence (or at
// key, if given), as releases before schema 4 wrote every value.
func writePlain(t *testing.T, tx *store.Tx, bucket []byte, key []byte, v any) {
	t.Helper()
	b := tx.Bolt().Bucket(bucket)
	if key == nil {
		var err error
		if key, err = store.SeqKey(b); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(key, data); err != nil {
		t.Fatal(err)
	}
}

// rawValue returns the stored bytes of a value.
func rawValue(t *testing.T, st *Store, bucket, key []byte) []byte {
	t.Helper()
	var v []byte
	if err := st.view(func(tx *store.Tx) error {
		v = append([]byte(nil), tx.Bolt().Bucket(bucket).Get(key)...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSealedUpgrade: a store written by the previous release (plain JSON
// everywhere, schema 3, no key file) is opened, its queued entries are
// delivered, and the next maintenance pass seals what is left and
// compacts the plain texts away.
func TestSealedUpgrade(t *testing.T) {
	h := newHarness(t)
	h.close()
	if err := os.Remove(store.QueueKeysPath(h.dir)); err != nil {
		t.Fatal(err)
	}
	setSchema(t, h.dir, 3)
	db, err := bolt.Open(StorePath(h.dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = db.Update(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		writePlain(t, tx, store.BucketInbox, nil, patronText("mid.old.1", "old inbox text", now))
		writePlain(t, tx, store.BucketToXMPP, nil, xmppEntry{Queued: now, Msg: xmpp.Message{ID: "old-x1",
			From: patronJID(testPSID, testDomain), To: jid.MustParse(testQueue), Type: "chat", Body: "old outbox text"}})
		n, err := tx.Bolt().Bucket(store.BucketToFacebook).NextSequence()
		if err != nil {
			return err
		}
		k := append(append([]byte(testPSID), 0), store.U64(n)...) // the outbox's key layout
		writePlain(t, tx, store.BucketToFacebook, k, fbEntry{Page: testPage, Queued: now, Notify: "alice@library.test/x",
			Patron: patronJID(testPSID, testDomain).String(), Msg: messenger.OutgoingMessage{Recipient: testPSID, Text: "old reply text"}})
		writePlain(t, tx, store.BucketConversations, []byte(otherPSID), Conversation{Page: testPage, PSID: otherPSID,
			Guest: "0123456789abcdef", LastPatron: now, LastActivity: now,
			Held: []xmpp.Message{{ID: "held-1", Body: "old held text"}}})
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	h.open()
	if _, err := os.Stat(store.QueueKeysPath(h.dir)); err != nil {
		t.Fatalf("no key file made at the first start of this release: %v", err)
	}
	h.run()
	var got []string
	for range 2 {
		got = append(got, h.link.next(t).Body)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"old inbox text", "old outbox text"}) {
		t.Errorf("relayed %q", got)
	}
	if m := h.api.next(t); m.Text != "old reply text" {
		t.Errorf("sent %q", m.Text)
	}
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })

	rep, err := h.b.maintain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys.Resealed != 1 || !rep.Purge.Compacted {
		t.Errorf("maintenance after the upgrade: %+v", rep)
	}
	if v := rawValue(t, h.store, store.BucketConversations, []byte(otherPSID)); !store.IsSealed(v) {
		t.Errorf("conversation holding messages not sealed: %q", v)
	}
	conv, err := h.store.Conversation(otherPSID)
	if err != nil || conv == nil || len(conv.Held) != 1 || conv.Held[0].Body != "old held text" {
		t.Fatalf("held messages after sealing: %+v %v", conv, err)
	}
	for _, s := range []string{"old inbox text", "old outbox text", "old reply text", "old held text"} {
		if fileHas(t, h.store.Path(), s) {
			t.Errorf("%q still in the store file after the pass", s)
		}
	}
	if v := schemaOf(t, h.store); v != store.SchemaVersion {
		t.Errorf("schema %d, want %d", v, store.SchemaVersion)
	}
}

// queueWhileDown queues a patron message while the Jabber link is down,
// and returns once it is stored (sealed) in the XMPP outbox.
func queueWhileDown(t *testing.T, h *harness, mid, text string) {
	t.Helper()
	h.link.setUp(false)
	h.accept(patronText(mid, text, h.clock.Now()))
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n > 0 })
}

// TestSealedMissingKeys: without its key file, a store holding sealed
// entries is refused with one clear error, and so it is with a key file
// that lacks their key; with the file back, the entries are delivered.
func TestSealedMissingKeys(t *testing.T) {
	h := newHarness(t)
	h.run()
	queueWhileDown(t, h, "mid.k1", "waiting for the server")
	h.close()
	if fileHas(t, h.store0(), "waiting for the server") {
		t.Fatal("queued text in plain in the store file")
	}
	keys := store.QueueKeysPath(h.dir)
	saved, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(keys); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", info.Mode(), err)
	}

	if err := os.Remove(keys); err != nil {
		t.Fatal(err)
	}
	_, err = OpenStore(h.dir, time.Second)
	if !errors.Is(err, store.ErrQueueKeysMissing) || !strings.Contains(err.Error(), keys+" is missing") ||
		!strings.Contains(err.Error(), "queued entries sealed") {
		t.Fatalf("without the key file: %v", err)
	}
	t.Logf("without the key file: %v", err)
	if _, err := os.Stat(keys); err == nil {
		t.Fatal("a new key file was made although sealed entries exist")
	}

	other := t.TempDir()
	if _, err := store.CreateKeyRing(store.QueueKeysPath(other), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(store.QueueKeysPath(other), keys); err != nil {
		t.Fatal(err)
	}
	if _, err = OpenStore(h.dir, time.Second); !errors.Is(err, store.ErrQueueKeysMissing) {
		t.Fatalf("with another store's key file: %v", err)
	}

	if err := os.WriteFile(keys, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	h.link.setUp(true)
	h.open()
	h.run()
	if m := h.link.next(t); m.Body != "waiting for the server" {
		t.Errorf("after the key file came back got %q", m.Body)
	}
}

// store0 is the store file's path while the harness is closed.
func (h *harness) store0() string { return StorePath(h.dir) }

// TestSealedBackupRestore: a backup holds the entries queued when it was
// made, opened, so that it is restored without the key file; it holds no
// freed pages.
func TestSealedBackupRestore(t *testing.T) {
	h := newHarness(t)
	h.run()
	queueWhileDown(t, h, "mid.b1", "queued at backup time")
	backup := backupTo(t, h)
	if !fileHas(t, backup, "queued at backup time") {
		t.Error("the queued message is not in the backup in plain, as README says")
	}

	r := &harness{t: t, dir: t.TempDir(), link: newFakeLink(), api: newFakeAPI(), clock: &clock{t: time.Now()}}
	r.cfg = testConfig(r.dir)
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "askbridge.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	// As README says: the pseudonym key is kept with the backups; the
	// queue keys are not needed.
	key, err := os.ReadFile(PseudonymKeyPath(h.dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(PseudonymKeyPath(r.dir), key, 0o600); err != nil {
		t.Fatal(err)
	}
	r.open()
	t.Cleanup(r.close)
	r.run()
	if m := r.link.next(t); m.Body != "queued at backup time" {
		t.Errorf("restored backup delivered %q", m.Body)
	}
	waitFor(t, func() bool { n, _ := r.b.Pending(); return n == 0 })
}

// TestSealedForget: a deletion request finds the patron's sealed queued
// entries.
func TestSealedForget(t *testing.T) {
	h := newHarness(t)
	h.run()
	queueWhileDown(t, h, "mid.f1", "forget me while queued")
	if _, err := h.b.Forget(testPSID); err != nil {
		t.Fatal(err)
	}
	if n, err := h.b.Pending(); err != nil || n != 0 {
		t.Errorf("%d entries left after forget (%v)", n, err)
	}
}

// BenchmarkSealOpen measures sealing and opening one XMPP outbox entry of
// a 200-character message: the cost sealing adds per message and way.
func BenchmarkSealOpen(b *testing.B) {
	ring, err := store.CreateKeyRing(store.QueueKeysPath(b.TempDir()), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	e := xmppEntry{Queued: time.Now(), Ledger: make([]byte, 16), Msg: xmpp.Message{ID: "abcdef123456",
		From: patronJID(testPSID, testDomain), To: jid.MustParse(testQueue), Type: "chat", Body: strings.Repeat("x", 200)}}
	plain, _ := json.Marshal(e)
	b.ReportAllocs()
	for b.Loop() {
		v, err := ring.Seal(plain)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ring.Open(v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(store.SealOverhead), "bytes_added")
}

// TestEntryWithoutItsKeyKept: an entry whose key went missing while the
// daemon runs (a mistake: the store refuses to open without its keys) is
// kept in its queue, not removed as unreadable, and the others go on.
func TestEntryWithoutItsKeyKept(t *testing.T) {
	h := newHarness(t)
	h.run()
	queueWhileDown(t, h, "mid.lost", "sealed with a key that goes missing")
	ring := h.store.keys
	old := ring.CurrentID()
	if _, err := ring.Rotate(h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Drop(map[uint32]bool{}); err != nil || ring.Has(old) {
		t.Fatalf("dropping key %d: %v", old, err)
	}
	// The outbox's owner holds what it was handed at commit; read from
	// the store (as after a restart), the entry cannot be opened.
	h.b.xq.post(xmppEvent{kind: evReload})
	h.accept(patronText("mid.after", "a later message", h.clock.Now()))
	h.link.setUp(true)
	h.b.LinkChanged(true)
	if m := h.link.next(t); m.Body != "a later message" {
		t.Fatalf("the librarian got %q", m.Body)
	}
	// What the lost key sealed (the question, and the patron's presence
	// queued with it) stays; all else goes out.
	waitFor(t, func() bool {
		kept, others := 0, 0
		err := h.store.view(func(tx *store.Tx) error {
			return tx.Bolt().Bucket(store.BucketToXMPP).ForEach(func(_, v []byte) error {
				if id, ok := store.SealedWith(v); ok && id == old {
					kept++
				} else {
					others++
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return kept > 0 && others == 0
	})
}

// TestRestoredHeldConversationSealed: a conversation holding messages
// (nobody available) is in a backup in the clear, as every queued text
// is; restored, the next maintenance pass seals it again.
func TestRestoredHeldConversationSealed(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.accept(patronText("mid.h1", "held while nobody is online", h.clock.Now()))
	holds := func(st *Store) bool {
		c, _ := st.Conversation(testPSID)
		return c != nil && slices.ContainsFunc(c.Held, func(m xmpp.Message) bool { return m.Body == "held while nobody is online" })
	}
	waitFor(t, func() bool { return holds(h.store) })
	backup := backupTo(t, h)

	r := &harness{t: t, dir: t.TempDir(), link: newFakeLink(), api: newFakeAPI(), clock: &clock{t: time.Now()}}
	r.cfg = testConfig(r.dir)
	broadcastConfig(r.cfg)
	for from, to := range map[string]string{backup: StorePath(r.dir), PseudonymKeyPath(h.dir): PseudonymKeyPath(r.dir)} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.open()
	t.Cleanup(r.close)
	if v := rawValue(t, r.store, store.BucketConversations, []byte(testPSID)); store.IsSealed(v) {
		t.Fatal("the restored conversation is sealed already: the test would show nothing")
	}
	rep, err := r.b.maintain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v := rawValue(t, r.store, store.BucketConversations, []byte(testPSID)); !store.IsSealed(v) || rep.Keys.Resealed == 0 {
		t.Errorf("restored conversation holding messages not sealed by maintenance (resealed %d)", rep.Keys.Resealed)
	}
	if !holds(r.store) {
		t.Error("the held message is lost after sealing")
	}
}
