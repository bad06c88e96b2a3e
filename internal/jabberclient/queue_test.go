package jabberclient

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	q := newQueue()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := range 1000 { // never blocks, never drops
		q.push(Received{ID: string(rune('a' + i%26))})
	}
	for i := range 1000 {
		r, err := q.pop(ctx)
		if err != nil || r.ID != string(rune('a'+i%26)) {
			t.Fatalf("pop %d = %+v, %v", i, r, err)
		}
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := q.pop(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("pop on empty queue = %v, want deadline exceeded", err)
	}
	// pop asks for ctx.Done only once it found the queue empty, to wait:
	// the late item is pushed then.
	waiting := &doneWatcher{Context: ctx, asked: make(chan struct{})}
	go func() {
		<-waiting.asked
		q.push(Received{ID: "late"})
		q.close(ErrClosed)
	}()
	if r, err := q.pop(waiting); err != nil || r.ID != "late" {
		t.Errorf("pop = %+v, %v; want the late item", r, err)
	}
	if _, err := q.pop(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("pop after close = %v, want ErrClosed", err)
	}
}

// doneWatcher is a context that tells, by closing asked, when Done is
// first called.
type doneWatcher struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (w *doneWatcher) Done() <-chan struct{} {
	w.once.Do(func() { close(w.asked) })
	return w.Context.Done()
}
