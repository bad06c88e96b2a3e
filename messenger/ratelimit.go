package messenger

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers in which the Graph API reports rate-limit usage and when to
// come back.
const (
	// HeaderAppUsage reports the app's Platform rate-limit usage:
	// {"call_count":…,"total_cputime":…,"total_time":…}, percentages.
	HeaderAppUsage = "X-App-Usage"
	// HeaderPageUsage reports a Page's Platform rate-limit usage, in the
	// format of X-App-Usage.
	HeaderPageUsage = "X-Page-Usage"
	// HeaderRetryAfter is HTTP's Retry-After (RFC 9110, section 10.2.3):
	// delta-seconds or an HTTP-date.
	HeaderRetryAfter = "Retry-After"
)

// MaxRetryAfter caps how long one answer can make the bridge wait, whatever
// Retry-After or estimated_time_to_regain_access says.
const MaxRetryAfter = time.Hour

// ParseRetryAfter reads a Retry-After value, delta-seconds ("8") or an
// HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", or the obsolete RFC 850 and
// asctime forms), as a duration from now. A date in the past is 0; a value
// over MaxRetryAfter is MaxRetryAfter. ok is false for an absent or
// unreadable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if strings.Trim(v, "0123456789") != "" {
				return 0, false
			}
			return MaxRetryAfter, true // more digits than uint64 holds
		}
		if n > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampWait(t.Sub(now)), true
}

// clampWait keeps d within [0, MaxRetryAfter].
func clampWait(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}

// Usage is what a Graph API answer's headers say about rate limits.
type Usage struct {
	// App is the highest of call_count, total_cputime and total_time in
	// X-App-Usage: how much of the app's limit is used, in percent.
	App float64
	// Page is the highest such figure of X-Page-Usage and of every entry
	// of X-Business-Use-Case-Usage: how much of the Page's limit is used.
	Page float64
	// RegainAccess is the largest estimated_time_to_regain_access of
	// X-Business-Use-Case-Usage, at most MaxRetryAfter.
	RegainAccess time.Duration
	// RetryAfter is the Retry-After header, at most MaxRetryAfter; 0 when
	// absent or unreadable.
	RetryAfter time.Duration
}

// Wait is how long the answer asks callers to stay away: the longer of
// RetryAfter and RegainAccess.
func (u Usage) Wait() time.Duration { return max(u.RetryAfter, u.RegainAccess) }

// ParseUsage reads the rate-limit headers of a Graph API answer received
// at now. Unreadable headers count as absent: they never fail a call.
func ParseUsage(h http.Header, now time.Time) Usage {
	var u Usage
	if v := h.Get(HeaderAppUsage); v != "" {
		u.App, _ = ParseAppUsage(v)
	}
	if v := h.Get(HeaderPageUsage); v != "" {
		u.Page, _ = ParseAppUsage(v)
	}
	if v := h.Get(HeaderBusinessUseCaseUsage); v != "" {
		pct, regain, _ := ParseBusinessUseCaseUsage(v)
		u.Page = max(u.Page, pct)
		u.RegainAccess = regain
	}
	u.RetryAfter, _ = ParseRetryAfter(h.Get(HeaderRetryAfter), now)
	return u
}

// wireUsage is one usage report: an X-App-Usage or X-Page-Usage value, or
// one entry of X-Business-Use-Case-Usage.
type wireUsage struct {
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	Regain       float64 `json:"estimated_time_to_regain_access"`
}

func (w wireUsage) highest() float64 {
	return math.Max(w.CallCount, math.Max(w.TotalCPUTime, w.TotalTime))
}

// ParseAppUsage reads an X-App-Usage (or X-Page-Usage) value and returns
// the highest of its call_count, total_cputime and total_time percentages.
func ParseAppUsage(v string) (float64, error) {
	var w wireUsage
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return 0, fmt.Errorf("messenger: reading %s: %w", HeaderAppUsage, err)
	}
	return w.highest(), nil
}

// ParseBusinessUseCaseUsage reads an X-Business-Use-Case-Usage value, a
// JSON object from business object IDs to lists of usage entries, and
// returns the highest percentage over all entries and the longest
// estimated_time_to_regain_access (given in minutes), at most
// MaxRetryAfter.
func ParseBusinessUseCaseUsage(v string) (pct float64, regain time.Duration, err error) {
	var usage map[string][]wireUsage
	if err := json.Unmarshal([]byte(v), &usage); err != nil {
		return 0, 0, fmt.Errorf("messenger: reading %s: %w", HeaderBusinessUseCaseUsage, err)
	}
	var minutes float64
	for _, entries := range usage {
		for _, u := range entries {
			pct = math.Max(pct, u.highest())
			minutes = math.Max(minutes, u.Regain)
		}
	}
	if minutes > MaxRetryAfter.Minutes() {
		return pct, MaxRetryAfter, nil
	}
	return pct, time.Duration(minutes * float64(time.Minute)), nil
}

// ThrottleScope says whom a rate limit applies to.
type ThrottleScope int

// Scopes of a rate limit.
const (
	// ThrottleNone: the answer is not a rate limit.
	ThrottleNone ThrottleScope = iota
	// ThrottlePage: every call for the Page waits.
	ThrottlePage
	// ThrottleApp: every call of the app, for every Page, waits.
	ThrottleApp
)

// String names the scope as metrics label it: "none", "page" or "app".
func (s ThrottleScope) String() string {
	switch s {
	case ThrottlePage:
		return "page"
	case ThrottleApp:
		return "app"
	}
	return "none"
}

// Throttle reports whether the error is a rate limit, and whose: Graph
// error 4 (application request limit) is the app's; 17 (user request
// limit, the Page's token), 32 (Page request limit), 613 (calls within
// one hour exceeded) and 80000–80014 (Business Use Case limits: 80001
// Pages, 80002 Instagram, 80006 Messenger) are the Page's. Without a Graph
// code, HTTP 429 is the Page's and HTTP 503 with Retry-After the app's
// (the Graph API itself asks everyone to come back later).
func (e *GraphError) Throttle() ThrottleScope {
	switch {
	case e.Code == 4:
		return ThrottleApp
	case e.Code == 17, e.Code == 32, e.Code == 613, e.Code >= 80000 && e.Code <= 80014:
		return ThrottlePage
	case e.Code != 0:
		return ThrottleNone
	case e.HTTPStatus == http.StatusTooManyRequests:
		return ThrottlePage
	case e.HTTPStatus == http.StatusServiceUnavailable && e.Usage.RetryAfter > 0:
		return ThrottleApp
	}
	return ThrottleNone
}
