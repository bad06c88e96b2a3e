package messenger

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Memory spent on webhook bodies that are not yet verified is bounded, so
// that anyone on the Internet holding many POSTs open cannot grow the
// daemon: a body is read only once it has a place, into a buffer of
// exactly its announced length. Facebook's POSTs are small, and small
// bodies have their own places, so a flood of large unsigned bodies
// leaves a real webhook answered at once; a POST with no place is
// answered 503 with Retry-After, which Facebook retries.
const (
	// smallBody is the largest body read into a pooled buffer.
	smallBody = 64 << 10
	// smallBodies is how many small bodies may be read at once.
	smallBodies = 256
	// largeBodyBytes bounds the bytes of larger bodies read at once.
	largeBodyBytes = 16 << 20
	// bodyReadTimeout bounds the time a POST may take to send its body
	// once its headers are in: Facebook sends a body at once, so a place
	// is never held for long by anyone sending it slowly.
	bodyReadTimeout = 5 * time.Second
	// placeWait is how long a small body waits for a place when all are
	// taken.
	placeWait = time.Second
)

// bodyReader reads webhook bodies within those bounds.
type bodyReader struct {
	max   int64 // the largest body accepted
	small chan struct{}
	large atomic.Int64 // bytes reserved by large bodies being read
	pool  sync.Pool    // *[]byte of smallBody capacity
}

func newBodyReader(max int64) *bodyReader {
	return &bodyReader{max: max, small: make(chan struct{}, smallBodies),
		pool: sync.Pool{New: func() any { b := make([]byte, smallBody); return &b }}}
}

// errBodyBusy means every place for a body of this size is taken.
var errBodyBusy = errors.New("too many webhook bodies being read at once")

// errBodyTooLarge means the body is over the limit.
var errBodyTooLarge = errors.New("webhook body over the limit")

// read reads a body of the announced length (-1 if unknown). The returned
// release gives its memory back once the body is no longer used.
func (r *bodyReader) read(body io.Reader, length int64) (b []byte, release func(), err error) {
	if length > r.max {
		return nil, nil, errBodyTooLarge
	}
	if length >= 0 && length <= smallBody {
		select {
		case r.small <- struct{}{}:
		default:
			// All taken: one may free up (bodies are read within
			// bodyReadTimeout).
			t := time.NewTimer(placeWait)
			select {
			case r.small <- struct{}{}:
				t.Stop()
			case <-t.C:
				return nil, nil, errBodyBusy
			}
		}
		buf := r.pool.Get().(*[]byte)
		release = func() { r.pool.Put(buf); <-r.small }
		b, err = readFull(body, (*buf)[:length], length)
		if err != nil {
			release()
			return nil, nil, err
		}
		return b, release, nil
	}
	// A large body, or one of unknown length: reserve the most it can be.
	reserve := length
	if reserve < 0 {
		reserve = r.max
	}
	if r.large.Add(reserve) > largeBodyBytes {
		r.large.Add(-reserve)
		return nil, nil, errBodyBusy
	}
	release = func() { r.large.Add(-reserve) }
	buf := make([]byte, reserve)
	b, err = readFull(body, buf, length)
	if err != nil {
		release()
		return nil, nil, err
	}
	return b, release, nil
}

// readFull fills buf from body. With a known length the body must be
// exactly that long; otherwise it must fit in buf.
func readFull(body io.Reader, buf []byte, length int64) ([]byte, error) {
	n, err := io.ReadFull(body, buf)
	if length >= 0 {
		if err != nil {
			return nil, fmt.Errorf("reading webhook body (%d of %d bytes): %w", n, length, err)
		}
		return buf, nil
	}
	switch err {
	case io.ErrUnexpectedEOF, io.EOF:
		return buf[:n], nil
	case nil: // buf is full: anything more is over the limit
		var one [1]byte
		switch m, err := io.ReadFull(body, one[:]); {
		case m > 0:
			return nil, errBodyTooLarge
		case err != io.EOF:
			return nil, fmt.Errorf("reading webhook body: %w", err) // a limit's error, say
		}
		return buf, nil
	}
	return nil, fmt.Errorf("reading webhook body: %w", err)
}
