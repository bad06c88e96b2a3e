package xmpp

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999999} {
		b := newBackoff(time.Second, 30*time.Second)
		b.rand = func() float64 { return r }
		caps := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
		for i, c := range caps {
			c *= time.Second
			d := b.next()
			if d < c/2 || d > c {
				t.Errorf("rand %v, attempt %d: %v not in [%v, %v]", r, i, d, c/2, c)
			}
		}
		for range 100 { // no overflow however long it fails
			if d := b.next(); d < 15*time.Second || d > 30*time.Second {
				t.Fatalf("rand %v: late delay %v outside [15s, 30s]", r, d)
			}
		}
		b.reset()
		if d := b.next(); d > time.Second {
			t.Errorf("after reset: %v, want ≤ 1s", d)
		}
	}
}

func TestBackoffJitters(t *testing.T) {
	b := newBackoff(time.Second, 30*time.Second)
	seen := map[time.Duration]bool{}
	for range 20 {
		b.reset()
		seen[b.next()] = true
	}
	if len(seen) < 2 {
		t.Error("the first delay never varies: no jitter")
	}
}
