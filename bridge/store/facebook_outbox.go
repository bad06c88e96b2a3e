package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FacebookOutbox is the Send API outbox (BucketToFacebook) within one
// transaction. A key is the patron's key (PSID, or "ig-"+IGSID), 0x00 and
// an 8-byte sequence, so that one patron's entries are contiguous and in
// the order they were queued. Its methods write only in a writable
// transaction.
type FacebookOutbox struct {
	out *bolt.Bucket
}

// Add puts e, sealed, after the patron's other entries and returns its
// key.
func (o FacebookOutbox) Add(patron string, e *FacebookEntry) ([]byte, error) {
	n, err := SeqKey(o.out)
	if err != nil {
		return nil, fmt.Errorf("Send API outbox key: %w", err)
	}
	k := append(patronPrefix(patron), n...)
	return k, o.Put(k, e)
}

// Put writes e, sealed, at key k.
func (o FacebookOutbox) Put(k []byte, e *FacebookEntry) error {
	if err := putSealedBytes(o.out, k, EncodeFacebookEntry(e)); err != nil {
		return fmt.Errorf("Send API outbox entry: %w", err)
	}
	return nil
}

// Decode reads a stored entry, as a sweep over the bucket sees it.
func (o FacebookOutbox) Decode(v []byte) (*FacebookEntry, error) {
	var e FacebookEntry
	plain, err := OpenValue(o.out.Tx(), v)
	if err == nil {
		err = DecodeFacebookEntry(plain, &e)
	}
	return &e, err
}

// Has reports whether the outbox holds an entry at key k.
func (o FacebookOutbox) Has(k []byte) bool { return o.out.Get(k) != nil }

// Delete removes the entry of key k.
func (o FacebookOutbox) Delete(k []byte) error {
	if err := o.out.Delete(k); err != nil {
		return fmt.Errorf("removing Send API outbox entry: %w", err)
	}
	return nil
}

// Sequence is the key number the last Add took.
func (o FacebookOutbox) Sequence() uint64 { return o.out.Sequence() }

// Len counts the entries.
func (o FacebookOutbox) Len() int { return o.out.Stats().KeyN }

// Pending reports whether replies to the patron wait in the outbox.
func (o FacebookOutbox) Pending(patron string) bool {
	prefix := patronPrefix(patron)
	k, _ := o.out.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// Scan calls fn with each entry, patron by patron and each patron's in
// order, until fn returns false or an error. An entry that cannot be read
// comes with its error (wrapping ErrKeyGone when its queue key is
// missing) and a zero entry; k is valid only during the call. A key not
// of the outbox's layout stops the scan with an error.
func (o FacebookOutbox) Scan(fn func(k []byte, patron string, e *FacebookEntry, err error) (bool, error)) error {
	return o.scan(nil, fn)
}

// ScanPatron is Scan over the patron's entries only.
func (o FacebookOutbox) ScanPatron(patron string, fn func(k []byte, e *FacebookEntry, err error) (bool, error)) error {
	return o.scan(patronPrefix(patron), func(k []byte, _ string, e *FacebookEntry, err error) (bool, error) {
		return fn(k, e, err)
	})
}

func (o FacebookOutbox) scan(prefix []byte, fn func(k []byte, patron string, e *FacebookEntry, err error) (bool, error)) error {
	c := o.out.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k)-i-1 != 8 {
			return fmt.Errorf("malformed Send API outbox key %q", k)
		}
		e, err := o.Decode(v)
		more, ferr := fn(k, string(k[:i]), e, err)
		if ferr != nil || !more {
			return ferr
		}
	}
	return nil
}

// DeletePatron removes the patron's entries and returns how many.
func (o FacebookOutbox) DeletePatron(patron string) (int, error) {
	prefix := patronPrefix(patron)
	n := 0
	for k, _ := o.out.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = o.out.Cursor().Seek(prefix) {
		if err := o.Delete(k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func patronPrefix(patron string) []byte { return append([]byte(patron), 0) }

// Oldest is when the oldest entry was queued (zero when none). The outbox
// is ordered by patron, each patron's entries in the order they were
// queued: the oldest is the oldest of each patron's first entry, found
// with one seek each.
func (o FacebookOutbox) Oldest() time.Time {
	var oldest time.Time
	c := o.out.Cursor()
	for k, v := c.First(); k != nil; {
		if e, err := o.Decode(v); err == nil && !e.Queued.IsZero() && (oldest.IsZero() || e.Queued.Before(oldest)) {
			oldest = e.Queued
		}
		patron, _, ok := bytes.Cut(k, []byte{0})
		if !ok {
			k, v = c.Next()
			continue
		}
		k, v = c.Seek(append(bytes.Clone(patron), 1)) // the next patron's first entry
	}
	return oldest
}
