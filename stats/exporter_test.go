package stats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// sortedFixture is the fixture in order of start, then ID, as the bridge's
// store yields sessions.
func sortedFixture(t *testing.T) []stats.Session {
	t.Helper()
	sessions := fixture(t)
	slices.SortStableFunc(sessions, func(a, b stats.Session) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return sessions
}

// stream exports sessions through an Exporter, handing each over in one
// reused Session as the bridge does.
func stream(t *testing.T, q stats.Query, sessions []stats.Session) ([]byte, error) {
	t.Helper()
	var b bytes.Buffer
	e, err := stats.NewExporter(&b, q)
	if err != nil {
		t.Fatal(err)
	}
	var s stats.Session
	for i := range sessions {
		s = sessions[i]
		s.Tags = slices.Clone(s.Tags)
		if err := e.Add(&s); err != nil {
			return b.Bytes(), err
		}
		clear(s.Tags) // Add must not have kept them
	}
	err = e.Close()
	return b.Bytes(), err
}

// TestExporterMatchesWrite checks that streaming sessions in store order
// writes every report byte for byte as Write does, and that aggregate
// reports take sessions in any order.
func TestExporterMatchesWrite(t *testing.T) {
	sorted := sortedFixture(t)
	shuffled := fixture(t)
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			q := fullQuery(t, report, format)
			want := export(t, q, shuffled)
			got, err := stream(t, q, sorted)
			if err != nil {
				t.Fatalf("%s %s: %v", report, format, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s: Exporter wrote\n%s\nWrite wrote\n%s", report, format, got, want)
			}
			if report == stats.ReportSessions {
				continue
			}
			got, err = stream(t, q, shuffled)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %s out of order: error %v, output\n%s\nwant\n%s", report, format, err, got, want)
			}
		}
	}
}

// TestExporterEmpty checks that an export of nothing is the same as
// Write's, and that nothing is written before Close.
func TestExporterEmpty(t *testing.T) {
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			q := fullQuery(t, report, format)
			var b bytes.Buffer
			e, err := stats.NewExporter(&b, q)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != 0 {
				t.Errorf("%s %s: NewExporter wrote %q", report, format, b.String())
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if want := export(t, q, nil); !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s %s: %q, want %q", report, format, b.String(), want)
			}
		}
	}
}

func TestExporterUnordered(t *testing.T) {
	sessions := sortedFixture(t)
	sessions[2], sessions[5] = sessions[5], sessions[2]
	_, err := stream(t, fullQuery(t, "sessions", "csv"), sessions)
	if !errors.Is(err, stats.ErrUnordered) {
		t.Fatalf("error %v, want ErrUnordered", err)
	}
	if !strings.Contains(err.Error(), `session "s03"`) {
		t.Errorf("error %q does not name the session", err)
	}
}

func TestExporterInvalidQuery(t *testing.T) {
	q := fullQuery(t, "sessions", "csv")
	q.Report = "nope"
	if _, err := stats.NewExporter(&bytes.Buffer{}, q); !errors.Is(err, stats.ErrInvalidQuery) {
		t.Errorf("error %v, want ErrInvalidQuery", err)
	}
}

// TestExporterWriteError checks that a write error stops the export at
// once, with context, and sticks.
func TestExporterWriteError(t *testing.T) {
	many := synthetic(t, 2000)
	for _, format := range stats.Formats() {
		q, err := stats.ParseQuery("2026-01-01", "2026-12-31", "sessions", format, "", true, true, 0, "America/Toronto")
		if err != nil {
			t.Fatal(err)
		}
		e, err := stats.NewExporter(failingWriter{}, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range many {
			if err = e.Add(&many[i]); err != nil {
				break
			}
			n++
		}
		if !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), "stats: writing sessions "+format) {
			t.Errorf("%s: Add error %v", format, err)
		}
		if n == len(many) {
			t.Errorf("%s: every Add succeeded", format)
		}
		if err := e.Close(); !errors.Is(err, errDisk) {
			t.Errorf("%s: Close error %v", format, err)
		}
	}
}

// TestExporterLarge checks a sessions export large enough to be written
// in several chunks.
func TestExporterLarge(t *testing.T) {
	many := synthetic(t, 5000)
	for _, format := range stats.Formats() {
		q, err := stats.ParseQuery("2026-01-01", "2026-12-31", "sessions", format, "", true, true, 0, "America/Toronto")
		if err != nil {
			t.Fatal(err)
		}
		q.PageNames = pageNames
		got, err := stream(t, q, many)
		if err != nil {
			t.Fatal(err)
		}
		if want := export(t, q, many); !bytes.Equal(got, want) {
			t.Errorf("%s: Exporter and Write differ", format)
		}
	}
}

// TestSessionsOddValues checks the sessions export of values that need
// quoting or escaping, in columns whose last value is reused, against
// what encoding/csv and encoding/json read back.
func TestSessionsOddValues(t *testing.T) {
	base := sortedFixture(t)[0]
	values := []string{"a,b", "plain", " lead", `say "hi"`, "plain", "line\nbreak", "", "é\u2028<&>", "a,b", `\.`}
	var sessions []stats.Session
	for i, v := range values {
		s := base
		s.ID = fmt.Sprintf("s%02d", i)
		s.Started = at(t, "2026-02-10 10:00:00").Add(time.Duration(i) * time.Minute)
		s.Accepted, s.Ended = s.Started.Add(5*time.Second), s.Started.Add(time.Hour)
		s.Queue, s.Operator, s.Status, s.Page = v, v+"@x", stats.Status("s:"+v), v
		s.Tags = []string{v, "t"}
		sessions = append(sessions, s)
	}
	for _, format := range stats.Formats() {
		q := fullQuery(t, "sessions", format)
		q.IncludeAuto, q.IncludeUnanswered = true, true
		q.PageNames = map[string]string{"a,b": "Page, \"quoted\"", "plain": "Plain"}
		out, err := stream(t, q, sessions)
		if err != nil {
			t.Fatal(err)
		}
		if want := export(t, q, sessions); !bytes.Equal(out, want) {
			t.Fatalf("%s: Exporter and Write differ", format)
		}
		var rows []map[string]any
		if format == "csv" {
			recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs[1:] {
				row := map[string]any{}
				for j, col := range recs[0] {
					row[col] = rec[j]
				}
				row["tags"] = strings.Split(rec[11], ",")
				rows = append(rows, row)
			}
		} else if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(values) {
			t.Fatalf("%s: %d rows:\n%s", format, len(rows), out)
		}
		for i, v := range values {
			r := rows[i]
			tags := fmt.Sprint(r["tags"])
			if r["queue"] != v || r["operator"] != v+"@x" || r["status"] != "s:"+v || r["page"] != v || r["profile"] != q.PageNames[v] ||
				(format == "json" || !strings.Contains(v, ",")) && tags != fmt.Sprint([]string{v, "t"}) {
				t.Errorf("%s row %d: %v, want %q", format, i, r, v)
			}
		}
	}
}
