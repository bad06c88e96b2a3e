package bridge

import (
	"errors"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

// commitHealth remembers the last commit that failed (a full disk, an I/O
// error), until one succeeds again.
type commitHealth struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

// note records a commit's outcome: failed is its error, nil when it
// committed.
func (h *commitHealth) note(failed error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if failed == nil {
		h.err, h.at = nil, time.Time{}
		return
	}
	h.err, h.at = failed, time.Now()
}

// CommitError returns when the last commit failed and its error, while
// no commit has succeeded since (a nil error otherwise). Only the store's
// own work counts, not Writable's probe: a tiny probe can commit into
// pages the file already has while every message fails for lack of disk
// space.
func (s *Store) CommitError() (time.Time, error) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.at, s.health.err
}

// errFnUnfinished marks a transaction function that panicked.
var errFnUnfinished = errors.New("bridge: transaction function did not return")

// tracked wraps fn so that, once the transaction is over, outcome tells
// a failed commit (reported to the store's health) from fn's own error.
func (s *Store) tracked(fn func(*store.Tx) error) (wrapped func(*bolt.Tx) error, outcome func(error)) {
	var fnErr error
	wrapped = func(tx *bolt.Tx) error {
		fnErr = errFnUnfinished
		fnErr = fn(store.Wrap(tx))
		return fnErr
	}
	outcome = func(err error) {
		switch {
		case err == nil:
			s.health.note(nil)
		case fnErr == nil:
			// fn succeeded (last time it ran), so bbolt could not begin
			// or commit the transaction.
			s.health.note(err)
		}
	}
	return wrapped, outcome
}
