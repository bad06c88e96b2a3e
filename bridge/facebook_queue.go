package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge/store"
)

// The Send API outbox has one owner: the goroutine running fbQueue.run.
// It alone knows which conversations have replies waiting and which entry
// of each is being sent, and changes that only on events posted to its
// mailbox:
//
//   - entries committed: every transaction that queues a reply
//     (fbQueue.enqueue) hands the entry over in memory once it commits;
//   - the outbox changed otherwise (a patron forgotten): the owner reads
//     it again;
//   - an entry finished: its sender removed it (delivered, or refused for
//     good), or could not record the outcome and leaves it to be sent
//     again.
//
// For each conversation with replies waiting, the owner runs one sender,
// for the oldest entry, and the next only once that one finished: a
// patron gets a conversation's replies in order, and conversations never
// wait for each other (but for Facebook's rate limits, which the throttle
// applies per Page and app).

// fbHeld bounds the entries the owner keeps in memory. Beyond it (a long
// outage of the Send API with many librarians answering) the outbox is
// read from the store as the held entries drain.
const fbHeld = 8192

// fbItem is a Send API outbox entry held by the owner.
type fbItem struct {
	key   []byte
	psid  string
	entry fbEntry
	// bad means the entry could not be read: it is removed, unsent.
	bad bool
}

// fbConv is a conversation with replies waiting: its entries in key
// order; sending, that a sender has the first; notBefore holds the next
// sender back after a finish that could not be recorded.
type fbConv struct {
	items     []*fbItem
	sending   bool
	notBefore time.Time
	// blocked: an entry whose queue key is missing stops the
	// conversation's later replies, which wait behind it in order.
	blocked bool
}

// fbEventKind tells what an event posted to the owner says.
type fbEventKind uint8

const (
	fbCommitted fbEventKind = iota // items were committed to the outbox
	fbReload                       // the outbox changed otherwise
	fbFinished                     // the sender of item is done with it
)

// fbEvent is one event in the owner's mailbox.
type fbEvent struct {
	kind  fbEventKind
	items []*fbItem
	// removed tells, for fbFinished, that the item left the outbox.
	removed bool
}

// fbQueue owns the Send API outbox's delivery (see the comment above).
type fbQueue struct {
	b *Bridge

	box mailbox[fbEvent]

	// For the metrics; and for tests, how many conversations have
	// replies waiting.
	figures ownerFigures
	convs   atomic.Int64

	// Owned by the goroutine in run.
	own fbOwned
}

// fbOwned is the state only the owner touches.
type fbOwned struct {
	convs map[string]*fbConv
	held  int
	// all is true when convs holds the whole outbox; seq then puts the
	// entries handed over back in commit order.
	all    bool
	seq    sequencer[*fbItem]
	reload bool
	// retryAt holds the next read back after the store failed one.
	retryAt time.Time
}

func newFBQueue(b *Bridge) *fbQueue {
	return &fbQueue{b: b, box: newMailbox(fbHeld, fbEvent{kind: fbReload}), own: fbOwned{convs: map[string]*fbConv{}, reload: true}}
}

// post adds an event to the mailbox and wakes the owner.
func (q *fbQueue) post(ev fbEvent) {
	n := 0
	if ev.kind == fbCommitted {
		n = len(ev.items)
	}
	q.box.post(ev, n)
}

// take empties the mailbox.
func (q *fbQueue) take() []fbEvent { return q.box.take() }

// enqueue puts e at the end of the patron's replies in tx and, once tx
// commits, hands it to the owner. A nil q (a store written without a
// bridge) hands nothing over.
func (q *fbQueue) enqueue(tx *store.Tx, psid string, e *fbEntry) error {
	k, err := tx.FacebookOutbox().Add(psid, e)
	if err != nil {
		return err
	}
	if q != nil {
		it := &fbItem{key: k, psid: psid, entry: *e}
		tx.OnCommit(func() { q.post(fbEvent{kind: fbCommitted, items: []*fbItem{it}}) })
	}
	return nil
}

// changed tells the owner, once tx commits, that tx changed the outbox
// other than by enqueue.
func (q *fbQueue) changed(tx *store.Tx) {
	tx.OnCommit(func() { q.post(fbEvent{kind: fbReload}) })
}

// run owns the outbox until ctx is done. Senders still running finish
// their call (Run waits for them) and post to a mailbox nobody reads.
func (q *fbQueue) run(ctx context.Context) {
	o := &q.own
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for _, ev := range q.take() {
			q.apply(ev)
		}
		now := time.Now()
		if (o.reload || o.seq.overdue(now) || !o.all && o.held < fbHeld/4) && !now.Before(o.retryAt) {
			if err := q.load(); err != nil {
				q.b.log.Error("reading the Send API outbox", zap.Error(err))
				o.retryAt = now.Add(time.Second)
			}
		}
		due := q.dispatch(ctx, now)
		q.publish()
		idle := 30 * time.Second
		if !due.IsZero() {
			idle = min(idle, max(time.Until(due), time.Millisecond))
		}
		if o.seq.gap() || o.reload {
			idle = min(idle, gapWait/4)
		}
		timer.Reset(idle)
		select {
		case <-ctx.Done():
			return
		case <-q.box.wake:
		case <-timer.C:
		}
	}
}

// apply changes the owner's state by one event.
func (q *fbQueue) apply(ev fbEvent) {
	o := &q.own
	switch ev.kind {
	case fbCommitted:
		for _, it := range ev.items {
			q.committed(it)
		}
	case fbReload:
		o.reload = true
	case fbFinished:
		it := ev.items[0]
		c := o.convs[it.psid]
		if c == nil {
			return
		}
		c.sending = false
		i := slices.IndexFunc(c.items, func(x *fbItem) bool { return bytes.Equal(x.key, it.key) })
		switch {
		case i < 0:
		case !ev.removed:
			// Sent again, with what its sender recorded (its attempts),
			// not in a tight loop while the store fails.
			c.items[i] = it
			c.notBefore = time.Now().Add(time.Second)
			return
		default:
			c.items = slices.Delete(c.items, i, i+1)
			o.held--
		}
		if len(c.items) == 0 {
			delete(o.convs, it.psid)
		}
	}
}

// committed takes an entry committed to the outbox.
func (q *fbQueue) committed(it *fbItem) {
	o := &q.own
	if !o.all {
		return // to be read with the outbox
	}
	ready, stale := o.seq.admit(binary.BigEndian.Uint64(it.key[len(it.key)-8:]), it, time.Now())
	if stale {
		// Read with the outbox already, or the outbox changed meanwhile
		// (a forget crossing this hand-over): the store says what is left.
		o.reload = true
	}
	for _, it := range ready {
		if o.held >= fbHeld {
			o.all = false // the rest is read from the store as these drain
			return
		}
		c := o.convs[it.psid]
		if c == nil {
			c = &fbConv{}
			o.convs[it.psid] = c
		}
		c.items = append(c.items, it) // sequences grow: the conversation's last
		o.held++
	}
}

// load reads the outbox again, up to fbHeld entries: the entries held are
// replaced by what the store holds, but for those being sent.
func (q *fbQueue) load() error {
	o := &q.own
	convs := map[string]*fbConv{}
	held, all, next := 0, true, uint64(0)
	for psid, c := range o.convs {
		if c.sending {
			// Its sender finishes it, whatever the store says now.
			convs[psid] = &fbConv{items: c.items[:1], sending: true}
			held++
		}
	}
	err := q.b.store.view(func(tx *store.Tx) error {
		out := tx.FacebookOutbox()
		next = out.Sequence() + 1
		return out.Scan(func(k []byte, psid string, e *fbEntry, err error) (bool, error) {
			conv := convs[psid]
			if conv == nil {
				conv = &fbConv{notBefore: o.notBefore(psid)}
				convs[psid] = conv
			}
			if conv.blocked || conv.sending && bytes.Equal(conv.items[0].key, k) {
				return true, nil
			}
			if held >= fbHeld {
				all = false
				return false, nil
			}
			if errors.Is(err, store.ErrKeyGone) {
				q.b.log.Error("Send API outbox entry kept: its queue key is missing; the patron's later replies wait behind it", zap.Error(err))
				conv.blocked = true
				return true, nil
			}
			it := &fbItem{key: bytes.Clone(k), psid: psid, entry: *e}
			if err != nil {
				q.b.log.Error("unreadable Send API outbox entry; it is removed", zap.Error(err))
				it.bad = true
			}
			conv.items = append(conv.items, it)
			held++
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("bridge: reading Send API outbox: %w", err)
	}
	for psid, c := range convs {
		if len(c.items) == 0 {
			delete(convs, psid)
		}
	}
	o.convs, o.held, o.all, o.reload = convs, held, all, false
	o.seq.reset(next)
	return nil
}

// notBefore is when the conversation's next sender may start.
func (o *fbOwned) notBefore(psid string) time.Time {
	if c := o.convs[psid]; c != nil {
		return c.notBefore
	}
	return time.Time{}
}

// dispatch starts a sender for each conversation whose first entry has
// none, and returns when the next held back may start (zero if none).
func (q *fbQueue) dispatch(ctx context.Context, now time.Time) (due time.Time) {
	if ctx.Err() != nil {
		return time.Time{}
	}
	for _, c := range q.own.convs {
		if c.sending || len(c.items) == 0 {
			continue
		}
		if now.Before(c.notBefore) {
			if due.IsZero() || c.notBefore.Before(due) {
				due = c.notBefore
			}
			continue
		}
		it := c.items[0]
		if !q.b.background(func() { q.send(ctx, it) }) {
			return time.Time{} // the bridge is stopping
		}
		c.sending = true
	}
	return due
}

// send delivers one entry and posts that it finished. It runs beside the
// owner, on a copy of the entry, which the event hands back.
func (q *fbQueue) send(ctx context.Context, it *fbItem) {
	done := *it
	var removed bool
	if it.bad {
		err := q.b.store.update(func(tx *store.Tx) error { return tx.FacebookOutbox().Delete(it.key) })
		if err != nil {
			q.b.log.Error("removing an unreadable Send API outbox entry", zap.Error(err))
		}
		removed = err == nil
	} else {
		removed = q.b.sendFacebook(ctx, it.psid, it.key, &done.entry)
	}
	if ctx.Err() != nil && !removed {
		return // the owner is gone; the entry waits in the store
	}
	q.post(fbEvent{kind: fbFinished, items: []*fbItem{&done}, removed: removed})
}

// publish makes the owner's figures visible to the metrics and tests.
func (q *fbQueue) publish() {
	o := &q.own
	// A conversation's first entry is its oldest: the outbox's oldest is
	// the oldest of those.
	var oldest time.Time
	for _, c := range o.convs {
		if t := c.items[0].entry.Queued; !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	q.convs.Store(int64(len(o.convs)))
	q.figures.publish(o.held, oldest, o.all && !o.reload)
}
