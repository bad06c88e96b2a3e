package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ParkedEntry is an XMPP outbox entry the bridge gave up writing, in the
// dead-letter bucket (BucketParkedXMPP) under its outbox key.
type ParkedEntry struct {
	Entry    XMPPEntry `json:"entry"`
	Parked   time.Time `json:"parked"`
	Reason   string    `json:"reason"`
	Failures int       `json:"failures,omitempty"`
}

// Suspicion is what the bridge holds against an XMPP outbox entry that
// may be closing the stream (BucketSuspectXMPP, under its outbox key).
type Suspicion struct {
	// Suspect: the entry was lost with a link that failed right after it
	// was written.
	Suspect bool `json:"suspect,omitempty"`
	// Strikes counts the failures that followed it written alone.
	Strikes int `json:"strikes,omitempty"`
}

// XMPPOutbox is the XMPP outbox (BucketToXMPP, 8-byte sequence keys,
// oldest first), its dead-letter bucket and its entries' poison
// suspicions, within one transaction. It keeps one rule: an entry's
// suspicion goes with the entry, in the transaction that takes the entry
// out. Its methods write only in a writable transaction.
type XMPPOutbox struct {
	out, parked, suspects *bolt.Bucket
}

// Add puts e, sealed, at the end of the outbox and returns its key.
func (o XMPPOutbox) Add(e *XMPPEntry) ([]byte, error) {
	k, err := SeqKey(o.out)
	if err != nil {
		return nil, fmt.Errorf("XMPP outbox key: %w", err)
	}
	return k, o.Put(k, e)
}

// Put writes e, sealed, at key k.
func (o XMPPOutbox) Put(k []byte, e *XMPPEntry) error {
	if err := putSealedBytes(o.out, k, EncodeXMPPEntry(e)); err != nil {
		return fmt.Errorf("XMPP outbox entry: %w", err)
	}
	return nil
}

// Decode reads a stored entry, as a sweep over the bucket sees it.
func (o XMPPOutbox) Decode(v []byte) (*XMPPEntry, error) {
	var e XMPPEntry
	plain, err := OpenValue(o.out.Tx(), v)
	if err == nil {
		err = DecodeXMPPEntry(plain, &e)
	}
	return &e, err
}

// Has reports whether the outbox holds an entry at key k.
func (o XMPPOutbox) Has(k []byte) bool { return o.out.Get(k) != nil }

// Sequence is the key number the last Add took.
func (o XMPPOutbox) Sequence() uint64 { return o.out.Sequence() }

// Len counts the entries.
func (o XMPPOutbox) Len() int { return o.out.Stats().KeyN }

// Scan calls fn with each entry, oldest first, until fn returns false or
// an error. An entry that cannot be read comes with its error (wrapping
// ErrKeyGone when its queue key is missing) and a zero entry; k is valid
// only during the call.
func (o XMPPOutbox) Scan(fn func(k []byte, e *XMPPEntry, err error) (bool, error)) error {
	c := o.out.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e, err := o.Decode(v)
		more, ferr := fn(k, e, err)
		if ferr != nil || !more {
			return ferr
		}
	}
	return nil
}

// Remove takes the entry of key k out of the outbox, with its suspicion.
func (o XMPPOutbox) Remove(k []byte) error {
	if err := o.out.Delete(k); err != nil {
		return fmt.Errorf("removing XMPP outbox entry: %w", err)
	}
	return o.ClearSuspicion(k)
}

// Park moves the entry of key k, if still in the outbox, to the
// dead-letter bucket as p; it reports whether it was there.
func (o XMPPOutbox) Park(k []byte, p *ParkedEntry) (bool, error) {
	if !o.Has(k) {
		return false, nil
	}
	if err := PutSealed(o.parked, k, p); err != nil {
		return false, fmt.Errorf("parking an XMPP outbox entry: %w", err)
	}
	return true, o.Remove(k)
}

// Parked reads the parked entry of key k; nil if there is none.
func (o XMPPOutbox) Parked(k []byte) (*ParkedEntry, error) {
	v := o.parked.Get(k)
	if v == nil {
		return nil, nil
	}
	return o.openParked(k, v)
}

func (o XMPPOutbox) openParked(k, v []byte) (*ParkedEntry, error) {
	var p ParkedEntry
	if err := OpenJSON(o.parked.Tx(), v, &p); err != nil {
		return nil, fmt.Errorf("parked entry %x: %w", k, err)
	}
	return &p, nil
}

// ScanParked calls fn with each parked entry, oldest first, until fn
// returns an error; k is valid only during the call.
func (o XMPPOutbox) ScanParked(fn func(k []byte, p *ParkedEntry) error) error {
	return o.parked.ForEach(func(k, v []byte) error {
		p, err := o.openParked(k, v)
		if err != nil {
			return err
		}
		return fn(k, p)
	})
}

// ParkedKeys lists the keys of the parked entries, oldest first.
func (o XMPPOutbox) ParkedKeys() [][]byte {
	var keys [][]byte
	_ = o.parked.ForEach(func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	return keys
}

// DropParked deletes the parked entry of key k.
func (o XMPPOutbox) DropParked(k []byte) error {
	if err := o.parked.Delete(k); err != nil {
		return fmt.Errorf("removing a parked entry: %w", err)
	}
	return nil
}

// ParkedCount counts the parked entries.
func (o XMPPOutbox) ParkedCount() int { return o.parked.Stats().KeyN }

// SetSuspicion records s against the entry of key k; a zero s, or an
// entry no longer in the outbox (the commit that took it out, crossing
// this one, cleared its record), leaves no record.
func (o XMPPOutbox) SetSuspicion(k []byte, s Suspicion) error {
	if s == (Suspicion{}) || !o.Has(k) {
		return o.ClearSuspicion(k)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding a poison suspect: %w", err)
	}
	if err := o.suspects.Put(k, data); err != nil {
		return fmt.Errorf("recording a poison suspect: %w", err)
	}
	return nil
}

// ClearSuspicion removes the record of the entry of key k.
func (o XMPPOutbox) ClearSuspicion(k []byte) error {
	if err := o.suspects.Delete(k); err != nil {
		return fmt.Errorf("clearing a poison suspect: %w", err)
	}
	return nil
}

// Suspicions reads the suspicion records: those of entries still in the
// outbox, by key, and the keys of the others (unreadable, or left by an
// entry an older release took out of the outbox).
func (o XMPPOutbox) Suspicions() (map[string]Suspicion, []string) {
	var recorded map[string]Suspicion
	var stale []string
	_ = o.suspects.ForEach(func(k, v []byte) error {
		var s Suspicion
		if !o.Has(k) || json.Unmarshal(v, &s) != nil {
			stale = append(stale, string(k))
			return nil
		}
		if recorded == nil {
			recorded = map[string]Suspicion{}
		}
		recorded[string(k)] = s
		return nil
	})
	return recorded, stale
}

// Oldest is when the first entry was queued (zero when none): the outbox
// is in the order entries were queued.
func (o XMPPOutbox) Oldest() time.Time {
	var t time.Time
	_ = o.Scan(func(_ []byte, e *XMPPEntry, _ error) (bool, error) {
		t = e.Queued
		return false, nil
	})
	return t
}
