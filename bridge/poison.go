package bridge

import (
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
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

const (
	// poisonWindow is how soon after an entry was written a link failure
	// counts against it. A stream the server closes over a stanza closes at
	// once; a frozen server is noticed only after keepalive timeouts.
	poisonWindow = 5 * time.Second
	// poisonStrikes is how many failures right after an entry written
	// alone park it (after the failure that made it a suspect).
	poisonStrikes = 2
)

// onProbation reports whether suspects are left in the outbox, forgetting
// those the owner no longer holds (confirmed, parked, forgotten).
func (q *xmppQueue) onProbation() bool {
	o := &q.own
	for k := range o.suspects {
		if _, ok := o.held[k]; !ok {
			delete(o.suspects, k)
			delete(o.strikes, k)
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
		if o.strikes[k] < poisonStrikes {
			return nil
		}
		recent[0].failures = o.strikes[k] + 1
		recent[0].park = reasonStreamClosed
		delete(o.strikes, k)
		delete(o.suspects, k)
		return recent
	}
	for _, it := range recent {
		o.suspects[string(it.key)] = struct{}{}
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
		delete(o.suspects, string(it.key))
		delete(o.strikes, string(it.key))
	}
}

// parkPoison parks entries that kept closing the stream, and lets go of
// them.
func (q *xmppQueue) parkPoison(items []*xmppItem) {
	b := q.b
	err := b.store.update(func(tx *bolt.Tx) error {
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
		delete(o.held, string(it.key))
	}
	o.waiting = slices.DeleteFunc(o.waiting, func(it *xmppItem) bool { _, ok := o.held[string(it.key)]; return !ok })
}
