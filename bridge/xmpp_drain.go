package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/xmpp"
)

// The XMPP outbox is drained by two loops. The writer writes due entries,
// oldest first, in batches (one flush each) without waiting for anything
// but the link. The confirmer asks the Jabber server, with Link.Sync,
// whether it has routed what was written, and only then removes those
// entries and marks their ledger records sent, in one commit for all the
// batches written meanwhile. So a patron message waits neither for the
// previous message's confirmation nor for its commit, and the outbox still
// forgets nothing the server may have lost: delivery is at least once,
// with the same stanza ids.
//
// When a confirmation fails (the link went down, or the server did not
// answer), everything written but unconfirmed is written again from the
// oldest entry, once the confirmer has given up on all of it, so that
// stanzas never overtake each other.

const (
	// xmppBatch bounds how many stanzas one write pass sends.
	xmppBatch = 256
	// maxInflight bounds the stanzas written and not yet confirmed.
	maxInflight = 4096
)

// xmppItem is an outbox entry read for writing.
type xmppItem struct {
	key   []byte
	entry xmppEntry
	// bad means the entry can never be sent: it is removed, its ledger
	// record marked failed.
	bad bool
	// park, when set, is why the entry is to be parked in the dead-letter
	// bucket instead of written (see deadletter.go).
	park string
	// written is when it was written; alone, that it was written on
	// probation, with nothing else in flight (see poison.go); failures, how
	// many link failures it was written before, when it is parked for them.
	written  time.Time
	alone    bool
	failures int
}

// skipped reports whether the item was not written: unsendable, or to be
// parked.
func (it *xmppItem) skipped() bool { return it.bad || it.park != "" }

// drainState is what the XMPP outbox's writer and confirmer share.
type drainState struct {
	mu sync.Mutex
	// inflight holds the outbox keys written (or found unsendable) whose
	// removal is not committed yet; the writer skips them.
	inflight map[string]struct{}
	// pending holds what was written, for the confirmer, in order.
	pending [][]xmppItem
	// rewind is set when something written was not confirmed: the writer
	// starts again from the oldest entry once nothing is in flight.
	rewind bool
	// wake wakes the confirmer; progress tells the writer it confirmed
	// or gave up on something.
	wake, progress chan struct{}
	// epoch counts the times the link went down. A confirmation counts
	// only if no link went down between taking what it confirms and its
	// Sync coming back: a Sync answered on a new link says nothing of
	// stanzas written on the old one.
	epoch uint64
	// writing is held by the writer from its scan to the end of its write,
	// and by linkDown, so that no batch scanned before a link went down is
	// written on the next link, ahead of what the old one lost.
	writing sync.Mutex
	// suspects holds the outbox keys of entries lost with a link that
	// failed right after they were written, strikes how often each, written
	// alone, was followed by another such failure (see poison.go);
	// poisonWindow is what "right after" means.
	suspects     map[string]struct{}
	strikes      map[string]int
	poisonWindow time.Duration
}

// linkDown makes everything written so far unconfirmable: it is written
// again, from the oldest entry, on the next link.
func (d *drainState) linkDown() {
	d.writing.Lock()
	d.mu.Lock()
	d.epoch++
	d.rewind = true
	d.mu.Unlock()
	d.writing.Unlock()
}

func newDrainState() *drainState {
	return &drainState{inflight: map[string]struct{}{},
		wake: make(chan struct{}, 1), progress: make(chan struct{}, 1),
		suspects: map[string]struct{}{}, strikes: map[string]int{}, poisonWindow: poisonWindow}
}

// xmppLoop drains the XMPP outbox whenever the link is up.
func (b *Bridge) xmppLoop(ctx context.Context, link Link) {
	d := b.drain
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		b.confirmLoop(stop, link, d)
	}()
	// The confirmer outlives the writer, to confirm its last batch.
	defer func() {
		close(stop)
		<-done
	}()
	for {
		if !link.Connected() {
			if !wait(ctx, b.xmppReady, time.Second) {
				return
			}
			continue
		}
		if settled, ok := d.settle(ctx); !ok {
			return
		} else if !settled {
			continue
		}
		n, due, err := b.writeXMPP(link, d)
		switch {
		case errors.Is(err, errRewinding):
			continue // settle waits for the confirmer to let go
		case errors.Is(err, errInflightFull):
			if !wait(ctx, d.progress, time.Second) {
				return
			}
			continue
		case err != nil:
			b.log.Debug("XMPP outbox waits", zap.Error(err))
			if !wait(ctx, b.xmppReady, time.Second) {
				return
			}
			continue
		}
		idle := 30 * time.Second
		if !due.IsZero() {
			idle = min(idle, max(time.Until(due), time.Millisecond))
		}
		if n == 0 && !wait(ctx, b.xmppReady, idle) {
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// settle reports whether the writer may write. After a failed
// confirmation it waits (false, until called again) for the confirmer to
// give up on everything in flight, then clears the rewind. ok is false
// when ctx is done.
func (d *drainState) settle(ctx context.Context) (settled, ok bool) {
	d.mu.Lock()
	if !d.rewind {
		d.mu.Unlock()
		return true, true
	}
	if len(d.pending) == 0 && len(d.inflight) == 0 {
		d.rewind = false
		d.mu.Unlock()
		return true, true
	}
	d.mu.Unlock()
	return false, wait(ctx, d.progress, time.Second)
}

var (
	errInflightFull = errors.New("bridge: too many stanzas await confirmation")
	errRewinding    = errors.New("bridge: stanzas in flight are to be written again first")
)

// maxScan bounds how many outbox entries one write pass looks at, retries
// that are not due yet included.
const maxScan = 4 * xmppBatch

// writeXMPP writes up to xmppBatch due entries that are not in flight and
// hands them to the confirmer. It returns how many it handled and when the
// earliest retry it skipped falls due (zero if none).
func (b *Bridge) writeXMPP(link Link, d *drainState) (int, time.Time, error) {
	d.writing.Lock()
	defer d.writing.Unlock()
	now := time.Now()
	var due time.Time
	var items []xmppItem
	// The scan runs under d.mu: an entry the confirmer removes is either
	// gone from this read transaction's view or still in inflight.
	d.mu.Lock()
	if d.rewind {
		d.mu.Unlock()
		return 0, time.Time{}, errRewinding
	}
	room := maxInflight - len(d.inflight)
	limit, probation := min(xmppBatch, room), false
	err := b.store.view(func(tx *bolt.Tx) error {
		out := tx.Bucket(bucketToXMPP)
		if d.onProbation(func(k []byte) bool { return out.Get(k) != nil }) {
			// One entry at a time, confirmed before the next, until the
			// one that closes the stream is found.
			probation, limit = true, 0
			if len(d.inflight) == 0 {
				limit = 1
			}
		}
		c := out.Cursor()
		scanned := 0
		for k, v := c.First(); k != nil && scanned < maxScan && len(items) < limit; k, v = c.Next() {
			if _, ok := d.inflight[string(k)]; ok {
				continue
			}
			scanned++
			it := xmppItem{key: append([]byte(nil), k...)}
			err := openJSON(tx, v, &it.entry)
			if errors.Is(err, errKeyGone) {
				b.log.Error("XMPP outbox entry kept: its queue key is missing", zap.Error(err))
				continue
			}
			if err != nil || it.entry.Msg.ID == "" {
				b.log.Error("unreadable XMPP outbox entry removed", zap.Error(err))
				it.bad = true
			} else if now.Before(it.entry.NotBefore) {
				if due.IsZero() || it.entry.NotBefore.Before(due) {
					due = it.entry.NotBefore
				}
				continue // a retry that is not due yet
			}
			items = append(items, it)
		}
		return nil
	})
	d.mu.Unlock()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bridge: reading XMPP outbox: %w", err)
	}
	if len(items) == 0 && limit <= 0 {
		return 0, time.Time{}, errInflightFull
	}
	var stanzas []xmpp.Stanza
	var sending []int // index in items of each stanza
	for i, it := range items {
		if it.bad {
			continue
		}
		// Remembered before it is written: the server can bounce it before
		// the write even returns.
		b.recent.add(it.entry, now)
		if it.entry.Presence != nil {
			stanzas = append(stanzas, *it.entry.Presence)
		} else {
			stanzas = append(stanzas, it.entry.Msg)
		}
		sending = append(sending, i)
	}
	if len(items) == 0 {
		return 0, due, nil
	}
	if len(stanzas) > 0 {
		invalid, err := link.SendBatch(stanzas)
		if err != nil {
			if errors.Is(err, xmpp.ErrWriteFailed) {
				// The server may have closed the stream over one of them
				// (a stanza too large for it, cut off mid-write).
				var tried []xmppItem
				for i, at := range sending {
					if invalid == nil || invalid[i] == nil {
						tried = append(tried, items[at])
					}
				}
				b.writeFailed(d, tried, probation)
			}
			return 0, due, fmt.Errorf("bridge: writing %d stanzas: %w", len(stanzas), err)
		}
		for i, err := range invalid {
			it := &items[sending[i]]
			switch {
			case err == nil:
			case errors.Is(err, xmpp.ErrTooLarge):
				// Written, it would make the server close the stream.
				b.log.Error("stanza too large to send; parked", zap.String("id", it.entry.Msg.ID), zap.Error(err))
				it.park = reasonTooLarge
			default:
				// It can never be sent; waiting would block the outbox.
				b.log.Error("stanza cannot be sent; removed from the outbox", zap.String("id", it.entry.Msg.ID), zap.Error(err))
				it.bad = true
			}
		}
	}
	written := time.Now()
	for i := range items {
		items[i].written, items[i].alone = written, probation
	}
	d.mu.Lock()
	for _, it := range items {
		d.inflight[string(it.key)] = struct{}{}
	}
	d.pending = append(d.pending, items)
	d.mu.Unlock()
	signal(d.wake)
	return len(items), due, nil
}

// confirmLoop confirms what the writer wrote until stop is closed (the
// writer has ended), and then once more.
func (b *Bridge) confirmLoop(stop <-chan struct{}, link Link, d *drainState) {
	for {
		select {
		case <-d.wake:
			b.confirmXMPP(link, d)
		case <-stop:
			b.confirmXMPP(link, d)
			return
		}
	}
}

var errRewound = errors.New("written after a stanza that was not confirmed")

// confirmXMPP takes everything written so far, waits until the Jabber
// server has routed it (Link.Sync), and then removes it from the outbox
// in one commit. What is not confirmed stays in the outbox and is written
// again, from the oldest entry.
func (b *Bridge) confirmXMPP(link Link, d *drainState) {
	d.mu.Lock()
	windows, rewind, epoch := d.pending, d.rewind, d.epoch
	d.pending = nil
	d.mu.Unlock()
	if len(windows) == 0 {
		return
	}
	var items []xmppItem
	written := 0
	for _, w := range windows {
		items = append(items, w...)
		for _, it := range w {
			if !it.skipped() {
				written++
			}
		}
	}
	var err error
	switch {
	case rewind:
		err = errRewound
	case written > 0:
		if err = link.Sync(); err != nil {
			err = fmt.Errorf("bridge: the Jabber server did not confirm %d stanzas: %w", written, err)
			break
		}
		d.mu.Lock()
		if d.epoch != epoch {
			err = errRewound // the Sync may have crossed a new link
		}
		d.mu.Unlock()
	}
	storeErr, linkFailed := false, err != nil
	if err == nil {
		err = b.store.batch(func(tx *bolt.Tx) error { return b.removeSent(tx, items) })
		storeErr = err != nil
	}
	if storeErr {
		b.log.Error("removing confirmed stanzas from the outbox; they will be written again", zap.Error(err))
		time.Sleep(time.Second) // not a tight loop of rewrites while the store fails
	}
	if linkFailed {
		// Parked before they leave inflight, as removals are: the writer
		// must not read them again meanwhile.
		if poison := d.noteFailure(items, time.Now()); len(poison) > 0 {
			b.parkPoison(poison)
		}
	} else if err == nil {
		d.noteConfirmed(items)
		b.parked(items)
	}
	d.mu.Lock()
	for _, it := range items {
		delete(d.inflight, string(it.key))
	}
	if err != nil {
		d.rewind = true
	}
	d.mu.Unlock()
	signal(d.progress)
	if err != nil {
		if !errors.Is(err, errRewound) && !storeErr {
			b.log.Debug("stanzas will be written again", zap.Int("n", written), zap.Error(err))
		}
		signal(b.xmppReady)
		return
	}
	crashpoint.Hit(crashpoint.AfterXMPPCommit)
	for _, it := range items {
		if !it.skipped() && it.entry.Presence == nil {
			b.metrics.relayed.WithLabelValues("to_xmpp").Inc()
		}
	}
}

// removeSent removes confirmed (or unsendable) entries from the outbox and
// records their delivery state in the ledger; it parks those to be parked.
func (b *Bridge) removeSent(tx *bolt.Tx, items []xmppItem) error {
	out := tx.Bucket(bucketToXMPP)
	for _, it := range items {
		if it.park != "" {
			if err := b.park(tx, it); err != nil {
				return err
			}
			continue
		}
		if err := out.Delete(it.key); err != nil {
			return fmt.Errorf("removing XMPP outbox entry: %w", err)
		}
		err := updateRecord(tx, it.entry.Ledger, func(r *Record) {
			switch {
			case it.bad:
				r.State = StateFailed
			case r.State == StateQueued:
				// Not when a bounce that beat the confirmation was
				// recorded meanwhile.
				r.State = StateSent
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}
