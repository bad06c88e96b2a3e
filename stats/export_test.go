package stats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

const libraryH3lpHeader = "id,guest,protocol,queue,profile,started,wait,duration,operator,ip,referrer,tags"

func TestSessionsHeaderStartsWithLibraryH3lp(t *testing.T) {
	out := string(export(t, fullQuery(t, "sessions", "csv"), nil))
	if !strings.HasPrefix(out, libraryH3lpHeader+",") {
		t.Errorf("header %q does not start with %q", strings.SplitN(out, "\n", 2)[0], libraryH3lpHeader)
	}
	if got := strings.Join(stats.SessionColumns(), ","); !strings.HasPrefix(out, got+"\n") {
		t.Errorf("SessionColumns() %q is not the header", got)
	}
}

// TestSessionsJSONMatchesCSV checks that JSON objects use the CSV column
// names, in the same order.
func TestSessionsJSONMatchesCSV(t *testing.T) {
	var rows []map[string]any
	if err := json.Unmarshal(export(t, fullQuery(t, "sessions", "json"), fixture(t)), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 12 {
		t.Fatalf("%d rows, want 12", len(rows))
	}
	for _, col := range stats.SessionColumns() {
		if _, ok := rows[0][col]; !ok {
			t.Errorf("JSON row lacks %q", col)
		}
	}
	if len(rows[0]) != len(stats.SessionColumns()) {
		t.Errorf("JSON row has %d keys, want %d", len(rows[0]), len(stats.SessionColumns()))
	}
}

// TestDST checks hours and offsets around the spring-forward of Sunday 8
// March 2026 in Toronto.
func TestDST(t *testing.T) {
	sessions := fixture(t)
	rows, err := csv.NewReader(bytes.NewReader(export(t, fullQuery(t, "hourly", "csv"), sessions))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// rows[0] is the header, rows[h+1] hour h.
	for h, want := range map[int]string{1: "1", 2: "0", 3: "1"} {
		if got := rows[h+1][1]; got != want {
			t.Errorf("hour %d: %s sessions, want %s", h, got, want)
		}
	}
	out := string(export(t, fullQuery(t, "sessions", "csv"), sessions))
	for _, want := range []string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("sessions export lacks %s", want)
		}
	}
}

// TestEmpty checks the shape of every report when nothing matches.
func TestEmpty(t *testing.T) {
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			out := export(t, fullQuery(t, report, format), nil)
			if format == "json" && !json.Valid(out) {
				t.Errorf("%s json is not valid JSON: %s", report, out)
			}
			if format == "csv" {
				if _, err := csv.NewReader(bytes.NewReader(out)).ReadAll(); err != nil {
					t.Errorf("%s csv: %v", report, err)
				}
			}
		}
	}
	if got := string(export(t, fullQuery(t, "sessions", "json"), nil)); got != "[]\n" {
		t.Errorf("empty sessions json = %q", got)
	}
	var sum map[string]any
	if err := json.Unmarshal(export(t, fullQuery(t, "summary", "json"), nil), &sum); err != nil {
		t.Fatal(err)
	}
	if sum["sessions"] != 0.0 || sum["mean_wait"] != nil {
		t.Errorf("empty summary: sessions %v mean_wait %v", sum["sessions"], sum["mean_wait"])
	}
	monthly := string(export(t, fullQuery(t, "monthly", "csv"), nil))
	if monthly != "month,sessions,answered,questions\n2026-02,0,0,0\n2026-03,0,0,0\n" {
		t.Errorf("empty monthly:\n%s", monthly)
	}
}

type failingWriter struct{}

var errDisk = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriteError(t *testing.T) {
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			err := stats.Write(failingWriter{}, fullQuery(t, report, format), fixture(t))
			if !errors.Is(err, errDisk) || errors.Is(err, stats.ErrInvalidQuery) {
				t.Errorf("%s %s: error %v", report, format, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "stats: writing "+report+" "+format) {
				t.Errorf("%s %s: error %q lacks context", report, format, err)
			}
		}
	}
}

// TestTalliesIgnoreFilters checks that the summary and status reports
// count every finished session whatever the filters, that the status
// counts add up to the sessions, and that the filters still choose the
// rows of the sessions export.
func TestTalliesIgnoreFilters(t *testing.T) {
	sessions := fixture(t)
	summary := func(q stats.Query) map[string]any {
		t.Helper()
		q.Report, q.Format = "summary", "json"
		var sum map[string]any
		if err := json.Unmarshal(export(t, q, sessions), &sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	full := fullQuery(t, "summary", "json")
	narrow := full
	narrow.IncludeUnanswered, narrow.IncludeAuto, narrow.MinDuration = false, false, time.Hour
	a, b := summary(full), summary(narrow)
	for k, v := range a {
		if b[k] != v {
			t.Errorf("summary %s: %v with every filter off, %v with filters on", k, v, b[k])
		}
	}
	var total float64
	for _, st := range []string{"answered", "missed", "after_hours", "undelivered", "auto_only"} {
		n, ok := a[st].(float64)
		if !ok {
			t.Fatalf("summary has no %s count: %v", st, a)
		}
		total += n
	}
	if a["sessions"] != total || total != 12 {
		t.Errorf("statuses add up to %v, sessions %v; want 12 both", total, a["sessions"])
	}
	if a["undelivered"] != 1.0 {
		t.Errorf("undelivered = %v, want 1", a["undelivered"])
	}
	// The undelivered session's 2-hour wait is in no wait figure; the
	// directional questions are not reference transactions.
	if a["p90_wait"] != 300.0 || a["median_wait"] != 30.0 {
		t.Errorf("waits p90 %v median %v, want 300 and 30", a["p90_wait"], a["median_wait"])
	}
	if a["questions"] != 10.0 || a["directional"] != 2.0 || a["reference_transactions"] != 8.0 {
		t.Errorf("questions %v directional %v reference_transactions %v, want 10, 2, 8",
			a["questions"], a["directional"], a["reference_transactions"])
	}
	status := func(q stats.Query) string {
		q.Report, q.Format = "status", "csv"
		return string(export(t, q, sessions))
	}
	if s1, s2 := status(full), status(narrow); s1 != s2 {
		t.Errorf("status report changes with the filters:\n%s\nvs\n%s", s1, s2)
	}
	narrow.Report, narrow.Format = "sessions", "csv"
	if got := exportedIDs(t, narrow, sessions); len(got) != 0 {
		t.Errorf("sessions export with min duration 1h and default filters lists %v, want none", got)
	}
}

// TestPercentile checks the nearest-rank 90th percentile of the wait.
func TestPercentile(t *testing.T) {
	for _, tt := range []struct {
		waits []int
		want  float64
	}{
		{[]int{5}, 5},
		{[]int{1, 2}, 2},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 9},
		{[]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 11}, 10},
	} {
		var sessions []stats.Session
		for i, w := range tt.waits {
			x := stats.Session{ID: fmt.Sprint(i), Started: at(t, "2026-03-02 10:00:00"), Status: stats.StatusAnswered, Questions: 1}
			x.Accepted = x.Started.Add(time.Duration(w) * time.Second)
			x.Ended = x.Accepted
			sessions = append(sessions, x)
		}
		var sum map[string]any
		if err := json.Unmarshal(export(t, fullQuery(t, "summary", "json"), sessions), &sum); err != nil {
			t.Fatal(err)
		}
		if sum["p90_wait"] != tt.want {
			t.Errorf("p90 of %v = %v, want %v", tt.waits, sum["p90_wait"], tt.want)
		}
	}
}

// TestProtocols checks that every report can be split by channel: the
// protocol filter applies to the summary too, and the protocols report
// counts each channel.
func TestProtocols(t *testing.T) {
	sessions := fixture(t) // Messenger sessions, some recorded before channels (no protocol)
	x := stats.Session{ID: "ig1", Guest: "g-ig", Page: pageTeens, Queue: queueTeens, Protocol: stats.ProtocolInstagram,
		Started: at(t, "2026-03-23 15:30:00"), Operator: carol, Status: stats.StatusAnswered, Questions: 1, ReadLevel: 2}
	x.Accepted, x.Ended = x.Started.Add(90*time.Second), x.Started.Add(8*time.Minute)
	sessions = append(sessions, x)
	for i := range sessions[:3] {
		sessions[i].Protocol = stats.ProtocolFacebook
	}
	q := fullQuery(t, "protocols", "csv")
	if got, want := string(export(t, q, sessions)), "protocol,sessions,answered,questions\nfacebook,12,7,10\ninstagram,1,1,1\n"; got != want {
		t.Errorf("protocols report:\n%s\nwant:\n%s", got, want)
	}
	q.Report, q.Format, q.Protocol = "summary", "json", stats.ProtocolInstagram
	var sum map[string]any
	if err := json.Unmarshal(export(t, q, sessions), &sum); err != nil {
		t.Fatal(err)
	}
	if sum["sessions"] != 1.0 || sum["directional"] != 1.0 || sum["reference_transactions"] != 0.0 || sum["median_wait"] != 90.0 {
		t.Errorf("Instagram summary %v", sum)
	}
	q.Report, q.Format = "sessions", "csv"
	if rows := strings.Split(strings.TrimSpace(string(export(t, q, sessions))), "\n"); len(rows) != 2 || !strings.HasPrefix(rows[1], "ig1,g-ig,instagram,") {
		t.Errorf("Instagram sessions export %q", rows)
	}
	q.Protocol = "whatsapp"
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), `unknown protocol "whatsapp"`) {
		t.Errorf("Validate: %v", err)
	}
}
