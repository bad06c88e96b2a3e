package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/xmpp"
)

const (
	testPage2  = "510249619162399"
	testToken2 = "page-token-2"
)

// newGraphHarness is a bridge whose Send API calls go over real HTTP to
// the Graph API stand-in, with two Pages, and whose Facebook waits run on
// the harness clock, which the stand-in shares.
func newGraphHarness(t *testing.T) (*harness, *standin.Server) {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), link: newFakeLink(), api: newFakeAPI(),
		clock: &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}, fakeTimers: true}
	st := standin.New(standin.Config{AppID: testAppID, AppSecret: "s", Log: zap.NewNop(), Now: h.clock.Now,
		Pages: []standin.Page{{ID: testPage, Name: "Central", AccessToken: "page-token"}, {ID: testPage2, Name: "Branch", AccessToken: testToken2}}})
	srv := httptest.NewServer(st.Handler())
	t.Cleanup(srv.Close)
	h.cfg = testConfig(h.dir)
	h.cfg.Messenger.GraphURL = srv.URL
	h.cfg.Messenger.Pages = append(h.cfg.Messenger.Pages, config.Page{ID: testPage2, Name: "Branch", AccessToken: testToken2})
	h.sendAPI = messenger.NewClient(srv.URL, "v25.0", srv.Client())
	h.open()
	t.Cleanup(h.close)
	h.run()
	return h, st
}

// openConversations starts a conversation with each patron on page.
func (h *harness) openConversations(page string, psids ...string) {
	h.t.Helper()
	for _, p := range psids {
		h.accept(messenger.Event{Kind: messenger.KindMessage, Page: messenger.PageID(page), Patron: messenger.PSID(p),
			Time: h.clock.Now(), MID: messenger.MID("mid.q" + p), Text: "question"})
		h.link.next(h.t)
	}
}

func patrons(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// replyTo stores a librarian's reply to the patron.
func (h *harness) replyTo(psid, body string) {
	h.t.Helper()
	if e := h.b.HandleMessage(context.Background(), xmppMsgTo("alice@library.test/x", psid, body)); e != nil {
		h.t.Fatal(e)
	}
}

// chatState sends a librarian's chat state to the patron.
func (h *harness) chatState(psid, state string) {
	h.t.Helper()
	if e := h.b.HandleMessage(context.Background(), xmpp.Message{ID: "cs", From: jid.MustParse("alice@library.test/x"),
		To: jid.MustParse(psid + "@" + testDomain), Type: "chat", ChatState: state}); e != nil {
		h.t.Fatal(e)
	}
}

// activeWorkers counts the conversations with replies waiting, each of
// which has a Send API sender.
func (h *harness) activeWorkers() int { return int(h.b.fq.convs.Load()) }

// passTime moves the clock on a second at a time, each time once every
// Send API sender waits on it, until done holds; it fails after limit.
func (h *harness) passTime(limit time.Duration, done func() bool) {
	h.t.Helper()
	end := h.clock.Now().Add(limit)
	for !done() {
		if h.clock.Now().After(end) {
			h.t.Fatalf("not done after %v of test time", limit)
		}
		waitFor(h.t, func() bool { return done() || len(h.clock.waiting()) >= h.activeWorkers() })
		h.clock.Advance(time.Second)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// sentTexts returns the texts the stand-in accepted, by patron.
func sentTexts(sent []standin.SentMessage) (map[string][]string, int) {
	by := map[string][]string{}
	actions := 0
	for _, m := range sent {
		if m.SenderAction != "" {
			actions++
			continue
		}
		by[string(m.Recipient)] = append(by[string(m.Recipient)], m.Text)
	}
	return by, actions
}

// checkDelivered checks that each patron got "<psid> #0" … "#n-1" in order.
func checkDelivered(t *testing.T, st *standin.Server, psids []string, n int) {
	t.Helper()
	by, _ := sentTexts(st.Sent())
	for _, p := range psids {
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("%s #%d", p, i))
		}
		if got := by[p]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("patron %s got %q, want %q", p, got, want)
		}
	}
}

// TestThrottlePageWide checks that a Page-wide rate limit met by one
// conversation holds every conversation of the Page: at most the first
// call and one probe reach Facebook during the limit, sender actions are
// dropped, and every reply is delivered in order afterwards.
func TestThrottlePageWide(t *testing.T) {
	h, st := newGraphHarness(t)
	psids := patrons("10668354366910", 8)
	h.openConversations(testPage, psids...)
	const window = 12 * time.Second
	st.StartThrottle(standin.Throttle{Page: testPage, For: window, Code: 32})
	start := h.clock.Now()

	h.replyTo(psids[0], psids[0]+" #0")
	if _, err := st.WaitThrottled(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, on := h.b.throttle.throttledUntil(testPage); return on })
	for n := range 3 {
		for i, p := range psids {
			if n > 0 || i > 0 {
				h.replyTo(p, fmt.Sprintf("%s #%d", p, n))
			}
		}
	}
	h.chatState(psids[1], "composing")
	held := h.b.metrics.callsHeld.WithLabelValues("page")
	// The seven other conversations wait, and the typing indicator is
	// dropped.
	waitFor(t, func() bool { return counterValue(t, held) >= 8 })
	if g := gaugeValue(t, h.b.metrics.throttled.WithLabelValues("page")); g != 1 {
		t.Errorf("askbridge_facebook_throttled{scope=page} = %v during the limit", g)
	}

	h.passTime(5*time.Minute, func() bool { by, _ := sentTexts(st.Sent()); return len(by) == 8 && len(st.Sent()) >= 24 })
	var during int
	for _, c := range st.ThrottledCalls() {
		if c.At.Before(start.Add(window)) {
			during++
		}
	}
	t.Logf("calls during a %v Page-wide limit across %d conversations: %d (%d in all refused)", window, len(psids), during, len(st.ThrottledCalls()))
	if during > 2 {
		t.Errorf("%d calls reached Facebook during the limit, want at most 2", during)
	}
	checkDelivered(t, st, psids, 3)
	if _, actions := sentTexts(st.Sent()); actions != 0 {
		t.Errorf("%d sender actions sent during the limit", actions)
	}
	if g := gaugeValue(t, h.b.metrics.throttled.WithLabelValues("page")); g != 0 {
		t.Errorf("askbridge_facebook_throttled{scope=page} = %v after the limit", g)
	}
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	for _, r := range h.records() {
		if r.Direction == Outbound && r.State == StateFailed {
			t.Errorf("a reply failed: %+v", r)
		}
	}
}

// TestThrottleAppWide checks that an app-wide limit (error 4) met on one
// Page holds the other Page's conversations too.
func TestThrottleAppWide(t *testing.T) {
	h, st := newGraphHarness(t)
	a, b := patrons("10668354366920", 4), patrons("10668354366930", 4)
	h.openConversations(testPage, a...)
	h.openConversations(testPage2, b...)
	const window = 12 * time.Second
	st.StartThrottle(standin.Throttle{For: window, Code: 4, Status: 403})
	start := h.clock.Now()

	h.replyTo(a[0], a[0]+" #0")
	if _, err := st.WaitThrottled(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, on := h.b.Throttled()[""]; return on })
	for n := range 2 {
		for i, p := range append(append([]string(nil), a...), b...) {
			if n > 0 || i > 0 {
				h.replyTo(p, fmt.Sprintf("%s #%d", p, n))
			}
		}
	}
	waitFor(t, func() bool { return counterValue(t, h.b.metrics.callsHeld.WithLabelValues("app")) >= 7 })
	if g := gaugeValue(t, h.b.metrics.throttled.WithLabelValues("app")); g != 1 {
		t.Errorf("askbridge_facebook_throttled{scope=app} = %v during the limit", g)
	}
	h.passTime(5*time.Minute, func() bool { return len(st.Sent()) >= 16 })
	var during, otherPage int
	for _, c := range st.ThrottledCalls() {
		if c.At.Before(start.Add(window)) {
			during++
			if c.Page == testPage2 {
				otherPage++
			}
		}
	}
	t.Logf("calls during a %v app-wide limit across 2 Pages, 8 conversations: %d (%d for the other Page)", window, during, otherPage)
	if during > 2 {
		t.Errorf("%d calls reached Facebook during the limit, want at most 2", during)
	}
	checkDelivered(t, st, append(a, b...), 2)
	if g := gaugeValue(t, h.b.metrics.throttled.WithLabelValues("app")); g != 0 {
		t.Errorf("askbridge_facebook_throttled{scope=app} = %v after the limit", g)
	}
}

// TestRetryAfterHonoured checks that a 429 with Retry-After: 8 is retried
// 8 seconds later, not after the usual one-second backoff, and that the
// Page's other conversations wait as long.
func TestRetryAfterHonoured(t *testing.T) {
	h, st := newGraphHarness(t)
	psids := patrons("10668354366940", 2)
	h.openConversations(testPage, psids...)
	st.StartThrottle(standin.Throttle{Page: testPage, For: 8 * time.Second}) // 429, Retry-After: 8
	refusedAt := h.clock.Now()
	h.replyTo(psids[0], psids[0]+" #0")
	if _, err := st.WaitThrottled(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { w := h.clock.waiting(); return len(w) > 0 })
	h.replyTo(psids[1], psids[1]+" #0")
	waitFor(t, func() bool { return len(h.clock.waiting()) >= 2 })
	for _, at := range h.clock.waiting() {
		if d := at.Sub(refusedAt); d < 8*time.Second {
			t.Errorf("the bridge wakes %v after a 429 with Retry-After: 8", d)
		}
	}
	h.clock.Advance(7 * time.Second)
	if n := len(st.ThrottledCalls()) + len(st.Sent()); n != 1 {
		t.Errorf("%d calls within 7 s", n)
	}
	h.clock.Advance(time.Second)
	sent, err := st.WaitSent(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sent {
		if d := m.At.Sub(refusedAt); d < 8*time.Second {
			t.Errorf("%q sent %v after the 429", m.Text, d)
		}
	}
	if n := len(st.ThrottledCalls()); n != 1 {
		t.Errorf("%d calls refused, want 1", n)
	}
}

// TestThrottleUsageHeaders checks that usage reported at 95% or more
// makes the Page's calls wait before Facebook refuses any.
func TestThrottleUsageHeaders(t *testing.T) {
	h, st := newGraphHarness(t)
	psids := patrons("10668354366950", 2)
	h.openConversations(testPage, psids...)
	st.ReportUsage(testPage, 96)
	h.replyTo(psids[0], psids[0]+" #0")
	if _, err := st.WaitSent(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, on := h.b.throttle.throttledUntil(testPage); return on })
	st.ReportUsage(testPage, 40)
	h.replyTo(psids[1], psids[1]+" #0")
	waitFor(t, func() bool { return counterValue(t, h.b.metrics.callsHeld.WithLabelValues("page")) >= 1 })
	if n := len(st.Sent()); n != 1 {
		t.Errorf("%d calls while usage was at 96%%", n)
	}
	h.passTime(time.Minute, func() bool { return len(st.Sent()) >= 2 })
	if d := st.Sent()[1].At.Sub(st.Sent()[0].At); d < throttleFirst {
		t.Errorf("second call %v after the first, want at least %v", d, throttleFirst)
	}
	if _, on := h.b.throttle.throttledUntil(testPage); on {
		t.Error("still throttled after a call reported usage at 40%")
	}
}

// TestThrottleGraphCall checks that the daemon's other Graph calls wait
// for the limit too.
func TestThrottleGraphCall(t *testing.T) {
	h, st := newGraphHarness(t)
	h.openConversations(testPage, testPSID)
	st.StartThrottle(standin.Throttle{Page: testPage, For: time.Minute, Code: 80006})
	h.replyTo(testPSID, "hello")
	waitFor(t, func() bool { _, on := h.b.throttle.throttledUntil(testPage); return on })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	called := false
	err := h.b.GraphCall(ctx, testPage, func(context.Context) error { called = true; return nil })
	if called || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GraphCall during the limit: called %v, %v", called, err)
	}
	// The other Page is not held.
	if err := h.b.GraphCall(t.Context(), testPage2, func(context.Context) error { called = true; return nil }); err != nil || !called {
		t.Errorf("GraphCall for the other Page: called %v, %v", called, err)
	}
}

// TestLongThrottleNotUndelivered: a limit longer than the 30 minutes a
// reply is retried for (Facebook asking for 45) delays the reply; it is
// not reported undelivered for the wait itself.
func TestLongThrottleNotUndelivered(t *testing.T) {
	h, st := newGraphHarness(t)
	h.openConversations(testPage, testPSID)
	st.StartThrottle(standin.Throttle{Page: testPage, For: 45 * time.Minute, Code: 80006, RegainAccess: 45 * time.Minute})
	h.replyTo(testPSID, "We open at 9.")
	if _, err := st.WaitThrottled(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// Refused as undelivered, it would never be sent.
	h.passTime(50*time.Minute, func() bool { by, _ := sentTexts(st.Sent()); return len(by[testPSID]) == 1 })
}
