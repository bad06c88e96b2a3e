package jabberclient

import (
	"context"
	"sync"
)

// queue is an unbounded FIFO of received stanzas with a blocking pop. The
// reading goroutine never waits for the consumer, so nothing is dropped
// however slow the consumer is.
type queue struct {
	mu     sync.Mutex
	items  []Received
	err    error         // set once no more items will come
	signal chan struct{} // capacity 1: "something changed"
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(r Received) {
	q.mu.Lock()
	q.items = append(q.items, r)
	q.mu.Unlock()
	q.notify()
}

// close makes pop return err once the queue is empty.
func (q *queue) close(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.notify()
}

func (q *queue) notify() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) pop(ctx context.Context) (Received, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			r := q.items[0]
			q.items[0] = Received{}
			q.items = q.items[1:]
			more := len(q.items) > 0 || q.err != nil
			q.mu.Unlock()
			if more {
				q.notify() // wake another consumer, if any
			}
			return r, nil
		}
		if err := q.err; err != nil {
			q.mu.Unlock()
			q.notify()
			return Received{}, err
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return Received{}, ctx.Err()
		}
	}
}
