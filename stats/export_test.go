package stats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

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
	if len(rows) != 11 {
		t.Fatalf("%d rows, want 11", len(rows))
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
