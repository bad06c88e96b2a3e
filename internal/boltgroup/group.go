// Package boltgroup shares BoltDB commits among concurrent writers.
//
// bbolt's own DB.Batch groups writers too, but it holds every group open for
// MaxBatchDelay, so that a lone writer always waits out the delay. A Group
// never waits for companions: the first caller commits at once, alone, and
// the callers that arrive while a commit runs form the next group, led by
// the oldest of them. Under load a group grows with the commit's duration
// (an fsync), which is the only wait worth paying.
package boltgroup

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many callers share one commit.
const maxGroup = 128

// Group shares one BoltDB commit, and so one pair of fsyncs, among
// the write transactions of concurrent callers. The zero Group is ready to
// use; it must not be copied after first use.
type Group struct {
	mu      sync.Mutex
	pending []*groupCall
	busy    bool // a leader is committing
}

type groupCall struct {
	fn   func(*bolt.Tx) error
	err  error
	done chan struct{} // closed when fn's group committed or failed
	lead chan struct{} // closed when this caller is to lead the next group
}

// Do runs fn in a write transaction of db shared with concurrent callers
// and returns once that transaction committed (or fn's error). fn may run
// more than once: when a function of the group fails, the group is run
// again without it, and it alone.
func (g *Group) Do(db *bolt.DB, fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	leader := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !leader {
		select {
		case <-c.done:
			return c.err
		case <-c.lead:
		}
	}
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	calls := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	func() {
		// Whatever happens, the next group gets a leader.
		defer func() {
			g.mu.Lock()
			if len(g.pending) > 0 {
				close(g.pending[0].lead)
			} else {
				g.busy = false
			}
			g.mu.Unlock()
		}()
		commitGroup(db, calls)
	}()
	<-c.done
	return c.err
}

// ErrPanic is wrapped by the error of a function that panicked: the panic
// is the caller's error, not the whole group's, as with bbolt's Batch.
var ErrPanic = errors.New("boltgroup: the transaction function panicked")

// run calls fn, turning a panic into an error.
func run(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return fn(tx)
}

// solo runs fn alone in its own transaction.
func solo(db *bolt.DB, fn func(*bolt.Tx) error) error {
	return db.Update(func(tx *bolt.Tx) error { return run(fn, tx) })
}

// commitGroup runs calls in one transaction and tells each the outcome.
// A failing function is taken out and run alone, and the others again.
func commitGroup(db *bolt.DB, calls []*groupCall) {
	failed := -1
	err := db.Update(func(tx *bolt.Tx) error {
		for i, c := range calls {
			if err := run(c.fn, tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		for _, c := range calls {
			close(c.done)
		}
	case failed >= 0 && len(calls) > 1:
		bad := calls[failed]
		rest := append(append([]*groupCall(nil), calls[:failed]...), calls[failed+1:]...)
		bad.err = solo(db, bad.fn)
		close(bad.done)
		commitGroup(db, rest)
	case len(calls) == 1:
		calls[0].err = err
		close(calls[0].done)
	default:
		// The commit itself failed: each alone, to give each its own error.
		for _, c := range calls {
			c.err = solo(db, c.fn)
			close(c.done)
		}
	}
}
