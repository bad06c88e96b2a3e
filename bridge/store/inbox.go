package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/messenger"
)

// Inbox is the inbox (BucketInbox: webhook events waiting to be routed,
// 8-byte sequence keys, in arrival order) within one transaction. Its
// methods write only in a writable transaction.
type Inbox struct {
	b *bolt.Bucket
}

// Add puts e, sealed, at the end of the inbox and returns its key.
func (in Inbox) Add(e *messenger.Event) ([]byte, error) {
	k, err := SeqKey(in.b)
	if err != nil {
		return nil, fmt.Errorf("inbox key: %w", err)
	}
	if err := PutSealed(in.b, k, e); err != nil {
		return nil, fmt.Errorf("writing inbox: %w", err)
	}
	return k, nil
}

// Empty reports whether no event waits.
func (in Inbox) Empty() bool {
	k, _ := in.b.Cursor().First()
	return k == nil
}

// Len counts the events waiting.
func (in Inbox) Len() int { return in.b.Stats().KeyN }

// Scan calls fn with each event, oldest first, until fn returns false or
// an error. An event that cannot be read comes with its error (wrapping
// ErrKeyGone when its queue key is missing); k is valid only during the
// call, and fn must not change the inbox.
func (in Inbox) Scan(fn func(k []byte, e *messenger.Event, err error) (bool, error)) error {
	c := in.b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e messenger.Event
		err := OpenJSON(in.b.Tx(), v, &e)
		more, ferr := fn(k, &e, err)
		if ferr != nil || !more {
			return ferr
		}
	}
	return nil
}

// Delete removes the event of key k.
func (in Inbox) Delete(k []byte) error {
	if err := in.b.Delete(k); err != nil {
		return fmt.Errorf("removing inbox entry: %w", err)
	}
	return nil
}

// Seen is the deduplication marks of webhook events (BucketSeen: an
// event's identity, through BoundedKey, → the 8-byte time it was first
// seen) within one transaction.
type Seen struct {
	b *bolt.Bucket
}

// Has reports whether the event of identity key was seen.
func (s Seen) Has(key string) bool { return s.b.Get([]byte(key)) != nil }

// Mark records that the event of identity key was first seen at at.
func (s Seen) Mark(key string, at time.Time) error {
	if err := s.b.Put([]byte(key), U64(uint64(at.UnixNano()))); err != nil {
		return fmt.Errorf("marking seen: %w", err)
	}
	return nil
}

// Oldest is the time of the first event waiting (zero when none): the
// inbox is in arrival order.
func (in Inbox) Oldest() time.Time {
	var t time.Time
	_ = in.Scan(func(_ []byte, e *messenger.Event, _ error) (bool, error) {
		t = e.Time
		return false, nil
	})
	return t
}
