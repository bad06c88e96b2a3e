package xmpp

import (
	"math/rand/v2"
	"time"
)

// backoff yields jittered exponential delays: attempt n waits a random time
// between half and all of min·2ⁿ, capped at max.
type backoff struct {
	min, max time.Duration
	attempt  int
	rand     func() float64 // in [0, 1); math/rand/v2 unless a test sets it
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max, rand: rand.Float64}
}

// next returns the delay before the next attempt.
func (b *backoff) next() time.Duration {
	d := b.max
	if b.attempt < 32 {
		if e := b.min << b.attempt; e > 0 && e < b.max {
			d = e
		}
	}
	b.attempt++
	half := d / 2
	return half + time.Duration(b.rand()*float64(d-half))
}

// reset starts again from min.
func (b *backoff) reset() { b.attempt = 0 }
