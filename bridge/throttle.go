package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger"
)

// Facebook applies its rate limits to the whole app (error 4, X-App-Usage)
// or to a Page (errors 17, 32, 613, 80001–80014, X-Page-Usage,
// X-Business-Use-Case-Usage), never to one conversation. The throttle
// shares what one call learns with every call of that scope: once a limit
// is reached, every Graph call of the Page (or of the app) waits for the
// window Facebook gave — Retry-After or estimated_time_to_regain_access —
// or, when it gave none, for a window that doubles with each limit in a
// row. After the window a single call goes out as a probe; the others wait
// for its answer, and go on only if it was not refused for the limit.

const (
	// throttleFirst is the window after a limit that does not say when
	// access returns; it doubles with each limit in a row.
	throttleFirst = 10 * time.Second
	// throttleMax bounds that window.
	throttleMax = 10 * time.Minute
	// usageThreshold is the usage of a limit, in percent, from which the
	// bridge stops calling as if the limit were reached: Facebook refuses
	// calls at 100.
	usageThreshold = 95
)

// errThrottled means a call was not made because its Page or the app is
// throttled.
var errThrottled = errors.New("bridge: Facebook's rate limit is in force")

// limitState is one scope's throttle: the app's or a Page's.
type limitState struct {
	scope messenger.ThrottleScope
	page  string
	// strikes counts limits in a row; 0 means calls go freely.
	strikes int
	// until is the end of the window: no call before it.
	until time.Time
	// probing is set while the probe after the window is in flight.
	probing bool
	// gen changes with each new limit, so that answers to calls made
	// before it do not count as further limits in a row.
	gen    int
	reason string
}

// ticket is a permission to make one call, returned to the throttle with
// its outcome.
type ticket struct {
	page string
	// gens are the generations of the app's and the Page's state when the
	// ticket was given; probes whether the ticket is their probe.
	gens   [2]int
	probes [2]bool
}

// throttle is the shared limiter of Graph API calls, per app and per Page.
type throttle struct {
	log   *zap.Logger
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	m     *metrics

	mu      sync.Mutex
	app     limitState
	pages   map[string]*limitState
	changed chan struct{} // closed and replaced on every change
}

func newThrottle(log *zap.Logger, now func() time.Time, after func(time.Duration) <-chan time.Time, m *metrics) *throttle {
	return &throttle{log: log, now: now, after: after, m: m,
		app:     limitState{scope: messenger.ThrottleApp},
		pages:   map[string]*limitState{},
		changed: make(chan struct{})}
}

// scopesLocked returns the app's state and the Page's (nil for "").
func (t *throttle) scopesLocked(page string) [2]*limitState {
	if page == "" {
		return [2]*limitState{&t.app, nil}
	}
	p := t.pages[page]
	if p == nil {
		p = &limitState{scope: messenger.ThrottlePage, page: page}
		t.pages[page] = p
	}
	return [2]*limitState{&t.app, p}
}

// acquire waits until a call for page ("" for an app-level call) may go
// out, and returns its ticket, to be given back with done or release.
// With block false it does not wait: it fails with errThrottled. The
// calls it holds back are counted once each.
func (t *throttle) acquire(ctx context.Context, page string, block bool) (*ticket, error) {
	counted := false
	for {
		t.mu.Lock()
		now := t.now()
		scopes := t.scopesLocked(page)
		var by *limitState
		var d time.Duration
		for _, s := range scopes {
			if s == nil || s.strikes == 0 {
				continue
			}
			switch {
			case now.Before(s.until):
				if w := s.until.Sub(now); by == nil || d == 0 || w < d {
					d = w
				}
				by = s
			case s.probing:
				if by == nil {
					by = s
				}
			}
		}
		if by == nil {
			tk := &ticket{page: page}
			for i, s := range scopes {
				if s == nil {
					continue
				}
				tk.gens[i] = s.gen
				if s.strikes > 0 {
					s.probing, tk.probes[i] = true, true
				}
			}
			t.mu.Unlock()
			return tk, nil
		}
		if !counted {
			counted = true
			t.m.callsHeld.WithLabelValues(by.scope.String()).Inc()
		}
		changed := t.changed
		t.mu.Unlock()
		if !block {
			return nil, errThrottled
		}
		var timer <-chan time.Time
		if d > 0 {
			timer = t.after(d)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("bridge: waiting out Facebook's rate limit: %w", ctx.Err())
		case <-changed:
		case <-timer:
		}
	}
}

// release gives back a ticket whose call was not made.
func (t *throttle) release(tk *ticket) {
	if tk == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.scopesLocked(tk.page) {
		if s != nil && tk.probes[i] {
			s.probing = false
		}
	}
	t.notifyLocked()
}

// done gives back a ticket with the outcome of its call: the usage
// headers of a successful answer, or the error. A rate limit, or usage
// from usageThreshold, starts or extends its scope's window; any other
// answer to a probe lifts it.
func (t *throttle) done(tk *ticket, u messenger.Usage, err error) {
	if tk == nil {
		return
	}
	scope := messenger.ThrottleNone
	var ge *messenger.GraphError
	if errors.As(err, &ge) {
		scope, u = ge.Throttle(), ge.Usage
	}
	hit := [2]bool{
		scope == messenger.ThrottleApp || u.App >= usageThreshold,
		scope == messenger.ThrottlePage || u.Page >= usageThreshold,
	}
	reason := fmt.Sprintf("usage at %.0f%% of the app's limit, %.0f%% of the Page's", u.App, u.Page)
	if scope != messenger.ThrottleNone {
		reason = errorCode(ge)
		if ge.Code == 0 {
			reason = fmt.Sprintf("HTTP %d", ge.HTTPStatus)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for i, s := range t.scopesLocked(tk.page) {
		if s == nil {
			continue
		}
		if tk.probes[i] {
			s.probing = false
		}
		switch {
		case hit[i]:
			t.limitLocked(s, tk.gens[i], u.Wait(), reason, now)
		case tk.probes[i] && s.strikes > 0:
			t.log.Info("Facebook's rate limit is over; calls go out again",
				zap.String("scope", s.scope.String()), zap.String("page", s.page), zap.Int("limits_in_a_row", s.strikes))
			s.strikes, s.until, s.reason = 0, time.Time{}, ""
		}
	}
	t.gaugesLocked()
	t.notifyLocked()
}

// limitLocked starts or extends a scope's window after a limit met by a
// call made in generation gen. t.mu must be held.
func (t *throttle) limitLocked(s *limitState, gen int, wait time.Duration, reason string, now time.Time) {
	fresh := gen == s.gen
	if fresh {
		// A new limit, not the answer to a call made before the last one.
		s.strikes++
		s.gen++
		t.m.throttles.WithLabelValues(s.scope.String()).Inc()
	}
	window := wait
	if window <= 0 {
		window = throttleFirst
		for i := 1; i < s.strikes && window < throttleMax; i++ {
			window *= 2
		}
		window = min(window, throttleMax)
	}
	if until := now.Add(window); until.After(s.until) {
		s.until = until
	}
	s.reason = reason
	log := t.log.Debug
	switch {
	case fresh && s.strikes == 1:
		log = t.log.Warn
	case fresh:
		log = t.log.Info
	}
	log("Facebook's rate limit reached: calls wait", zap.String("scope", s.scope.String()), zap.String("page", s.page),
		zap.String("reason", reason), zap.Duration("for", s.until.Sub(now)), zap.Int("limits_in_a_row", s.strikes))
}

// gaugesLocked sets askbridge_facebook_throttled. t.mu must be held.
func (t *throttle) gaugesLocked() {
	app, pages := 0.0, 0.0
	if t.app.strikes > 0 {
		app = 1
	}
	for _, p := range t.pages {
		if p.strikes > 0 {
			pages++
		}
	}
	t.m.throttled.WithLabelValues("app").Set(app)
	t.m.throttled.WithLabelValues("page").Set(pages)
}

func (t *throttle) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// throttledUntil reports whether calls for page wait (for the app's or the
// Page's limit), and until when at least.
func (t *throttle) throttledUntil(page string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	on := false
	for _, s := range t.scopesLocked(page) {
		if s != nil && s.strikes > 0 {
			on = true
			if s.until.After(until) {
				until = s.until
			}
		}
	}
	return until, on
}

// Throttled lists Facebook's rate limits in force, by Page ID ("" for the
// app's), with the end of the current window (a probe call goes out then).
func (b *Bridge) Throttled() map[string]time.Time {
	t := b.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]time.Time{}
	if t.app.strikes > 0 {
		out[""] = t.app.until
	}
	for id, p := range t.pages {
		if p.strikes > 0 {
			out[id] = p.until
		}
	}
	return out
}

// GraphCall makes a Graph API call for the Page pageID ("" for an
// app-level call) through the rate limiter the Send API outbox uses: it
// waits while the Page or the app is throttled, then calls call and
// learns from its error. Other parts of the daemon (token and webhook
// checks) call Facebook this way so that they, too, keep to its limits.
func (b *Bridge) GraphCall(ctx context.Context, pageID string, call func(context.Context) error) error {
	tk, err := b.throttle.acquire(ctx, pageID, true)
	if err != nil {
		return err
	}
	err = call(ctx)
	b.throttle.done(tk, messenger.Usage{}, err)
	return err
}

// newThrottleMetrics makes the throttle's metrics.
func newThrottleMetrics() (throttled *prometheus.GaugeVec, held, throttles *prometheus.CounterVec) {
	throttled = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "askbridge_facebook_throttled",
		Help: "Facebook rate limits in force: 1 for the app (scope app), the number of Pages (scope page)."}, []string{"scope"})
	held = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_facebook_calls_held_total",
		Help: "Graph API calls held back (messages, until the limit is over) or dropped (sender actions) by a rate limit, by its scope."}, []string{"scope"})
	throttles = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_facebook_throttles_total",
		Help: "Facebook rate limits met, by scope (each limit in a row counts)."}, []string{"scope"})
	return throttled, held, throttles
}
