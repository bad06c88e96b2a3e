package bridge

import "time"

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
// those that are gone (confirmed, parked, forgotten). Call with d.mu held,
// in a transaction that sees the outbox out.
func (d *drainState) onProbation(inOutbox func(key []byte) bool) bool {
	for k := range d.suspects {
		if !inOutbox([]byte(k)) {
			delete(d.suspects, k)
			delete(d.strikes, k)
		}
	}
	return len(d.suspects) > 0
}

// noteFailure records that items, written and not confirmed, were lost
// with the link at now. It returns the entries to park.
func (d *drainState) noteFailure(items []xmppItem, now time.Time) []xmppItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	var recent []xmppItem
	for _, it := range items {
		if !it.skipped() && now.Sub(it.written) <= d.poisonWindow {
			recent = append(recent, it)
		}
	}
	if len(recent) == 1 && recent[0].alone {
		k := string(recent[0].key)
		d.strikes[k]++
		if d.strikes[k] < poisonStrikes {
			return nil
		}
		recent[0].failures = d.strikes[k] + 1
		recent[0].park = reasonStreamClosed
		delete(d.strikes, k)
		delete(d.suspects, k)
		return recent
	}
	for _, it := range recent {
		d.suspects[string(it.key)] = struct{}{}
	}
	return nil
}

// writeFailed records that writing items failed part way, as a link
// failure right after writing them. Only the writer reads the outbox, and
// these items are not in flight: it may park them itself.
func (b *Bridge) writeFailed(d *drainState, items []xmppItem, alone bool) {
	now := time.Now()
	for i := range items {
		items[i].written, items[i].alone = now, alone
	}
	if poison := d.noteFailure(items, now); len(poison) > 0 {
		b.parkPoison(poison)
	}
}

// noteConfirmed clears the confirmed items of suspicion.
func (d *drainState) noteConfirmed(items []xmppItem) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.suspects) == 0 && len(d.strikes) == 0 {
		return
	}
	for _, it := range items {
		delete(d.suspects, string(it.key))
		delete(d.strikes, string(it.key))
	}
}
