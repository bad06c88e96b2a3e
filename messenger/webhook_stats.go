package messenger

import "sync"

// Results of webhook requests, as counted by WebhookStats.ByResult.
const (
	ResultAccepted         = "accepted"
	ResultForbidden        = "forbidden"
	ResultMalformed        = "malformed"
	ResultTooLarge         = "too_large"
	ResultStoreFailed      = "store_failed"
	ResultDraining         = "draining"
	ResultVerified         = "verified"
	ResultVerifyFailed     = "verify_failed"
	ResultMethodNotAllowed = "method_not_allowed"
	ResultBusy             = "busy"
)

// result indexes the counters.
type result int

const (
	resultAccepted result = iota
	resultForbidden
	resultMalformed
	resultTooLarge
	resultStoreFailed
	resultDraining
	resultVerified
	resultVerifyFailed
	resultMethodNotAllowed
	resultBusy
	numResults
)

// resultNames maps result to its exported name.
var resultNames = [numResults]string{
	ResultAccepted, ResultForbidden, ResultMalformed, ResultTooLarge,
	ResultStoreFailed, ResultDraining, ResultVerified, ResultVerifyFailed,
	ResultMethodNotAllowed, ResultBusy,
}

// WebhookStats is a snapshot of a Webhook's counters since it was made.
// POST results: Accepted (200), Forbidden (403, bad or missing signature),
// Malformed (400), TooLarge (413), StoreFailed (500, the Sink failed),
// Draining (503). GET handshakes: Verified, VerifyFailed.
type WebhookStats struct {
	Accepted, Forbidden, Malformed, TooLarge, StoreFailed, Draining uint64
	Verified, VerifyFailed, MethodNotAllowed                        uint64
	// Busy counts POSTs answered 503 because too many bodies were
	// being read at once.
	Busy uint64
	// Events counts the events of accepted POSTs by kind.
	Events map[Kind]uint64
	// Ignored counts items of accepted POSTs that the parser skipped.
	Ignored uint64
}

// ByResult returns the request counts keyed by the Result* names, handy as
// metric labels.
func (s WebhookStats) ByResult() map[string]uint64 {
	vals := [numResults]uint64{
		s.Accepted, s.Forbidden, s.Malformed, s.TooLarge, s.StoreFailed,
		s.Draining, s.Verified, s.VerifyFailed, s.MethodNotAllowed, s.Busy,
	}
	m := make(map[string]uint64, numResults)
	for i, v := range vals {
		m[resultNames[i]] = v
	}
	return m
}

// statsCounter holds a Webhook's counters.
type statsCounter struct {
	mu      sync.Mutex
	results [numResults]uint64
	events  map[Kind]uint64
	ignored uint64
}

// add counts one request result.
func (c *statsCounter) add(r result) {
	c.mu.Lock()
	c.results[r]++
	c.mu.Unlock()
}

// accepted counts an accepted POST with its events.
func (c *statsCounter) accepted(b *Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[resultAccepted]++
	c.ignored += uint64(b.Ignored)
	if c.events == nil {
		c.events = make(map[Kind]uint64)
	}
	for i := range b.Events {
		c.events[b.Events[i].Kind]++
	}
}

// Stats returns a snapshot of the webhook's counters.
func (w *Webhook) Stats() WebhookStats {
	c := &w.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	s := WebhookStats{
		Accepted:         c.results[resultAccepted],
		Forbidden:        c.results[resultForbidden],
		Malformed:        c.results[resultMalformed],
		TooLarge:         c.results[resultTooLarge],
		StoreFailed:      c.results[resultStoreFailed],
		Draining:         c.results[resultDraining],
		Verified:         c.results[resultVerified],
		VerifyFailed:     c.results[resultVerifyFailed],
		MethodNotAllowed: c.results[resultMethodNotAllowed],
		Busy:             c.results[resultBusy],
		Events:           make(map[Kind]uint64, len(c.events)),
		Ignored:          c.ignored,
	}
	for k, v := range c.events {
		s.Events[k] = v
	}
	return s
}
