package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// The XMPP outbox has one owner: the goroutine running xmppQueue.run. It
// alone holds the delivery state (what waits, what is written and not yet
// confirmed, what a Sync covers, what a commit is removing) and changes it
// only on events posted to its mailbox:
//
//   - entries committed: every transaction that queues stanzas
//     (xmppQueue.enqueue) hands its entries over in memory, in one event,
//     once it commits, so the owner never reads back what was just
//     written;
//   - the outbox changed otherwise (conversations handed back, a patron
//     forgotten): the owner reads it again;
//   - the link went down, with the link's new epoch;
//   - a Sync answered, a removal committed, or the poison suspects
//     recorded: the waits that run beside the owner and post their
//     outcome.
//
// The owner writes due entries oldest first, up to xmppBatch with one
// flush, without waiting for their confirmation (up to maxInflight in
// flight). A Sync (a ping through the server, answered once the server
// routed everything before it) then covers everything written meanwhile,
// and one commit removes those entries and marks their ledger records
// sent. When the link goes down or a Sync fails, everything written and
// not confirmed is put back among the waiting entries, in key order, so
// the next link gets it again from the oldest, with the same stanza ids:
// delivery is at least once, and stanzas never overtake each other.

const (
	// xmppBatch bounds how many stanzas one write sends.
	xmppBatch = 256
	// maxInflight bounds the stanzas written and not yet confirmed.
	maxInflight = 4096
	// xmppHeld bounds the entries the owner keeps in memory. Beyond it (a
	// long outage's backlog) the outbox is read from the store as the
	// held entries drain.
	xmppHeld = 2 * maxInflight
)

// xmppItem is an outbox entry held by the owner.
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
	// probation, with nothing else in flight (see
	// poison.go); failures, how many link failures it was written before,
	// when it is parked for them.
	written  time.Time
	alone    bool
	failures int
	// state is where the owner holds it.
	state itemState
}

// itemState is where the owner holds an entry.
type itemState uint8

const (
	stWaiting  itemState = iota // not written, or to be written again
	stWritten                   // written; no Sync covers it yet
	stSyncing                   // covered by the Sync in flight
	stRemoving                  // confirmed; its removal is being committed
)

// skipped reports whether the item was not written: unsendable, or to be
// parked.
func (it *xmppItem) skipped() bool { return it.bad || it.park != "" }

// xmppEventKind tells what an event posted to the owner says.
type xmppEventKind uint8

const (
	evCommitted xmppEventKind = iota // items were committed to the outbox
	evReload                         // the outbox changed otherwise
	evLinkDown                       // the link went down; epoch is the new one
	evSynced                         // the Sync of generation gen answered err
	evRemoved                        // the removal of items committed (err nil) or failed
	evSaved                          // the suspicion commit committed (err nil) or failed
)

// xmppEvent is one event in the owner's mailbox.
type xmppEvent struct {
	kind  xmppEventKind
	items []*xmppItem
	epoch uint64
	gen   uint64
	err   error
}

// mailboxCap bounds the committed entries waiting in the mailbox; past it
// (nobody runs the owner, or it is far behind) they are dropped and the
// owner reads the outbox again instead.
const mailboxCap = xmppHeld

// xmppQueue owns the XMPP outbox's delivery (see the comment above).
type xmppQueue struct {
	b *Bridge

	box mailbox[xmppEvent]

	// gate orders writes against link failures: linkDown bumps epoch
	// while holding it, and the owner holds it while writing, so that no
	// batch chosen before a link went down is written on the next link
	// ahead of what the old one lost.
	gate  sync.Mutex
	epoch atomic.Uint64

	// handing collects the entries queued by the write transaction in
	// progress (bbolt runs one at a time), for enqueue.
	handMu  sync.Mutex
	handing *handOver

	// For the metrics.
	figures ownerFigures

	// Owned by the goroutine in run.
	own xmppOwned
}

// xmppOwned is the state only the owner touches.
type xmppOwned struct {
	// held has every entry the owner holds, by key; waiting those in
	// state stWaiting, in key order; written those in stWritten, in the
	// order they were written; syncing those covered by the Sync of
	// generation gen, when busy.
	held    map[string]*xmppItem
	waiting []*xmppItem
	written []*xmppItem
	syncing []*xmppItem
	gen     uint64
	busy    bool
	// removing counts removal commits in flight.
	removing int
	// epoch is the link epoch the owner last saw go down.
	epoch uint64
	// all is true when held is the whole outbox; seq then puts the
	// entries handed over back in commit order.
	all    bool
	seq    sequencer[*xmppItem]
	reload bool
	// pauseUntil holds writing back after the store failed to commit a
	// removal.
	pauseUntil time.Time
	// suspects holds the keys of entries lost with a link that failed
	// right after they were written, strikes how often each, written
	// alone, was followed by another such failure (see poison.go);
	// poisonWindow is what "right after" means.
	suspects     map[string]struct{}
	strikes      map[string]int
	poisonWindow time.Duration
	// unsaved holds the keys whose suspicion changed since it was last
	// recorded in the store; inSave what the suspicion commit in flight
	// (saving) records; saveAfter holds the next one back after the store
	// failed one.
	unsaved   map[string]struct{}
	inSave    map[string]suspicion
	saving    bool
	saveAfter time.Time
	// waits runs the Syncs, removal and suspicion commits.
	waits sync.WaitGroup
}

func newXMPPQueue(b *Bridge) *xmppQueue {
	q := &xmppQueue{b: b, box: newMailbox(mailboxCap, xmppEvent{kind: evReload})}
	q.own = xmppOwned{held: map[string]*xmppItem{},
		suspects: map[string]struct{}{}, strikes: map[string]int{}, poisonWindow: poisonWindow,
		unsaved: map[string]struct{}{}, reload: true}
	return q
}

// post adds an event to the mailbox and wakes the owner.
func (q *xmppQueue) post(ev xmppEvent) {
	n := 0
	if ev.kind == evCommitted {
		n = len(ev.items)
	}
	q.box.post(ev, n)
}

// take empties the mailbox.
func (q *xmppQueue) take() []xmppEvent { return q.box.take() }

// enqueue puts e at the end of the outbox in tx and, once tx commits,
// hands it to the owner, with everything else tx queued in one event: the
// owner takes a transaction's entries together (a new session's presence
// and its first message, the presences announced at link-up), writes them
// in one batch and removes them in one commit, instead of catching the
// first alone and writing the rest behind it. q may be nil (a store
// written without a bridge).
func (q *xmppQueue) enqueue(tx *store.Tx, e xmppEntry) error {
	k, err := tx.XMPPOutbox().Add(&e)
	if err != nil {
		return err
	}
	if q == nil {
		return nil
	}
	it := &xmppItem{key: k, entry: e}
	q.handMu.Lock()
	defer q.handMu.Unlock()
	if h := q.handing; h != nil && h.tx.Same(tx) {
		h.items = append(h.items, it)
		return nil
	}
	// tx's first entry. A hand-over left from a transaction that rolled
	// back (its hook never runs) is dropped here.
	h := &handOver{tx: tx, items: []*xmppItem{it}}
	q.handing = h
	tx.OnCommit(func() {
		q.handMu.Lock()
		items := h.items
		if q.handing == h {
			q.handing = nil
		}
		q.handMu.Unlock()
		q.post(xmppEvent{kind: evCommitted, items: items})
	})
	return nil
}

// handOver is what one write transaction queued, handed to the owner
// once it commits.
type handOver struct {
	tx    *store.Tx
	items []*xmppItem
}

// changed tells the owner, once tx commits, that tx changed the outbox
// other than by enqueue.
func (q *xmppQueue) changed(tx *store.Tx) {
	tx.OnCommit(func() { q.post(xmppEvent{kind: evReload}) })
}

// linkDown makes everything written so far unconfirmable: it is written
// again, from the oldest entry, on the next link. Called by the link's
// goroutine before the next link comes up.
func (q *xmppQueue) linkDown() {
	q.gate.Lock()
	e := q.epoch.Add(1)
	q.post(xmppEvent{kind: evLinkDown, epoch: e})
	q.gate.Unlock()
}

// run owns the outbox until ctx is done, writing while the link is up;
// then it waits for its Sync and commits, and confirms what it wrote
// once more, so that a clean stop leaves nothing to write twice.
func (q *xmppQueue) run(ctx context.Context, link Link) {
	o := &q.own
	defer q.finish(link)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for _, ev := range q.take() {
			q.apply(ev)
		}
		if o.reload || o.seq.overdue(time.Now()) ||
			!o.all && len(o.waiting) < xmppHeld/4 {
			if err := q.load(); err != nil {
				q.b.log.Error("reading the XMPP outbox", zap.Error(err))
			}
		}
		due := q.step(link)
		q.saveSuspicion()
		q.publish()
		idle := 30 * time.Second
		if !due.IsZero() {
			idle = min(idle, max(time.Until(due), time.Millisecond))
		}
		if o.seq.gap() || o.reload {
			idle = min(idle, gapWait/4)
		}
		if d := time.Until(o.pauseUntil); d > 0 {
			idle = min(idle, d)
		}
		if d := time.Until(o.saveAfter); len(o.unsaved) > 0 && d > 0 {
			idle = min(idle, d)
		}
		timer.Reset(idle)
		select {
		case <-ctx.Done():
			return
		case <-q.box.wake:
		case <-q.b.xmppReady:
		case <-timer.C:
		}
	}
}

// apply changes the owner's state by one event.
func (q *xmppQueue) apply(ev xmppEvent) {
	o := &q.own
	switch ev.kind {
	case evCommitted:
		for _, it := range ev.items {
			q.committed(it)
		}
	case evReload:
		o.reload = true
	case evLinkDown:
		o.epoch = ev.epoch
		// Nothing written on the lost link counts as routed any more.
		lost := append(o.syncing, o.written...)
		q.lost(lost)
		q.rewind(lost)
		o.written, o.syncing = nil, nil
		o.gen++ // the Sync in flight, if any, confirms nothing now
	case evSynced:
		if ev.gen != o.gen {
			o.busy = false
			return
		}
		items := o.syncing
		o.syncing, o.busy = nil, false
		if ev.err != nil {
			// What it covered, and everything written after, is written
			// again, from the oldest.
			q.b.log.Debug("stanzas will be written again", zap.Int("n", len(items)), zap.Error(ev.err))
			q.lost(items)
			q.rewind(append(items, o.written...))
			o.written = nil
			signal(q.b.xmppReady)
			return
		}
		q.remove(items)
	case evRemoved:
		o.removing--
		if ev.err != nil {
			q.b.log.Error("removing confirmed stanzas from the outbox; they will be written again", zap.Error(ev.err))
			o.pauseUntil = time.Now().Add(time.Second) // not a tight loop of rewrites while the store fails
			q.rewind(ev.items)
			return
		}
		q.done(ev.items)
	case evSaved:
		q.saved(ev.err)
	}
}

// committed takes an entry committed to the outbox.
func (q *xmppQueue) committed(it *xmppItem) {
	o := &q.own
	if _, ok := o.held[string(it.key)]; ok || !o.all {
		return // read with the outbox already, or to be read with it
	}
	ready, stale := o.seq.admit(binary.BigEndian.Uint64(it.key), it, time.Now())
	if stale {
		// Below what the owner read, yet not held: the outbox changed
		// meanwhile (a forget crossing this hand-over). The store says
		// what is left.
		o.reload = true
	}
	for _, it := range ready {
		q.hold(it)
	}
	if len(o.held) > xmppHeld {
		q.shed()
	}
}

// hold adds an entry to the waiting ones, in key order.
func (q *xmppQueue) hold(it *xmppItem) {
	o := &q.own
	it.state = stWaiting
	o.held[string(it.key)] = it
	o.waiting = insertByKey(o.waiting, it)
}

// insertByKey inserts it into list, kept in key order; usually at the end.
func insertByKey(list []*xmppItem, it *xmppItem) []*xmppItem {
	i := len(list)
	for i > 0 && bytes.Compare(list[i-1].key, it.key) > 0 {
		i--
	}
	return slices.Insert(list, i, it)
}

// shed lets go of the newest waiting entries past xmppHeld: they stay in
// the store, read again as the others drain.
func (q *xmppQueue) shed() {
	o := &q.own
	n := len(o.held) - xmppHeld
	if n <= 0 || n > len(o.waiting) {
		return
	}
	for _, it := range o.waiting[len(o.waiting)-n:] {
		delete(o.held, string(it.key))
	}
	o.waiting = o.waiting[:len(o.waiting)-n]
	o.all = false
	o.seq.reset(0)
}

// rewind puts written entries back among the waiting ones, in key order.
func (q *xmppQueue) rewind(items []*xmppItem) {
	o := &q.own
	n := len(o.waiting)
	for _, it := range items {
		if _, ok := o.held[string(it.key)]; !ok || it.state == stWaiting {
			continue // parked meanwhile
		}
		// Parked by a commit that did not happen: judged again when
		// written again.
		it.park = ""
		it.state = stWaiting
		o.waiting = append(o.waiting, it)
	}
	if len(o.waiting) > n {
		slices.SortFunc(o.waiting, func(a, b *xmppItem) int { return bytes.Compare(a.key, b.key) })
	}
}

// lost notes that items, written and not confirmed, were lost with the
// link (or not confirmed by it), and parks those that keep closing the
// stream (poison.go).
func (q *xmppQueue) lost(items []*xmppItem) {
	if poison := q.noteFailure(items, time.Now()); len(poison) > 0 {
		q.parkPoison(poison)
	}
}

// load reads the outbox again: the waiting entries are replaced by what
// the store holds beside those in flight, up to xmppHeld.
func (q *xmppQueue) load() error {
	o := &q.own
	var waiting []*xmppItem
	all, next := true, uint64(0)
	var recorded map[string]suspicion
	var stale []string
	err := q.b.store.view(func(tx *store.Tx) error {
		out := tx.XMPPOutbox()
		recorded, stale = out.Suspicions()
		next = out.Sequence() + 1
		inflight := len(o.held) - len(o.waiting)
		return out.Scan(func(k []byte, e *xmppEntry, err error) (bool, error) {
			if it, ok := o.held[string(k)]; ok && it.state != stWaiting {
				return true, nil
			}
			if len(waiting)+inflight >= xmppHeld {
				all = false
				return false, nil
			}
			if errors.Is(err, store.ErrKeyGone) {
				q.b.log.Error("XMPP outbox entry kept: its queue key is missing", zap.Error(err))
				return true, nil
			}
			it := &xmppItem{key: bytes.Clone(k), entry: *e}
			if err != nil || it.entry.Msg.ID == "" {
				q.b.log.Error("unreadable XMPP outbox entry removed", zap.Error(err))
				it.bad = true
			}
			waiting = append(waiting, it)
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("bridge: reading XMPP outbox: %w", err)
	}
	for _, it := range o.waiting {
		delete(o.held, string(it.key))
	}
	for _, it := range waiting {
		it.state = stWaiting
		o.held[string(it.key)] = it
	}
	o.waiting, o.all, o.reload = waiting, all, false
	o.seq.reset(next)
	q.resumeSuspicion(recorded, stale)
	return nil
}

// inflight counts the entries written and not yet removed.
func (q *xmppQueue) inflight() int { return len(q.own.held) - len(q.own.waiting) }

// step writes one batch of due entries, if the link is up and room is
// left, and asks for a Sync of what was written. It returns when the
// earliest retry it skipped falls due (zero if none).
func (q *xmppQueue) step(link Link) time.Time {
	o := &q.own
	due := time.Time{}
	if link.Connected() && time.Now().After(o.pauseUntil) {
		due = q.write(link)
	}
	if !o.busy && len(o.written) > 0 {
		q.sync(link)
	}
	return due
}

// write writes up to xmppBatch due waiting entries (one at a time, each
// confirmed before the next, while on probation), oldest first.
func (q *xmppQueue) write(link Link) time.Time {
	o := &q.own
	now := time.Now()
	limit := min(xmppBatch, maxInflight-q.inflight())
	probation := q.onProbation()
	if probation {
		limit = 0
		if q.inflight() == 0 {
			limit = 1
		}
	}
	var due time.Time
	var items []*xmppItem
	for _, it := range o.waiting {
		if len(items) >= limit {
			break
		}
		if !it.bad && now.Before(it.entry.NotBefore) {
			if due.IsZero() || it.entry.NotBefore.Before(due) {
				due = it.entry.NotBefore
			}
			continue // a retry that is not due yet
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return due
	}
	var stanzas []xmpp.Stanza
	var sending []int // index in items of each stanza
	for i, it := range items {
		if it.bad {
			continue
		}
		// Remembered before it is written: the server can bounce it before
		// the write even returns.
		q.b.recent.add(it.entry, now)
		if it.entry.Presence != nil {
			stanzas = append(stanzas, *it.entry.Presence)
		} else {
			stanzas = append(stanzas, it.entry.Msg)
		}
		sending = append(sending, i)
	}
	if len(stanzas) > 0 {
		q.gate.Lock()
		if q.epoch.Load() != o.epoch {
			// The link went down since: its event comes first.
			q.gate.Unlock()
			signal(q.box.wake)
			return due
		}
		invalid, err := link.SendBatch(stanzas)
		q.gate.Unlock()
		if err != nil {
			if errors.Is(err, xmpp.ErrWriteFailed) {
				// The server may have closed the stream over one of them
				// (a stanza too large for it, cut off mid-write).
				var tried []*xmppItem
				for i, at := range sending {
					if invalid == nil || invalid[i] == nil {
						tried = append(tried, items[at])
					}
				}
				q.writeFailed(tried, probation)
			}
			q.b.log.Debug("XMPP outbox waits", zap.Int("stanzas", len(stanzas)), zap.Error(err))
			return due
		}
		for i, err := range invalid {
			it := items[sending[i]]
			switch {
			case err == nil:
			case errors.Is(err, xmpp.ErrTooLarge):
				// Written, it would make the server close the stream.
				q.b.log.Error("stanza too large to send; parked", zap.String("id", it.entry.Msg.ID), zap.Error(err))
				it.park = reasonTooLarge
			default:
				// It can never be sent; waiting would block the outbox.
				q.b.log.Error("stanza cannot be sent; removed from the outbox", zap.String("id", it.entry.Msg.ID), zap.Error(err))
				it.bad = true
			}
		}
	}
	written := time.Now()
	for _, it := range items {
		it.written, it.alone, it.state = written, probation, stWritten
	}
	o.written = append(o.written, items...)
	o.waiting = slices.DeleteFunc(o.waiting, func(it *xmppItem) bool { return it.state == stWritten })
	return due
}

// sync asks the Jabber server, beside the owner, whether it routed what
// was written; the answer comes back as an evSynced event.
func (q *xmppQueue) sync(link Link) {
	o := &q.own
	o.syncing, o.written = o.written, nil
	for _, it := range o.syncing {
		it.state = stSyncing
	}
	o.busy = true
	gen, epoch := o.gen, o.epoch
	sent := 0
	for _, it := range o.syncing {
		if !it.skipped() {
			sent++
		}
	}
	if sent == 0 {
		q.post(xmppEvent{kind: evSynced, gen: gen}) // nothing to ask about
		return
	}
	o.waits.Add(1)
	go func() {
		defer o.waits.Done()
		err := link.Sync()
		switch {
		case err != nil:
			err = fmt.Errorf("bridge: the Jabber server did not confirm %d stanzas: %w", sent, err)
		case q.epoch.Load() != epoch:
			err = errRewound // the Sync may have crossed a new link
		}
		q.post(xmppEvent{kind: evSynced, gen: gen, err: err})
	}()
}

var errRewound = errors.New("written on a link that went down")

// remove commits, beside the owner, the removal of confirmed entries; the
// outcome comes back as an evRemoved event.
func (q *xmppQueue) remove(items []*xmppItem) {
	o := &q.own
	for _, it := range items {
		it.state = stRemoving
	}
	o.removing++
	o.waits.Add(1)
	go func() {
		defer o.waits.Done()
		err := q.b.store.batch(func(tx *store.Tx) error { return q.b.removeSent(tx, items) })
		q.post(xmppEvent{kind: evRemoved, items: items, err: err})
	}()
}

// done lets go of entries whose removal committed.
func (q *xmppQueue) done(items []*xmppItem) {
	o := &q.own
	for _, it := range items {
		delete(o.held, string(it.key))
	}
	q.noteConfirmed(items)
	crashpoint.Hit(crashpoint.AfterXMPPCommit)
	for _, it := range items {
		if !it.skipped() && it.entry.Presence == nil {
			q.b.metrics.relayed.WithLabelValues("to_xmpp").Inc()
		}
	}
}

// publish makes the depth and the oldest entry's age known to the
// metrics.
func (q *xmppQueue) publish() {
	o := &q.own
	var oldest time.Time
	for _, it := range o.held {
		if t := it.entry.Queued; !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	q.figures.publish(len(o.held), oldest, o.all && !o.reload)
}

// finish ends run: it waits for the Sync and commits in flight, then
// confirms and removes what is still written, while the link lasts, and
// records the poison suspects as they are then.
func (q *xmppQueue) finish(link Link) {
	o := &q.own
	q.drainWaits()
	if len(o.written) > 0 && link.Connected() {
		q.sync(link)
		q.drainWaits()
	}
	o.waits.Wait()
	q.figures.complete.Store(false) // the store alone knows from now on
}

// drainWaits applies the mailbox's events until no Sync, removal or
// suspicion commit is in flight, recording the suspicion they change.
func (q *xmppQueue) drainWaits() {
	o := &q.own
	for q.saveSuspicion(); o.busy || o.removing > 0 || o.saving; q.saveSuspicion() {
		<-q.box.wake
		for _, ev := range q.take() {
			q.apply(ev)
		}
	}
}

// removeSent removes confirmed (or unsendable) entries from the outbox and
// records their delivery state in the ledger; it parks those to be parked.
func (b *Bridge) removeSent(tx *store.Tx, items []*xmppItem) error {
	out := tx.XMPPOutbox()
	for _, it := range items {
		if it.park != "" {
			if err := b.park(tx, it); err != nil {
				return err
			}
			continue
		}
		if err := out.Remove(it.key); err != nil {
			return err
		}
		err := tx.Ledger().Update(it.entry.Ledger, func(r *Record) {
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
