package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"

	"github.com/askbridge/askbridge/bridge/store"
)

// maintFixture is what fillMaintenance puts in a store: what a pass must
// remove and what it must keep.
type maintFixture struct {
	now time.Time
	// Old ledger records (10 days old) with text, and recent ones (10
	// minutes old); each has two references.
	old, recent int
	// Deduplication entries older and younger than seenTTL.
	oldSeen, newSeen int
	// Conversations idle past psidRetention, and ones to keep (recent,
	// with an open session, with a reply waiting).
	stale   []string
	keepers []string
}

// fillMaintenance writes, in one transaction, a store's worth of things
// a maintenance pass prunes or purges, and things it must keep.
func fillMaintenance(t *testing.T, h *harness) maintFixture {
	t.Helper()
	f := maintFixture{now: h.clock.Now(), old: 40, recent: 5, oldSeen: 25, newSeen: 5}
	err := h.store.update(func(tx *store.Tx) error {
		add := func(i int, at time.Time, text string) error {
			_, err := tx.Ledger().Add(&Record{Time: at, Direction: Inbound, Kind: "message", Page: testPage,
				Guest: fmt.Sprintf("g%d", i), MID: fmt.Sprintf("m.%d", i), XMPPID: fmt.Sprintf("x.%d", i),
				State: StateSent, Text: text})
			return err
		}
		for i := range f.old {
			if err := add(i, f.now.Add(-10*24*time.Hour+time.Duration(i)*time.Minute), fmt.Sprintf("old secret %d", i)); err != nil {
				return err
			}
		}
		for i := range f.recent {
			if err := add(1000+i, f.now.Add(-10*time.Minute), fmt.Sprintf("fresh words %d", i)); err != nil {
				return err
			}
		}
		seen := tx.Bolt().Bucket(store.BucketSeen)
		for i := range f.oldSeen {
			if err := seen.Put(fmt.Appendf(nil, "m:old.%d", i), store.U64(uint64(f.now.Add(-8*24*time.Hour).UnixNano()))); err != nil {
				return err
			}
		}
		for i := range f.newSeen {
			if err := seen.Put(fmt.Appendf(nil, "m:new.%d", i), store.U64(uint64(f.now.Add(-time.Hour).UnixNano()))); err != nil {
				return err
			}
		}
		conv := func(psid string, last time.Time, session string) error {
			return putConversation(tx, &Conversation{Page: testPage, PSID: psid, Guest: "g-" + psid,
				LastPatron: last, LastActivity: last, Session: session})
		}
		for i := range 12 {
			psid := fmt.Sprintf("5%015d", i)
			f.stale = append(f.stale, psid)
			if err := conv(psid, f.now.Add(-8*24*time.Hour), ""); err != nil {
				return err
			}
		}
		f.keepers = []string{"6000000000000001", "6000000000000002", "6000000000000003"}
		if err := conv(f.keepers[0], f.now.Add(-24*time.Hour), ""); err != nil {
			return err
		}
		if err := conv(f.keepers[1], f.now.Add(-8*24*time.Hour), "0123456789abcdef0123456789abcdef"); err != nil {
			return err
		}
		if err := conv(f.keepers[2], f.now.Add(-8*24*time.Hour), ""); err != nil {
			return err
		}
		return tx.Bolt().Bucket(store.BucketToFacebook).Put(append([]byte(f.keepers[2]+"\x00"), store.U64(1)...), []byte("{}"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// texts returns the text of every ledger record by mid.
func texts(t *testing.T, h *harness) map[string]string {
	t.Helper()
	rs, err := h.store.Records(time.Time{}, h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.MID] = r.Text
	}
	return out
}

// countTexts counts the ledger records that still hold text.
func countTexts(t *testing.T, h *harness) int {
	t.Helper()
	n := 0
	for _, text := range texts(t, h) {
		if text != "" {
			n++
		}
	}
	return n
}

func bucketLen(t *testing.T, h *harness, name []byte) int {
	t.Helper()
	var n int
	err := h.store.view(func(tx *store.Tx) error {
		n = tx.Bolt().Bucket(name).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func watermark(t *testing.T, h *harness) []byte {
	t.Helper()
	var w []byte
	err := h.store.view(func(tx *store.Tx) error {
		w = bytes.Clone(tx.Bolt().Bucket(store.BucketMeta).Get(metaTranscriptsTo))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func hasRef(t *testing.T, h *harness, ref string) bool {
	t.Helper()
	var ok bool
	err := h.store.view(func(tx *store.Tx) error {
		ok = tx.Ledger().Has(store.Ref(ref))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func transcriptsOn(c *config.Config) {
	c.Privacy.Transcripts = true
	c.Privacy.TranscriptRetention = time.Hour
}

// smallPass is a maintenance pass with tiny transactions and no time
// budget, so that how many transactions it makes does not depend on the
// machine's speed.
func smallPass(ctx context.Context, h *harness) *maintPass {
	p := h.b.newPass(ctx)
	p.scanKeys, p.writeKeys, p.writeBudget = 7, 3, time.Hour
	return p
}

// TestMaintenanceInSmallTransactions: a pass split into transactions of
// at most 3 changes removes exactly what the privacy and retention rules
// say, and keeps the rest.
func TestMaintenanceInSmallTransactions(t *testing.T) {
	h := newHarness(t, transcriptsOn)
	f := fillMaintenance(t, h)
	path := h.store.Path()
	if !fileHas(t, path, "old secret 7") || !fileHas(t, path, f.stale[3]) {
		t.Fatal("the data is not in the file before the pass: the check proves nothing")
	}
	rep, err := smallPass(context.Background(), h).maintain()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != f.oldSeen || rep.Refs != 2*f.old || rep.Purge.Conversations != len(f.stale) ||
		rep.Purge.Transcripts != f.old || !rep.Purge.Compacted {
		t.Errorf("report %+v", rep)
	}
	if rep.MostChanges > 3 {
		t.Errorf("a write transaction changed %d entries, want at most 3", rep.MostChanges)
	}
	if changes := f.oldSeen + 2*f.old + len(f.stale) + f.old; rep.Txs < changes/3 {
		t.Errorf("%d write transactions for %d changes", rep.Txs, changes)
	}

	for mid, text := range texts(t, h) {
		var i int
		if _, err := fmt.Sscanf(mid, "m.%d", &i); err != nil {
			t.Fatal(err)
		}
		if fresh := i >= 1000; fresh != (text != "") {
			t.Errorf("record %s has text %q after the pass", mid, text)
		}
	}
	if n := bucketLen(t, h, store.BucketLedger); n != f.old+f.recent {
		t.Errorf("%d ledger records, want %d: statistics rows must stay", n, f.old+f.recent)
	}
	if n := bucketLen(t, h, store.BucketLedgerRef); n != 2*f.recent {
		t.Errorf("%d references left, want %d", n, 2*f.recent)
	}
	if !hasRef(t, h, "m:m.1003") || !hasRef(t, h, "x:x.1003") || hasRef(t, h, "m:m.3") {
		t.Error("wrong references pruned")
	}
	if n := bucketLen(t, h, store.BucketSeen); n != f.newSeen {
		t.Errorf("%d deduplication entries left, want %d", n, f.newSeen)
	}
	for _, psid := range f.stale {
		if c, err := h.store.Conversation(psid); err != nil || c != nil {
			t.Errorf("stale conversation %s: %+v %v", psid, c, err)
		}
	}
	for _, psid := range f.keepers {
		if c, err := h.store.Conversation(psid); err != nil || c == nil {
			t.Errorf("conversation %s was removed (%v)", psid, err)
		}
	}
	if w, want := watermark(t, h), store.TimeBound(f.now.Add(-time.Hour)); !bytes.Equal(w, want) {
		t.Errorf("watermark %x, want %x", w, want)
	}
	if fileHas(t, path, "old secret 7") || fileHas(t, path, f.stale[3]) || !fileHas(t, path, "fresh words 2") {
		t.Error("the compacted file still holds purged data, or lost kept data")
	}
}

// TestMaintenanceWriteBudget: with no time budget at all, every write
// transaction makes a single change, and the pass still completes.
func TestMaintenanceWriteBudget(t *testing.T) {
	h := newHarness(t, transcriptsOn)
	f := fillMaintenance(t, h)
	p := h.b.newPass(context.Background())
	p.writeBudget = 0
	rep, err := p.maintain()
	if err != nil {
		t.Fatal(err)
	}
	if rep.MostChanges != 1 {
		t.Errorf("a write transaction made %d changes, want 1", rep.MostChanges)
	}
	if rep.Seen != f.oldSeen || rep.Refs != 2*f.old || rep.Purge.Conversations != len(f.stale) || rep.Purge.Transcripts != f.old {
		t.Errorf("report %+v", rep)
	}
	if n := countTexts(t, h); n != f.recent {
		t.Errorf("%d records with text, want %d", n, f.recent)
	}
}

// TestMaintenanceResumesAfterStop: a pass stopped between two write
// transactions (as by a crash or a shutdown) leaves a consistent store
// from which the next pass, after a restart, finishes the work: nothing
// is lost and nothing is done twice.
func TestMaintenanceResumesAfterStop(t *testing.T) {
	h := newHarness(t, transcriptsOn)
	f := fillMaintenance(t, h)
	before := f.now.Add(-time.Hour)

	// Transcripts: stop after 4 write transactions of 3 records.
	ctx, cancel := context.WithCancel(context.Background())
	p := smallPass(ctx, h)
	txs := 0
	p.afterWrite = func() {
		if txs++; txs == 4 {
			cancel()
		}
	}
	n, err := p.purgeTranscripts(before)
	if !errors.Is(err, context.Canceled) || n != 12 {
		t.Fatalf("stopped purge: %d %v", n, err)
	}
	w := watermark(t, h)
	if len(w) != 16 || bytes.Compare(w, store.TimeBound(before)) >= 0 {
		t.Fatalf("watermark after a stop %x: not inside the range", w)
	}
	// Every record before the watermark is purged, every one from it on
	// still has its text.
	err = h.store.view(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketLedger).ForEach(func(k, v []byte) error {
			_, has, err := hasText(v)
			if err != nil {
				return err
			}
			if bytes.Compare(k, w) < 0 && has {
				t.Errorf("record %x before the watermark still has text", k)
			}
			if bytes.Compare(k, w) >= 0 && bytes.Compare(k, store.TimeBound(before)) < 0 && !has {
				t.Errorf("record %x after the watermark lost its text, yet the watermark says to do it again", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	// References: stop after 5 write transactions.
	ctx, cancel = context.WithCancel(context.Background())
	p = smallPass(ctx, h)
	txs = 0
	p.afterWrite = func() {
		if txs++; txs == 5 {
			cancel()
		}
	}
	refs, err := p.pruneRefs(f.now.Add(-refsKeep))
	if !errors.Is(err, context.Canceled) || refs < 5 || refs > 15 {
		t.Fatalf("stopped pruning: %d %v", refs, err)
	}
	if n := bucketLen(t, h, store.BucketLedgerRef); n != 2*(f.old+f.recent)-refs {
		t.Fatalf("%d references left after pruning %d of %d", n, refs, 2*(f.old+f.recent))
	}

	h.restart()
	rep, err := smallPass(context.Background(), h).maintain()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Purge.Transcripts != f.old-12 || rep.Refs != 2*f.old-refs {
		t.Errorf("the second pass purged %d transcripts and %d references, want %d and %d",
			rep.Purge.Transcripts, rep.Refs, f.old-12, 2*f.old-refs)
	}
	if n := countTexts(t, h); n != f.recent {
		t.Errorf("%d records with text, want %d", n, f.recent)
	}
	if n := bucketLen(t, h, store.BucketLedgerRef); n != 2*f.recent {
		t.Errorf("%d references left, want %d", n, 2*f.recent)
	}
	if w := watermark(t, h); !bytes.Equal(w, store.TimeBound(before)) {
		t.Errorf("watermark %x after the second pass", w)
	}
}

// once returns a function that runs f on its first call only.
func once(f func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			f()
		}
	}
}

// TestMaintenanceRechecksBeforeWriting: what changes between the read
// transaction that picked an entry and the write transaction that would
// remove it is not lost.
func TestMaintenanceRechecksBeforeWriting(t *testing.T) {
	h := newHarness(t, transcriptsOn)
	f := fillMaintenance(t, h)
	var m1 []byte // the ledger key of record m.1
	err := h.store.view(func(tx *store.Tx) error {
		m1 = tx.Ledger().ByRef(store.MessageRef("m.1"))
		return nil
	})
	if err != nil || m1 == nil {
		t.Fatalf("no record m.1: %v", err)
	}
	update := func(fn func(tx *store.Tx) error) func() {
		return once(func() {
			if err := h.store.update(fn); err != nil {
				t.Error(err)
			}
		})
	}

	// The patron of a stale conversation writes again.
	p := smallPass(context.Background(), h)
	p.afterScan = update(func(tx *store.Tx) error {
		c, err := getConversation(tx, f.stale[0])
		if err != nil {
			return err
		}
		c.LastPatron = f.now
		return putConversation(tx, c)
	})
	if n, err := p.purgeConversations(f.now); err != nil || n != len(f.stale)-1 {
		t.Errorf("purged %d conversations (%v), want %d", n, err, len(f.stale)-1)
	}
	if c, err := h.store.Conversation(f.stale[0]); err != nil || c == nil {
		t.Errorf("a conversation active again was removed (%v)", err)
	}

	// An old reference now points to a new record.
	p = smallPass(context.Background(), h)
	p.afterScan = update(func(tx *store.Tx) error {
		_, err := tx.Ledger().Add(&Record{Time: f.now, Direction: Outbound, Kind: "reply", Page: testPage, Guest: "g0",
			MID: "m.0", State: StateQueued})
		return err
	})
	if n, err := p.pruneRefs(f.now.Add(-refsKeep)); err != nil || n != 2*f.old-1 {
		t.Errorf("pruned %d references (%v), want %d", n, err, 2*f.old-1)
	}
	if !hasRef(t, h, "m:m.0") {
		t.Error("a reference to a new record was pruned")
	}

	// An old deduplication entry is marked again.
	p = smallPass(context.Background(), h)
	p.afterScan = update(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketSeen).Put([]byte("m:old.0"), store.U64(uint64(f.now.UnixNano())))
	})
	if n, err := p.pruneSeen(); err != nil || n != f.oldSeen-1 {
		t.Errorf("pruned %d deduplication entries (%v), want %d", n, err, f.oldSeen-1)
	}

	// A record's delivery state changes while its text is being purged.
	p = smallPass(context.Background(), h)
	p.afterScan = update(func(tx *store.Tx) error {
		return tx.Ledger().Update(m1, func(r *Record) { r.State, r.Error = StateBounced, "gone" })
	})
	if n, err := p.purgeTranscripts(f.now.Add(-time.Hour)); err != nil || n != f.old {
		t.Errorf("purged %d transcripts (%v), want %d", n, err, f.old)
	}
	rs, err := h.store.Records(time.Time{}, f.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.MID == "m.1" && (r.State != StateBounced || r.Text != "") {
			t.Errorf("record after the purge: %+v", r)
		}
	}
}

// A record stored after the purge's watermark had passed its time (an
// event redelivered late) still loses its text.
func TestLateRecordTranscriptPurged(t *testing.T) {
	h := newHarness(t, transcriptsOn)
	now := h.clock.Now()
	if _, err := h.b.Purge(false); err != nil {
		t.Fatal(err)
	}
	if w := watermark(t, h); len(w) < 8 {
		t.Fatalf("no watermark after a purge: %x", w)
	}
	err := h.store.update(func(tx *store.Tx) error {
		_, err := tx.Ledger().Add(&Record{Time: now.Add(-3 * time.Hour), Direction: Inbound, Kind: "message",
			Page: testPage, Guest: "g", MID: "m.late", XMPPID: "x.late", State: StateSent, Text: "stored late"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.b.Purge(false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Transcripts != 1 || countTexts(t, h) != 0 {
		t.Errorf("purged %d transcripts; %d records still have text", res.Transcripts, countTexts(t, h))
	}
}
