package standin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// fakeNow is a settable clock for the stand-in.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeNow) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestThrottleStandin(t *testing.T) {
	r := newRig(t, false)
	clk := &fakeNow{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	r.st.cfg.Now = clk.Now
	ctx := context.Background()
	send := func(token string, page messenger.PageID) error {
		_, err := r.client.Send(ctx, token, page, messenger.OutgoingMessage{Recipient: patron, Text: "hi"})
		return err
	}
	graphErr := func(err error) *messenger.GraphError {
		t.Helper()
		var ge *messenger.GraphError
		if !errors.As(err, &ge) {
			t.Fatalf("got %v, want a Graph error", err)
		}
		return ge
	}

	// A Page-wide limit refuses that Page's calls, and only those.
	r.st.StartThrottle(Throttle{Page: pageA, For: 12 * time.Second, Code: 32, RegainAccess: 30 * time.Second})
	ge := graphErr(send(tokenA, pageA))
	if ge.HTTPStatus != 400 || ge.Code != 32 || ge.Type != "OAuthException" || ge.FBTraceID == "" ||
		ge.Throttle() != messenger.ThrottlePage || ge.RetryAfter != time.Minute || ge.Usage.Page != 100 {
		t.Errorf("Page throttle answered %+v", ge)
	}
	if err := r.client.CheckToken(ctx, tokenA, pageA); err == nil {
		t.Error("GET /me during a Page throttle succeeded")
	}
	if err := send(tokenB, pageB); err != nil {
		t.Errorf("the other Page: %v", err)
	}
	clk.Advance(12 * time.Second)
	if err := send(tokenA, pageA); err != nil {
		t.Errorf("after the throttle: %v", err)
	}
	if calls := r.st.ThrottledCalls(); len(calls) != 2 || calls[0].Page != pageA || calls[0].Path != "/v21.0/"+string(pageA)+"/messages" {
		t.Errorf("throttled calls %+v", calls)
	}

	// An app-wide limit refuses every Page, with X-App-Usage.
	r.st.StartThrottle(Throttle{For: time.Minute, Code: 4, Status: 403})
	for _, p := range []struct {
		token string
		page  messenger.PageID
	}{{tokenA, pageA}, {tokenB, pageB}} {
		ge := graphErr(send(p.token, p.page))
		if ge.HTTPStatus != 403 || ge.Code != 4 || ge.Throttle() != messenger.ThrottleApp || ge.Usage.App != 100 {
			t.Errorf("app throttle answered %+v", ge)
		}
	}
	if _, err := r.client.AppSubscriptions(ctx, testAppID, testSecret); err == nil {
		t.Error("an app-level call during an app throttle succeeded")
	}
	r.st.StopThrottle("")
	if err := send(tokenB, pageB); err != nil {
		t.Errorf("after StopThrottle: %v", err)
	}

	// A 429 says when to come back.
	r.st.StartThrottle(Throttle{Page: pageB, For: 8 * time.Second})
	clk.Advance(500 * time.Millisecond)
	ge = graphErr(send(tokenB, pageB))
	if ge.HTTPStatus != 429 || ge.RetryAfter != 8*time.Second || ge.Throttle() != messenger.ThrottlePage {
		t.Errorf("429 answered %+v", ge)
	}
	if calls, err := r.st.WaitThrottled(ctx, 6); err != nil || len(calls) != 6 {
		t.Errorf("WaitThrottled: %d calls, %v", len(calls), err)
	}

	// Usage reported on accepted calls.
	r.st.ReportUsage("", 96)
	r.st.ReportUsage(pageA, 91)
	res, err := r.client.Send(ctx, tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, Text: "hi"})
	if err != nil || res.Usage.App != 96 || res.Usage.Page != 91 {
		t.Errorf("usage on success: %+v, %v", res.Usage, err)
	}
}
