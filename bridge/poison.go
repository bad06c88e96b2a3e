package bridge

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge/store"
)

// A poison entry is an XMPP outbox entry the Jabber server answers by
// closing the stream, every time: a stanza over the server's size limit
// (xmpp.max_stanza_bytes set above it), or anything else the server takes
// for a policy violation. Written again after every reconnect, it would
// keep the link flapping and every later entry waiting behind it.
//
// The drain finds it so. When the link fails shortly (poisonWindow) after
// entries were written and before they were confirmed, those entries
// become suspects, and the writer goes on probation: it writes one entry
// at a time, each confirmed before the next. A suspect written alone that
// is followed by another such failure gets a strike; poisonStrikes strikes
// in a row park it in the dead-letter bucket (deadletter.go), and the
// others go on. A suspect confirmed is cleared; probation ends when no
// suspect is left in the outbox.
//
// The suspicion survives a restart (a daemon restarted after each close
// would otherwise never park the entry): the owner records each
// suspect's strikes in the suspect_xmpp bucket, keyed by the outbox key,
// in a small commit of its own beside it (saveSuspicion); the commit that
// takes an entry out of the outbox (confirmed, parked, forgotten, handed
// back) clears its record; and loading the outbox reads the records of
// the entries it holds, so probation resumes where it was.

const (
	// poisonWindow is how soon after an entry was written a link failure
	// counts against it. A stream the server closes over a stanza closes at
	// once; a frozen server is noticed only after keepalive timeouts.
	poisonWindow = 5 * time.Second
	// poisonStrikes is how many failures right after an entry written
	// alone park it (after the failure that made it a suspect).
	poisonStrikes = 2
)

// suspicion is what the owner holds against an entry (store.Suspicion).
type suspicion = store.Suspicion

// suspicionOf is what the owner holds against the entry with key k.
func (o *xmppOwned) suspicionOf(k string) suspicion {
	_, suspect := o.suspects[k]
	return suspicion{Suspect: suspect, Strikes: o.strikes[k]}
}

// onProbation reports whether suspects are left in the outbox, forgetting
// those the owner no longer holds (confirmed, parked, forgotten: the
// commit that took them out of the outbox cleared their records).
func (q *xmppQueue) onProbation() bool {
	o := &q.own
	for k := range o.suspects {
		if _, ok := o.held[k]; !ok {
			delete(o.suspects, k)
			delete(o.strikes, k)
			delete(o.unsaved, k)
		}
	}
	return len(o.suspects) > 0
}

// noteFailure records that items, written and not confirmed, were lost
// with the link at now. It returns the entries to park.
func (q *xmppQueue) noteFailure(items []*xmppItem, now time.Time) []*xmppItem {
	o := &q.own
	var recent []*xmppItem
	for _, it := range items {
		if !it.skipped() && now.Sub(it.written) <= o.poisonWindow {
			recent = append(recent, it)
		}
	}
	if len(recent) == 1 && recent[0].alone {
		k := string(recent[0].key)
		o.strikes[k]++
		o.unsaved[k] = struct{}{}
		if o.strikes[k] < poisonStrikes {
			return nil
		}
		// Its suspicion goes once it is parked (parkPoison): if the
		// commit fails, the next failure parks it.
		recent[0].failures = o.strikes[k] + 1
		recent[0].park = reasonStreamClosed
		return recent
	}
	for _, it := range recent {
		k := string(it.key)
		if _, ok := o.suspects[k]; !ok {
			o.suspects[k] = struct{}{}
			o.unsaved[k] = struct{}{}
		}
	}
	return nil
}

// writeFailed records that writing items failed part way, as a link
// failure right after writing them.
func (q *xmppQueue) writeFailed(items []*xmppItem, alone bool) {
	now := time.Now()
	for _, it := range items {
		it.written, it.alone = now, alone
	}
	q.lost(items)
}

// noteConfirmed clears the confirmed items of suspicion.
func (q *xmppQueue) noteConfirmed(items []*xmppItem) {
	o := &q.own
	if len(o.suspects) == 0 && len(o.strikes) == 0 {
		return
	}
	for _, it := range items {
		// The commit that removed it cleared its record.
		delete(o.suspects, string(it.key))
		delete(o.strikes, string(it.key))
		delete(o.unsaved, string(it.key))
	}
}

// parkPoison parks entries that kept closing the stream, and lets go of
// them.
func (q *xmppQueue) parkPoison(items []*xmppItem) {
	b := q.b
	err := b.store.update(func(tx *store.Tx) error {
		for _, it := range items {
			if err := b.park(tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.log.Error("parking an entry that keeps closing the stream; it will be written again", zap.Error(err))
		for _, it := range items {
			it.park = ""
		}
		return
	}
	o := &q.own
	for _, it := range items {
		// park cleared its record.
		k := string(it.key)
		delete(o.held, k)
		delete(o.suspects, k)
		delete(o.strikes, k)
		delete(o.unsaved, k)
	}
	o.waiting = slices.DeleteFunc(o.waiting, func(it *xmppItem) bool { _, ok := o.held[string(it.key)]; return !ok })
}

// saveSuspicion commits, beside the owner, the suspicion that changed
// since the last such commit (one at a time); the outcome comes back as
// an evSaved event.
func (q *xmppQueue) saveSuspicion() {
	o := &q.own
	if o.saving || len(o.unsaved) == 0 || time.Now().Before(o.saveAfter) {
		return
	}
	todo := make(map[string]suspicion, len(o.unsaved))
	for k := range o.unsaved {
		todo[k] = o.suspicionOf(k)
	}
	clear(o.unsaved)
	o.saving, o.inSave = true, todo
	o.waits.Add(1)
	go func() {
		defer o.waits.Done()
		err := q.b.store.batch(func(tx *store.Tx) error { return putSuspicion(tx, todo) })
		if err != nil {
			err = fmt.Errorf("bridge: recording %d poison suspects: %w", len(todo), err)
		}
		q.post(xmppEvent{kind: evSaved, err: err})
	}()
}

// saved takes the outcome of the suspicion commit in flight: after a
// failure, what it held is committed again a second later.
func (q *xmppQueue) saved(err error) {
	o := &q.own
	if err != nil {
		q.b.log.Error("recording the XMPP outbox entries suspected of closing the stream; "+
			"a restart meanwhile would forget them", zap.Error(err))
		for k := range o.inSave {
			o.unsaved[k] = struct{}{}
		}
		o.saveAfter = time.Now().Add(time.Second)
	}
	o.saving, o.inSave = false, nil
}

// putSuspicion records in tx the suspicion of entries, by outbox key.
func putSuspicion(tx *store.Tx, todo map[string]suspicion) error {
	out := tx.XMPPOutbox()
	for _, k := range slices.Sorted(maps.Keys(todo)) {
		if err := out.SetSuspicion([]byte(k), todo[k]); err != nil {
			return err
		}
	}
	return nil
}

// resumeSuspicion takes the suspicion recorded for the entries the owner
// holds and knows nothing against (after a restart: all of them), and
// has the stale records removed.
func (q *xmppQueue) resumeSuspicion(recorded map[string]suspicion, stale []string) {
	o := &q.own
	n := 0
	for k, s := range recorded {
		if _, ok := o.held[k]; !ok || o.suspicionOf(k) != (suspicion{}) {
			continue
		}
		if s.Suspect {
			o.suspects[k] = struct{}{}
			n++
		}
		if s.Strikes > 0 {
			o.strikes[k] = s.Strikes
		}
	}
	for _, k := range stale {
		o.unsaved[k] = struct{}{} // nothing held against it: its record goes
	}
	if n > 0 {
		q.b.log.Info("XMPP outbox entries suspected of closing the stream, as recorded: writing one at a time",
			zap.Int("suspects", n))
	}
}
