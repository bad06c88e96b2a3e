package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/stats"
)

// Sessions is the session rows (BucketSessions, keyed by TimeKey of the
// start; a session's ID is the hex of its key) and the index of the
// patrons with an open session (BucketOpen) within one transaction. Its
// methods write only in a writable transaction.
type Sessions struct {
	rows, open *bolt.Bucket
}

// NewKey returns the key of a new session that starts at t.
func (s Sessions) NewKey(t time.Time) ([]byte, error) {
	k, err := TimeKey(s.rows, t)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return k, nil
}

// Get reads the session of key k; nil if there is none.
func (s Sessions) Get(k []byte) (*stats.Session, error) {
	v := s.rows.Get(k)
	if v == nil {
		return nil, nil
	}
	var r stats.Session
	if err := DecodeSession(v, &r, nil); err != nil {
		return nil, fmt.Errorf("session %x: %w", k, err)
	}
	return &r, nil
}

// Put writes r under key k in the current record version.
func (s Sessions) Put(k []byte, r *stats.Session) error {
	if err := s.rows.Put(k, EncodeSession(r)); err != nil {
		return fmt.Errorf("writing session %x: %w", k, err)
	}
	return nil
}

// Raw returns the encoded session of key k, or nil.
func (s Sessions) Raw(k []byte) []byte { return s.rows.Get(k) }

// Scan calls fn with each session whose key is in [from, end) (a nil end
// has no end), in key order, decoded with dec (which may be nil), until
// fn returns false or an error. *r is reused for the next session: fn
// copies what it keeps (copying *r is enough), and k is valid only
// during the call.
func (s Sessions) Scan(from, end []byte, dec *SessionDecoder, fn func(k []byte, r *stats.Session) (bool, error)) error {
	var r stats.Session
	c := s.rows.Cursor()
	for k, v := c.Seek(from); k != nil && (end == nil || bytes.Compare(k, end) < 0); k, v = c.Next() {
		if err := DecodeSession(v, &r, dec); err != nil {
			return fmt.Errorf("session %x: %w", k, err)
		}
		more, err := fn(k, &r)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// SetOpen records whether psid's conversation has an open session.
func (s Sessions) SetOpen(psid string, open bool) error {
	var err error
	if open {
		err = s.open.Put([]byte(psid), nil)
	} else {
		err = s.open.Delete([]byte(psid))
	}
	if err != nil {
		return fmt.Errorf("open-session index: %w", err)
	}
	return nil
}

// OpenPSIDs lists the patrons with an open session.
func (s Sessions) OpenPSIDs() []string {
	var psids []string
	_ = s.open.ForEach(func(k, _ []byte) error {
		psids = append(psids, string(k))
		return nil
	})
	return psids
}

// OpenCount is how many patrons have an open session.
func (s Sessions) OpenCount() int { return s.open.Stats().KeyN }
