package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/config"

	"github.com/askbridge/askbridge/bridge/store"
)

func fileHas(t *testing.T, path string, s string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(s))
}

// TestPSIDGoneFromFileAfterRetention proves that after the retention
// period the raw PSID and the message text are gone from the store file's
// bytes, while the statistics row stays.
func TestPSIDGoneFromFileAfterRetention(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Privacy.Transcripts = true
		c.Privacy.TranscriptRetention = time.Hour
	})
	h.run()
	h.accept(patronText("mid.priv", "my secret question", h.clock.Now()))
	h.link.next(t)
	if e := h.reply("alice@library.test/x", "a private answer"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	if e := h.reply("alice@library.test/x", "!close"); e != nil {
		t.Fatal(e)
	}
	h.link.next(t)
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	path := h.store.Path()
	// The check can see them while they are kept.
	if !fileHas(t, path, testPSID) || !fileHas(t, path, "my secret question") {
		t.Fatal("PSID or transcript not in the file before the purge: the check proves nothing")
	}

	// Six days later, only the transcripts may go.
	h.clock.Advance(6 * 24 * time.Hour)
	res, err := h.b.Purge(true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversations != 0 || res.Transcripts != 2 || !res.Compacted {
		t.Errorf("after 6 days: %+v", res)
	}
	if !fileHas(t, path, testPSID) || fileHas(t, path, "my secret question") || fileHas(t, path, "a private answer") {
		t.Error("after 6 days the PSID must still be there and the transcript gone")
	}

	h.clock.Advance(2 * 24 * time.Hour)
	if res, err = h.b.Purge(true); err != nil || res.Conversations != 1 {
		t.Fatalf("after 8 days: %+v %v", res, err)
	}
	if fileHas(t, path, testPSID) {
		t.Error("the PSID is still in the store file after the retention period")
	}
	sessions, err := h.store.Sessions(time.Time{}, h.clock.Now())
	if err != nil || len(sessions) != 1 || sessions[0].Status != "answered" || sessions[0].Guest == "" {
		t.Errorf("statistics row after the purge: %+v %v", sessions, err)
	}
	// The bridge still works on the compacted file.
	h.accept(patronText("mid.priv2", "back again", h.clock.Now()))
	if m := h.link.next(t); m.Body != "back again" {
		t.Errorf("after compaction got %q", m.Body)
	}
}

// TestOpenConversationKeptPastRetention: a patron whose session is still
// open keeps their PSID, whatever its age.
func TestOpenConversationKeptPastRetention(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Sessions.IdleTimeout = 30 * 24 * time.Hour })
	h.run()
	h.start()
	h.clock.Advance(8 * 24 * time.Hour)
	if res, err := h.b.Purge(true); err != nil || res.Conversations != 0 {
		t.Fatalf("purge: %+v %v", res, err)
	}
	if !fileHas(t, h.store.Path(), testPSID) {
		t.Error("the PSID of an open conversation was removed")
	}
}

func TestForget(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Privacy.Transcripts = true })
	h.run()
	h.accept(patronText("mid.f1", "please forget me", h.clock.Now()))
	h.link.next(t)
	if e := h.reply("alice@library.test/x", "sure"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	guest := h.b.pseudo.Guest(testPage, testPSID)
	if !fileHas(t, h.store.Path(), guest) {
		t.Fatal("pseudonym not in the file before: the check proves nothing")
	}
	n, err := h.b.Forget(testPSID)
	if err != nil || n == 0 {
		t.Fatalf("Forget: %d %v", n, err)
	}
	for _, s := range []string{testPSID, "please forget me", guest} {
		if fileHas(t, h.store.Path(), s) {
			t.Errorf("%q still in the store file", s)
		}
	}
	sessions, err := h.store.Sessions(time.Time{}, h.clock.Now().Add(time.Hour))
	if err != nil || len(sessions) != 1 || sessions[0].Guest != "forgotten" || sessions[0].Status != "answered" {
		t.Errorf("sessions after forget: %+v %v", sessions, err)
	}
}

// TestForgetEarlierSpelling: a stanza an earlier release queued for the
// patron, with the address spelt as xmpp.domain spells it (capitals), is
// forgotten too, although this release writes addresses normalised.
func TestForgetEarlierSpelling(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.XMPP.Domain = "FB.Library.Test" })
	old := json.RawMessage(`{"msg":{"ID":"old-1","From":"` + testPSID + `@FB.Library.Test","To":"alice@library.test","Type":"chat","Body":"left from before"}}`)
	err := h.store.update(func(tx *store.Tx) error {
		out := tx.Bolt().Bucket(store.BucketToXMPP)
		k, err := store.SeqKey(out)
		if err != nil {
			return err
		}
		return store.PutSealed(out, k, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.b.Forget(testPSID); err != nil || n != 1 {
		t.Fatalf("Forget: %d removed, %v; want the one queued stanza", n, err)
	}
	_ = h.store.view(func(tx *store.Tx) error {
		if n := tx.Bolt().Bucket(store.BucketToXMPP).Stats().KeyN; n != 0 {
			t.Errorf("%d stanzas still queued for the forgotten patron", n)
		}
		return nil
	})
}

// TestRoutinePurgesCompactDaily: without force, purges compact at most
// once a day, and what a purge removed is compacted away by the next due
// compaction, even after a restart. (The bridge's own maintenance loop
// also purges at start, so the test checks the file and the store's
// bookkeeping rather than which purge did the work.)
func TestRoutinePurgesCompactDaily(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Privacy.Transcripts = true
		c.Privacy.TranscriptRetention = time.Hour
	})
	h.run()
	h.accept(patronText("mid.c1", "first secret", h.clock.Now()))
	h.link.next(t)
	h.clock.Advance(2 * time.Hour)
	if _, err := h.b.Purge(false); err != nil {
		t.Fatal(err)
	}
	if fileHas(t, h.store.Path(), "first secret") {
		t.Fatal("the first compaction did not happen")
	}
	h.accept(patronText("mid.c2", "second secret", h.clock.Now()))
	h.link.next(t)
	h.clock.Advance(2 * time.Hour)
	if res, err := h.b.Purge(false); err != nil || res.Compacted || res.Transcripts != 1 {
		t.Fatalf("second purge within a day: %+v %v", res, err)
	}
	if !h.needsCompaction() {
		t.Fatal("the purge did not note that a compaction is needed")
	}
	h.restart()
	h.clock.Advance(24 * time.Hour)
	if _, err := h.b.Purge(false); err != nil {
		t.Fatal(err)
	}
	if h.needsCompaction() || fileHas(t, h.store.Path(), "second secret") {
		t.Error("no compaction a day later, after a restart")
	}
}

func (h *harness) needsCompaction() bool {
	var needed bool
	_ = h.store.view(func(tx *store.Tx) error {
		needed = tx.Bolt().Bucket(store.BucketMeta).Get(metaNeedsCompaction) != nil
		return nil
	})
	return needed
}

// TestCompactionWaitsForBackups: compactions are put off only while a
// backup's copy is made; a backup whose reader stalls holds up neither
// other transactions nor compactions, and is still a whole store file.
func TestCompactionWaitsForBackups(t *testing.T) {
	h := newHarness(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := h.store.Backup(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	buf := make([]byte, 1)
	if _, err := pr.Read(buf); err != nil { // the backup is under way, and stalls
		t.Fatal(err)
	}
	if err := h.store.Writable(); err != nil { // other transactions go on
		t.Fatal(err)
	}
	if err := h.store.Compact(); err != nil {
		t.Fatalf("Compact while a backup is read: %v", err)
	}
	h.store.backups.Add(1) // a copy being made
	if err := h.store.Compact(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Compact during a backup's copy = %v, want ErrBusy", err)
	}
	h.store.backups.Add(-1)
	rest, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, append(buf, rest...), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		if tx.Bolt().Bucket(store.BucketMeta) == nil {
			return errors.New("no meta bucket in the backup")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
