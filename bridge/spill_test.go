package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"

	bolt "go.etcd.io/bbolt"
)

// compactHold stops the store's next compaction at some of its stages.
type compactHold struct {
	// The maps are not changed after holdCompaction.
	reached, free map[compactStage]chan struct{}
	stop, once    map[compactStage]*sync.Once
}

// holdCompaction makes the store's next compaction stop at each of the
// stages until the test releases it (at the latest when the test ends,
// before the harness closes the store).
func holdCompaction(t *testing.T, st *Store, stages ...compactStage) *compactHold {
	t.Helper()
	c := &compactHold{reached: map[compactStage]chan struct{}{}, free: map[compactStage]chan struct{}{},
		stop: map[compactStage]*sync.Once{}, once: map[compactStage]*sync.Once{}}
	for _, s := range stages {
		c.reached[s], c.free[s] = make(chan struct{}), make(chan struct{})
		c.stop[s], c.once[s] = &sync.Once{}, &sync.Once{}
	}
	st.hook = func(s compactStage) {
		if stop, ok := c.stop[s]; ok {
			stop.Do(func() { // only the first compaction stops
				close(c.reached[s])
				<-c.free[s]
			})
		}
	}
	t.Cleanup(func() {
		for _, s := range stages {
			c.release(s)
		}
	})
	return c
}

// wait waits until the compaction stopped at stage.
func (c *compactHold) wait(t *testing.T, stage compactStage) {
	t.Helper()
	waitChan(t, "the compaction reaching its stage", c.reached[stage])
}

// release lets the compaction go on from stage.
func (c *compactHold) release(stage compactStage) {
	c.once[stage].Do(func() { close(c.free[stage]) })
}

// compactInBackground makes a compaction due and starts it.
func (h *harness) compactInBackground() <-chan error {
	h.t.Helper()
	err := h.store.update(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketMeta).Put(metaNeedsCompaction, []byte{1})
	})
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ok, err := h.b.compactIfDue(true, h.clock.Now())
		if err == nil && !ok {
			err = errors.New("not compacted")
		}
		done <- err
	}()
	return done
}

// within fails the test unless f returns within 10 s: f must not wait
// for the compaction the test holds.
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s waited for the compaction", what)
	}
}

// waitChan fails the test unless c is closed or sends within 10 s.
func waitChan[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10 s", what)
		var zero T
		return zero
	}
}

// acceptNow is h.accept for use inside within.
func (h *harness) acceptNow(events ...messenger.Event) func() error {
	return func() error { return h.b.Accept(context.Background(), events) }
}

// relayed returns the bodies of the messages the link got from each
// patron, in order.
func (h *harness) relayed() map[string][]string {
	h.link.mu.Lock()
	defer h.link.mu.Unlock()
	out := map[string][]string{}
	for _, m := range h.link.sent {
		psid, _, _ := strings.Cut(m.From.String(), "@")
		out[psid] = append(out[psid], m.Body)
	}
	return out
}

func checkRelayed(t *testing.T, got map[string][]string, want map[string]string) {
	t.Helper()
	for psid, bodies := range want {
		if g := strings.Join(got[psid], ","); g != bodies {
			t.Errorf("patron %s: relayed %q, want %q", psid, g, bodies)
		}
	}
	for psid, bodies := range got {
		if _, ok := want[psid]; !ok {
			t.Errorf("patron %s: relayed %q, want nothing", psid, bodies)
		}
	}
}

func otherText(mid, text string, at time.Time) messenger.Event {
	e := patronText(mid, text, at)
	e.Patron = otherPSID
	return e
}

// While a compaction holds the store's writes, webhook events are stored
// (in the spill) without waiting for it, and reads go on; afterwards every
// event is relayed once, in order, and later events come after them.
func TestCompactAcceptsWhileCopying(t *testing.T) {
	h := newHarness(t)
	h.run()
	now := h.clock.Now()
	h.accept(patronText("m.0", "zero", now))
	h.settle(t)

	hold := holdCompaction(t, h.store, compactCopying)
	done := h.compactInBackground()
	hold.wait(t, compactCopying)

	within(t, "Accept", h.acceptNow(patronText("m.1", "one", now.Add(1*time.Millisecond))))
	within(t, "Accept", h.acceptNow(
		patronText("m.0", "zero", now),                                                          // seen by the store: dropped
		patronText("m.3", "three", now.Add(3*time.Millisecond)),                                 // taken in timestamp order
		patronText("m.2", "two", now.Add(2*time.Millisecond)),                                   //
		otherText("o.1", "other one", now.Add(2*time.Millisecond)),                              //
		patronText("m.1", "one", now.Add(1*time.Millisecond)),                                   // seen by the spill: dropped
		otherText("o.1", "other one", now.Add(2*time.Millisecond)),                              // twice in one POST: once
		otherText("o.2", "other two", now.Add(4*time.Millisecond)),                              //
		patronText("m.2", "two again", now.Add(5*time.Millisecond)),                             // same mid: dropped
		messenger.Event{Kind: messenger.KindRead, Page: testPage, Patron: otherPSID, Time: now}, // no dedup key
	))
	within(t, "a read", func() error {
		c, err := h.store.Conversation(testPSID)
		if err == nil && c == nil {
			err = errors.New("no conversation")
		}
		return err
	})
	within(t, "Pending", func() error {
		n, err := h.b.Pending()
		if err == nil && n != 6 { // m.1, m.2, m.3, o.1, o.2, the read
			err = fmt.Errorf("pending %d spilled events, want 6", n)
		}
		return err
	})
	if _, err := os.Stat(SpillPath(h.dir)); err != nil {
		t.Fatalf("no spill while the compaction holds writes: %v", err)
	}
	if got := h.relayed(); len(got[testPSID]) != 1 || len(got[otherPSID]) != 0 {
		t.Fatalf("relayed during the compaction: %q", got)
	}

	hold.release(compactCopying)
	if err := waitChan(t, "the compaction", done); err != nil {
		t.Fatal(err)
	}
	h.accept(patronText("m.4", "four", now.Add(6*time.Millisecond)), otherText("o.1", "other one", now))
	h.settle(t)
	checkRelayed(t, h.relayed(), map[string]string{
		testPSID:  "zero,one,two,three,four",
		otherPSID: "other one,other two",
	})
	for _, left := range []string{SpillPath(h.dir), h.store.Path() + oldSuffix, h.store.Path() + compactSuffix} {
		if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after the compaction: %v", left, err)
		}
	}
	h.restart()
	h.accept(patronText("m.3", "three", now.Add(3*time.Millisecond))) // a late redelivery
	h.settle(t)
	checkRelayed(t, h.relayed(), map[string]string{
		testPSID:  "zero,one,two,three,four",
		otherPSID: "other one,other two",
	})
}

// crashImage copies the state directory as a crash would leave it, into
// a new harness's, and opens that harness (not running).
func crashImage(t *testing.T, from string) *harness {
	t.Helper()
	h := newHarness(t)
	h.close()
	copyStateDir(t, from, h.dir)
	h.open()
	return h
}

// A crash while the compaction copies the store loses no spilled event:
// the next open moves the spill into the inbox, and each event is
// relayed once, in order, also across a further restart.
func TestSpillRoutedAfterCrash(t *testing.T) {
	h := newHarness(t)
	h.run()
	now := h.clock.Now()
	h.accept(patronText("m.0", "zero", now))
	h.settle(t)

	hold := holdCompaction(t, h.store, compactCopied)
	done := h.compactInBackground()
	hold.wait(t, compactCopied)
	within(t, "Accept", h.acceptNow(patronText("m.1", "one", now.Add(time.Millisecond)), otherText("o.1", "other one", now)))
	within(t, "Accept", h.acceptNow(patronText("m.2", "two", now.Add(2*time.Millisecond)), patronText("m.0", "zero", now)))
	if _, err := os.Stat(h.store.Path() + compactSuffix); err != nil {
		t.Fatalf("no copy half made: %v", err)
	}
	// The image: the old store, the whole copy, the spill.
	image := crashImage(t, h.dir)
	hold.release(compactCopied)
	if err := waitChan(t, "the compaction", done); err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(SpillPath(image.dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the spill is still there after the open: %v", err)
	}
	if _, err := os.Stat(image.store.Path() + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half-made copy is still there after the open: %v", err)
	}
	image.run()
	image.accept(patronText("m.3", "three", now.Add(3*time.Millisecond)), patronText("m.1", "one", now.Add(time.Millisecond)))
	image.settle(t)
	want := map[string]string{testPSID: "one,two,three", otherPSID: "other one"} // m.0 went before the crash
	checkRelayed(t, image.relayed(), want)
	image.restart()
	image.settle(t)
	checkRelayed(t, image.relayed(), want)
}

// A crash after the spilled events were moved into the store but before
// the spill was removed moves nothing twice, not even events without a
// deduplication key.
func TestSpillMovedOnceAcrossCrash(t *testing.T) {
	h := newHarness(t) // not running: nothing writes to the store but the test
	now := h.clock.Now()
	hold := holdCompaction(t, h.store, compactCopying, spillMoved)
	done := h.compactInBackground()
	hold.wait(t, compactCopying)
	read := messenger.Event{Kind: messenger.KindRead, Page: testPage, Patron: testPSID, Time: now}
	within(t, "Accept", h.acceptNow(patronText("m.1", "one", now), read))
	within(t, "Accept", h.acceptNow(patronText("m.2", "two", now.Add(time.Millisecond)), read))
	hold.release(compactCopying)
	hold.wait(t, spillMoved)
	image := crashImage(t, h.dir)
	if _, err := os.Stat(SpillPath(h.dir)); err != nil {
		t.Fatalf("the spill is gone before its removal: %v", err)
	}
	hold.release(spillMoved)
	if err := waitChan(t, "the compaction", done); err != nil {
		t.Fatal(err)
	}
	inbox := func(st *Store) int {
		n := 0
		err := st.view(func(tx *store.Tx) error { n = tx.Bolt().Bucket(store.BucketInbox).Stats().KeyN; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := inbox(image.store); n != 4 {
		t.Errorf("inbox after the crash and the open: %d entries, want the 4 spilled", n)
	}
	if n := inbox(h.store); n != 4 {
		t.Errorf("inbox after the compaction: %d entries, want the 4 spilled", n)
	}
	image.run()
	image.settle(t)
	checkRelayed(t, image.relayed(), map[string]string{testPSID: "one,two"})
}

// An event spilled while a POST carrying it too was committing in the
// store, as the compaction began, is not moved into the store again.
func TestSpillDropsWhatTheStoreTookMeanwhile(t *testing.T) {
	h := newHarness(t)
	h.run()
	now := h.clock.Now()
	hold := holdCompaction(t, h.store, compactCopying)
	done := h.compactInBackground()
	hold.wait(t, compactCopying)
	within(t, "Accept", h.acceptNow(patronText("m.1", "one", now), patronText("m.2", "two", now.Add(time.Millisecond))))
	// What that POST's commit left, written past the held writes (the
	// compaction does not copy before release).
	err := h.store.db.Update(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		return tx.Bolt().Bucket(store.BucketSeen).Put([]byte("m:m.1"), store.U64(uint64(now.UnixNano())))
	})
	if err != nil {
		t.Fatal(err)
	}
	hold.release(compactCopying)
	if err := waitChan(t, "the compaction", done); err != nil {
		t.Fatal(err)
	}
	h.settle(t)
	checkRelayed(t, h.relayed(), map[string]string{testPSID: "two"})
}

// Once the compaction has switched files, writes go on while the spill is
// moved into the store, and webhook events still go to the spill, behind
// the earlier ones, until the last have moved.
func TestSpillKeepsOrderWhileMoved(t *testing.T) {
	h := newHarness(t)
	h.run()
	now := h.clock.Now()
	hold := holdCompaction(t, h.store, compactCopying, compactSwitched)
	done := h.compactInBackground()
	hold.wait(t, compactCopying)
	within(t, "Accept", h.acceptNow(patronText("m.1", "one", now)))
	hold.release(compactCopying)
	hold.wait(t, compactSwitched)
	within(t, "Accept", h.acceptNow(patronText("m.2", "two", now.Add(time.Millisecond))))
	within(t, "a write", func() error {
		return h.store.update(func(tx *store.Tx) error { return tx.Bolt().Bucket(store.BucketMeta).Put([]byte("probe"), []byte{1}) })
	})
	if got := h.relayed(); len(got[testPSID]) != 0 {
		t.Fatalf("relayed before the spill moved: %q", got)
	}
	hold.release(compactSwitched)
	if err := waitChan(t, "the compaction", done); err != nil {
		t.Fatal(err)
	}
	h.accept(patronText("m.3", "three", now.Add(2*time.Millisecond)))
	h.settle(t)
	checkRelayed(t, h.relayed(), map[string]string{testPSID: "one,two,three"})
}
