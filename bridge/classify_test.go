package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// TestGraphErrorClassification covers every code the bridge must tell
// apart, by code and subcode only (messages are localized).
func TestGraphErrorClassification(t *testing.T) {
	cases := []struct {
		code, sub int
		status    int
		retry     bool
		reason    string
	}{
		{1200, 0, 500, true, reasonRetry},
		{2, 0, 500, true, reasonRetry},
		{-1, 0, 500, true, reasonRetry},
		{4, 0, 400, true, reasonRetry},
		{17, 0, 400, true, reasonRetry},
		{32, 0, 400, true, reasonRetry},
		{613, 0, 400, true, reasonRetry},
		{0, 0, 502, true, reasonRetry},
		{10, 2018278, 400, false, reasonWindow},
		{551, 0, 400, false, reasonGone},
		{200, 1545041, 400, false, reasonGone},
		{10, 2018108, 400, false, reasonOther},
		{10, 2018300, 400, false, reasonOther},
		{100, 0, 400, false, reasonParam},
		{10, 0, 403, false, reasonPerm},
		{200, 230, 403, false, reasonPerm},
		{190, 0, 400, false, reasonToken},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d/%d", c.code, c.sub), func(t *testing.T) {
			ge := &messenger.GraphError{HTTPStatus: c.status, Code: c.code, Subcode: c.sub,
				Message: "(#x) un message traduit"}
			if got := ge.Retryable(); got != c.retry {
				t.Errorf("Retryable = %v, want %v", got, c.retry)
			}
			if got := undeliveredReason(ge); got != c.reason {
				t.Errorf("reason = %q, want %q", got, c.reason)
			}
		})
	}
	if got := undeliveredReason(errors.New("dial tcp: connection refused")); got != reasonRetry {
		t.Errorf("transport error reason = %q", got)
	}
}

func TestRetryDelayHonoursUsageHeader(t *testing.T) {
	for attempt := 1; attempt < 12; attempt++ {
		d := retryDelay(attempt, errors.New("timeout"))
		if d < retryMin/2 || d > retryMax {
			t.Errorf("attempt %d: delay %v out of [%v, %v]", attempt, d, retryMin/2, retryMax)
		}
	}
	if d := retryDelay(1, &messenger.GraphError{Code: 613, RetryAfter: 7 * time.Minute}); d != 7*time.Minute {
		t.Errorf("delay with estimated_time_to_regain_access = %v, want 7m", d)
	}
	// Later attempts wait longer (medians over the jitter).
	if a, b := medianDelay(1), medianDelay(6); b < 8*a {
		t.Errorf("backoff does not grow: %v then %v", a, b)
	}
}

func medianDelay(attempt int) time.Duration {
	var sum time.Duration
	for range 200 {
		sum += backoff(attempt)
	}
	return sum / 200
}

func TestSeenEntriesKeptSevenDays(t *testing.T) {
	h := newHarness(t)
	h.accept(patronText("mid.old", "old", h.clock.Now()))
	h.clock.Advance(6 * 24 * time.Hour)
	h.accept(patronText("mid.new", "new", h.clock.Now()))
	if n, err := h.b.pruneSeen(); err != nil || n != 0 {
		t.Fatalf("pruned %d after 6 days (%v)", n, err)
	}
	h.clock.Advance(2 * 24 * time.Hour)
	if n, err := h.b.pruneSeen(); err != nil || n != 1 {
		t.Fatalf("pruned %d after 8 days, want 1 (%v)", n, err)
	}
	// The younger mid is still recognised after a restart.
	h.close()
	h.open()
	h.run()
	h.accept(patronText("mid.new", "new", h.clock.Now()))
	if m := h.link.next(t); m.Body != "old" {
		t.Fatalf("first relayed = %q", m.Body)
	}
	if m := h.link.next(t); m.Body != "new" {
		t.Fatalf("second relayed = %q", m.Body)
	}
	h.quiet(t)
}

func TestOverlongIdentitiesAreHashed(t *testing.T) {
	h := newHarness(t)
	h.run()
	long := strings.Repeat("m", 40000)
	h.accept(patronText(long, "a very long mid", h.clock.Now()))
	if m := h.link.next(t); m.Body != "a very long mid" {
		t.Fatalf("got %q", m.Body)
	}
	h.accept(patronText(long, "a very long mid", h.clock.Now())) // still deduplicated
	h.quiet(t)
	if e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: strings.Repeat("x", 33000), From: jid.MustParse("alice@library.test/x"),
		To: jid.MustParse(testPSID + "@" + testDomain), Type: "chat", Body: "reply with a huge id"}); e != nil {
		t.Fatalf("refused: %v", e)
	}
	if m := h.api.next(t); m.Text != "reply with a huge id" {
		t.Errorf("got %q", m.Text)
	}
}

func TestTagsCannotBeFormulas(t *testing.T) {
	for tag, ok := range map[string]bool{"hours": true, "e-books": true, "2fa": true, "=cmd|calc": false, "+1": false, "-x": false, "@sum": false, "café": true} {
		if validTag(tag) != ok {
			t.Errorf("validTag(%q) = %v", tag, !ok)
		}
	}
}
