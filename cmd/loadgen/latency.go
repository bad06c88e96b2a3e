package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Percentiles summarises a set of latencies in milliseconds.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// recorder collects latencies from many goroutines. It keeps every sample
// (a run is bounded in count), so percentiles are exact.
type recorder struct {
	mu sync.Mutex
	d  []time.Duration
}

// add records one latency.
func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
}

// summary returns the percentiles of what was recorded.
func (r *recorder) summary() Percentiles {
	r.mu.Lock()
	d := slices.Clone(r.d)
	r.mu.Unlock()
	return percentiles(d)
}

// percentiles sorts d and returns its nearest-rank percentiles in
// milliseconds; all zero for no samples.
func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	return Percentiles{
		N:   len(d),
		P50: ms(nearestRank(d, 50)),
		P90: ms(nearestRank(d, 90)),
		P99: ms(nearestRank(d, 99)),
		Max: ms(d[len(d)-1]),
	}
}

// nearestRank is the smallest sample such that at least p percent of the
// samples are less than or equal to it. sorted must not be empty.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// ms converts to milliseconds rounded to microseconds.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
