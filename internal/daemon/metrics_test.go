package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

// TestMetrics runs one conversation with a refused reply and checks that
// each metric an operator relies on is exposed with the right value.
func TestMetrics(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	psid := standin.NewPSID()
	patron := string(psid) + "@" + testenv.ComponentDomain
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, "hi"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	if _, err := lib.SendChat(patron, "hello!"); err != nil {
		t.Fatal(err)
	}
	waitSent(t, w.Facebook, 1)
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 551, Type: "OAuthException"})
	if _, err := lib.SendChat(patron, "are you there?"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib) // the "Not delivered" notice
	if _, err := lib.SendChat(patron, "!close"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)

	checks := []struct {
		series string
		min    float64
		max    float64
	}{
		{`askbridge_webhook_requests_total{result="accepted"}`, 2, 10}, // the message and the echo
		{`askbridge_events_dispatched_total{kind="message"}`, 1, 1},
		{`askbridge_events_dispatched_total{kind="echo"}`, 1, 1},
		{`askbridge_messages_relayed_total{direction="to_xmpp"}`, 3, 10},
		{`askbridge_messages_relayed_total{direction="to_facebook"}`, 1, 1},
		{`askbridge_send_api_calls_total{outcome="ok"}`, 1, 1},
		{`askbridge_send_api_calls_total{outcome="refused"}`, 1, 1},
		{`askbridge_send_api_errors_total{code="graph 551"}`, 1, 1},
		{`askbridge_queue_depth{queue="to_facebook"}`, 0, 0},
		{`askbridge_queue_oldest_seconds{queue="inbox"}`, 0, 0},
		{`askbridge_outbox_depth`, 0, 0},
		{`askbridge_xmpp_connected`, 1, 1},
		{`askbridge_xmpp_link_changes_total{state="up"}`, 1, 1},
		{`askbridge_sessions_open`, 0, 0},
		{`askbridge_sessions_opened_total`, 1, 1},
		{`askbridge_sessions_closed_total{status="answered"}`, 1, 1},
		{`askbridge_session_wait_seconds_count`, 1, 1},
		{`askbridge_session_duration_seconds_count`, 1, 1},
		{`askbridge_page_tokens_invalid`, 0, 0},
		{`askbridge_inbox_duplicates_total`, 0, 0},
	}
	// Stanzas leave the outbox, and are counted, once the server confirmed
	// them, a moment after the client has them: wait until every metric
	// has its value (or the deadline passes, and say which did not).
	var body string
	var wrong []string
	if !testenv.Holds(10*time.Second, func() bool {
		resp, err := http.Get(w.URL("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body, wrong = string(b), nil
		for _, c := range checks {
			re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.series) + ` ([0-9.e+-]+)$`)
			m := re.FindStringSubmatch(body)
			if m == nil {
				wrong = append(wrong, c.series+" missing")
				continue
			}
			if v, _ := strconv.ParseFloat(m[1], 64); v < c.min || v > c.max {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v..%v", c.series, v, c.min, c.max))
			}
		}
		return len(wrong) == 0
	}) {
		t.Fatalf("metrics after 10 s:\n%s", strings.Join(wrong, "\n"))
	}
	if !regexp.MustCompile(`(?m)^go_goroutines \d+`).MatchString(body) {
		t.Error("Go runtime metrics missing")
	}
}
