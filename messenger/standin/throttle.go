package standin

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// Throttle is a rate limit the stand-in plays the way the Graph API
// answers one: every call in its scope, for as long as it lasts, is refused
// with Meta's error body and usage headers.
type Throttle struct {
	// Page is the Page whose calls are refused; "" throttles the whole
	// app: every Page's calls and the app's own.
	Page messenger.PageID
	// For is how long the throttle lasts from StartThrottle, by the
	// stand-in's clock (Config.Now).
	For time.Duration
	// Code is the Graph error code: 4 (application request limit), 17, 32
	// (Page request limit), 613, 80001, 80006 (Messenger)… 0 answers HTTP
	// 429 Too Many Requests with Retry-After instead.
	Code int
	// Subcode is error_subcode, if any.
	Subcode int
	// Status is the HTTP status; 0 means 400, as Meta answers most rate
	// limits (403 is also seen), or 429 when Code is 0.
	Status int
	// RetryAfter is the Retry-After header, in seconds rounded up. On a
	// 429, 0 means the time left in the throttle; on other statuses, 0
	// means none.
	RetryAfter time.Duration
	// RegainAccess is the estimated_time_to_regain_access reported in
	// X-Business-Use-Case-Usage for a Page's throttle, in minutes rounded
	// up; Meta often reports 0.
	RegainAccess time.Duration
}

// ThrottledCall is a Graph API call that arrived during a throttle.
type ThrottledCall struct {
	// Page is the Page the call was for; "" for an app-level call.
	Page messenger.PageID
	// Path is the request's path, e.g. /v25.0/510249619162304/messages.
	Path string
	// At is when the call arrived, by the stand-in's clock.
	At time.Time
}

// throttleWindow is a Throttle in force.
type throttleWindow struct {
	Throttle
	until time.Time
}

// StartThrottle refuses the calls in t's scope from now until t.For has
// passed. Throttles of different scopes (the app, each Page) add up; a new
// one of the same scope replaces the old.
func (s *Server) StartThrottle(t Throttle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[t.Page] = throttleWindow{Throttle: t, until: s.now().Add(t.For)}
}

// StopThrottle ends the throttle of page ("" for the app) now.
func (s *Server) StopThrottle(page messenger.PageID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.throttles, page)
}

// ThrottledCalls returns every call that arrived while a throttle covered
// it (each was refused), in order.
func (s *Server) ThrottledCalls() []ThrottledCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ThrottledCall(nil), s.throttled...)
}

// ReportUsage makes every accepted call for page ("" for all, in
// X-App-Usage) report percent of the limit used: X-Business-Use-Case-Usage
// for a Page, X-App-Usage for the app. A negative percent stops reporting.
func (s *Server) ReportUsage(page messenger.PageID, percent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if percent < 0 {
		delete(s.usage, page)
		return
	}
	s.usage[page] = percent
}

// refuseThrottled answers a call for page ("" for an app-level call) with
// the throttle covering it, if any, and records the call. It reports
// whether it answered.
func (s *Server) refuseThrottled(w http.ResponseWriter, r *http.Request, page messenger.PageID) bool {
	s.mu.Lock()
	now := s.now()
	t, ok := s.throttles[""]
	if !ok || !now.Before(t.until) {
		t, ok = s.throttles[page]
	}
	if !ok || page == "" && t.Page != "" || !now.Before(t.until) {
		s.mu.Unlock()
		return false
	}
	s.throttled = append(s.throttled, ThrottledCall{Page: page, Path: r.URL.Path, At: now})
	s.notifyLocked()
	s.mu.Unlock()

	e := messenger.GraphError{HTTPStatus: t.Status, Code: t.Code, Subcode: t.Subcode, Message: throttleMessage(t.Code)}
	retry := t.RetryAfter
	if t.Code == 0 {
		if e.HTTPStatus == 0 {
			e.HTTPStatus = http.StatusTooManyRequests
		}
		if retry == 0 {
			retry = t.until.Sub(now)
		}
	}
	if retry > 0 {
		w.Header().Set(messenger.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	if t.Page == "" || t.Code == 4 {
		w.Header().Set(messenger.HeaderAppUsage, `{"call_count":100,"total_cputime":23,"total_time":31}`)
	} else {
		w.Header().Set(messenger.HeaderBusinessUseCaseUsage, bucUsage(t.Page, 100, t.RegainAccess))
	}
	writeGraphError(w, e)
	return true
}

// addUsage sets the usage headers ReportUsage asked for on an accepted
// call for page.
func (s *Server) addUsage(w http.ResponseWriter, page messenger.PageID) {
	s.mu.Lock()
	app, appOK := s.usage[""]
	pct, pageOK := s.usage[page]
	s.mu.Unlock()
	if appOK {
		w.Header().Set(messenger.HeaderAppUsage, fmt.Sprintf(`{"call_count":%d,"total_cputime":1,"total_time":1}`, app))
	}
	if pageOK && page != "" {
		w.Header().Set(messenger.HeaderBusinessUseCaseUsage, bucUsage(page, pct, 0))
	}
}

// bucUsage is an X-Business-Use-Case-Usage value for page.
func bucUsage(page messenger.PageID, percent int, regain time.Duration) string {
	return fmt.Sprintf(`{"%s":[{"type":"messenger","call_count":%d,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":%d}]}`,
		page, percent, int(math.Ceil(regain.Minutes())))
}

// throttleMessage is Meta's message for a rate-limit code.
func throttleMessage(code int) string {
	switch code {
	case 0:
		return "Too Many Requests"
	case 4:
		return "(#4) Application request limit reached"
	case 17:
		return "(#17) User request limit reached"
	case 32:
		return "(#32) Page request limit reached"
	case 613:
		return "(#613) Calls to this api have exceeded the rate limit."
	case 80006:
		return "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
	}
	return fmt.Sprintf("(#%d) There have been too many calls to this account. Wait a bit and try again.", code)
}

// WaitThrottled waits until at least n calls were refused by throttles and
// returns them as ThrottledCalls does, or returns ctx's error.
func (s *Server) WaitThrottled(ctx context.Context, n int) ([]ThrottledCall, error) {
	for {
		s.mu.Lock()
		if len(s.throttled) >= n {
			out := append([]ThrottledCall(nil), s.throttled...)
			s.mu.Unlock()
			return out, nil
		}
		ch, have := s.changed, len(s.throttled)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("standin: waiting for %d throttled calls (have %d): %w", n, have, ctx.Err())
		}
	}
}
