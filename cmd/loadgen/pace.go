package main

import (
	"context"
	"sync/atomic"
	"time"
)

// pacer hands out start times for requests. With a rate of 0 every caller
// starts at once (a closed loop: as fast as acknowledgements come back);
// otherwise request i is scheduled at start + i/rate, and its latency is
// measured from that scheduled time, so a slow server cannot hide its
// queueing by slowing the generator down (no coordinated omission).
type pacer struct {
	perSec float64 // requests per second; 0 = as fast as possible
	start  time.Time
	n      atomic.Int64
}

func newPacer(perSec float64) *pacer {
	return &pacer{perSec: perSec, start: time.Now()}
}

// next blocks until the next request's slot and returns its scheduled
// start; ok is false once ctx is done.
func (p *pacer) next(ctx context.Context) (at time.Time, ok bool) {
	if ctx.Err() != nil {
		return time.Time{}, false
	}
	if p.perSec <= 0 {
		return time.Now(), true
	}
	i := p.n.Add(1) - 1
	at = p.start.Add(time.Duration(float64(i) / p.perSec * float64(time.Second)))
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-t.C:
		}
	}
	return at, true
}

// seqs allocates event sequence numbers 0..total-1 to concurrent senders,
// in blocks.
type seqs struct {
	next  atomic.Int64
	total int64
}

// take reserves up to k numbers and returns [from, to); from == to when
// all are taken.
func (s *seqs) take(k int) (from, to int64) {
	from = s.next.Add(int64(k)) - int64(k)
	if from >= s.total {
		return s.total, s.total
	}
	return from, min(from+int64(k), s.total)
}

// timeline keeps the send time of every event by sequence number, and the
// first send and last acknowledgement of a phase.
type timeline struct {
	sentAt  []atomic.Int64 // UnixNano of the (scheduled) send; 0 = not sent
	first   atomic.Int64
	lastAck atomic.Int64
}

func newTimeline(n int) *timeline { return &timeline{sentAt: make([]atomic.Int64, n)} }

// sent records that seq was sent at t.
func (tl *timeline) sent(seq int64, t time.Time) {
	tl.sentAt[seq].Store(t.UnixNano())
	tl.first.CompareAndSwap(0, t.UnixNano())
	for {
		f := tl.first.Load()
		if t.UnixNano() >= f || tl.first.CompareAndSwap(f, t.UnixNano()) {
			return
		}
	}
}

// acked records an acknowledgement at t.
func (tl *timeline) acked(t time.Time) {
	for {
		l := tl.lastAck.Load()
		if t.UnixNano() <= l || tl.lastAck.CompareAndSwap(l, t.UnixNano()) {
			return
		}
	}
}

// sentTime returns when seq was sent, if it was.
func (tl *timeline) sentTime(seq int64) (time.Time, bool) {
	if seq < 0 || seq >= int64(len(tl.sentAt)) {
		return time.Time{}, false
	}
	n := tl.sentAt[seq].Load()
	return time.Unix(0, n), n != 0
}

// seconds is the time from the first send to t.
func (tl *timeline) seconds(t int64) float64 {
	f := tl.first.Load()
	if f == 0 || t <= f {
		return 0
	}
	return float64(t-f) / float64(time.Second)
}
