package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// U64 is v as an 8-byte big-endian key, so that keys sort as numbers.
func U64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// SeqKey returns the bucket's next sequence number as a key.
func SeqKey(b *bolt.Bucket) ([]byte, error) {
	n, err := b.NextSequence()
	if err != nil {
		return nil, fmt.Errorf("next sequence: %w", err)
	}
	return U64(n), nil
}

// TimeKey is a key of a time-ordered bucket (the ledger, sessions): the
// time in nanoseconds, then the bucket's next sequence number to keep
// keys unique.
func TimeKey(b *bolt.Bucket, t time.Time) ([]byte, error) {
	n, err := b.NextSequence()
	if err != nil {
		return nil, fmt.Errorf("next sequence: %w", err)
	}
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], n)
	return k, nil
}

// TimeBound is the 8-byte key prefix of a time, clamped to the range of
// times a TimeKey can hold (1970 to 2262).
func TimeBound(t time.Time) []byte {
	switch {
	case t.Before(time.Unix(0, 0)):
		return U64(0)
	case t.After(time.Unix(0, math.MaxInt64)):
		return U64(math.MaxInt64)
	}
	return U64(uint64(t.UnixNano()))
}

// maxIDKey is the longest identity used as a key as it is; longer ones
// (which Facebook never sends, but a forged or broken body might) are
// hashed, since BoltDB refuses keys of 32 KiB and more.
const maxIDKey = 256

// BoundedKey returns k, or a hash of it when it is longer than maxIDKey.
func BoundedKey(k string) string {
	if len(k) <= maxIDKey {
		return k
	}
	h := sha256.Sum256([]byte(k))
	return fmt.Sprintf("#%x", h)
}
