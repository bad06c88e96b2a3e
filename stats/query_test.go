package stats_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		name                     string
		from, to, report, format string
		tz, defaultTZ            string
		minDuration              time.Duration
		want                     []string // substrings of the error
	}{
		{name: "missing from", to: "2026-03-31", want: []string{"from date is missing", "YYYY-MM-DD"}},
		{name: "missing to", from: "2026-03-01", want: []string{"to date is missing"}},
		{name: "bad from", from: "2026/03/01", to: "2026-03-31", want: []string{`bad from date "2026/03/01"`, "YYYY-MM-DD"}},
		{name: "no such day", from: "2026-02-30", to: "2026-03-31", want: []string{`bad from date "2026-02-30"`, "day out of range"}},
		{name: "no such month", from: "2026-03-01", to: "2026-13-01", want: []string{`bad to date "2026-13-01"`, "month out of range"}},
		{name: "single digits", from: "2026-3-1", to: "2026-03-31", want: []string{`bad from date "2026-3-1"`}},
		{name: "datetime", from: "2026-03-01T00:00:00Z", to: "2026-03-31", want: []string{"bad from date"}},
		{name: "inverted", from: "2026-03-31", to: "2026-03-01", want: []string{"inverted", "to 2026-03-01 is before from 2026-03-31"}},
		{name: "unknown report", from: "2026-03-01", to: "2026-03-31", report: "hourlyy",
			want: []string{`unknown report "hourlyy"`, "valid: sessions, hourly, weekday, monthly, weekday-hour, operators, queues, tags, read, status, protocols, summary"}},
		{name: "unknown format", from: "2026-03-01", to: "2026-03-31", format: "xlsx", want: []string{`unknown format "xlsx"`, "csv, json"}},
		{name: "unknown time zone", from: "2026-03-01", to: "2026-03-31", tz: "America/Torontoo", want: []string{`unknown time zone "America/Torontoo"`}},
		{name: "unknown default time zone", from: "2026-03-01", to: "2026-03-31", defaultTZ: "Mars/Olympus", want: []string{`unknown time zone "Mars/Olympus"`}},
		{name: "negative duration", from: "2026-03-01", to: "2026-03-31", minDuration: -time.Second, want: []string{"minimum duration -1s is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stats.ParseQuery(tt.from, tt.to, tt.report, tt.format, tt.tz, false, false, tt.minDuration, tt.defaultTZ)
			if err != nil && strings.Contains(err.Error(), "2006") {
				t.Errorf("error %q shows Go's layout", err)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, stats.ErrInvalidQuery) {
				t.Errorf("error %q does not match ErrInvalidQuery", err)
			}
			if !strings.HasPrefix(err.Error(), "stats: ") {
				t.Errorf("error %q does not start with \"stats: \"", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseQueryDefaults(t *testing.T) {
	tests := []struct {
		name                             string
		report, format, tz, defaultTZ    string
		wantReport, wantFormat, wantZone string
	}{
		{name: "empty", wantReport: "sessions", wantFormat: "csv", wantZone: "UTC"},
		{name: "default zone", defaultTZ: "America/Toronto", wantReport: "sessions", wantFormat: "csv", wantZone: "America/Toronto"},
		{name: "zone beats default", tz: "Europe/Paris", defaultTZ: "America/Toronto", wantReport: "sessions", wantFormat: "csv", wantZone: "Europe/Paris"},
		{name: "case and spaces", report: " Weekday-Hour ", format: "JSON", wantReport: "weekday-hour", wantFormat: "json", wantZone: "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := stats.ParseQuery("2026-03-01", "2026-03-01", tt.report, tt.format, tt.tz, true, false, time.Minute, tt.defaultTZ)
			if err != nil {
				t.Fatal(err)
			}
			if q.Report != tt.wantReport || q.Format != tt.wantFormat || q.Location.String() != tt.wantZone {
				t.Errorf("got report %q format %q zone %q, want %q %q %q", q.Report, q.Format, q.Location, tt.wantReport, tt.wantFormat, tt.wantZone)
			}
			if !q.IncludeUnanswered || q.IncludeAuto || q.MinDuration != time.Minute {
				t.Errorf("filters not kept: %+v", q)
			}
		})
	}
}

func TestReports(t *testing.T) {
	want := []string{"sessions", "hourly", "weekday", "monthly", "weekday-hour", "operators", "queues", "tags", "read", "status", "protocols", "summary"}
	if got := stats.Reports(); !slices.Equal(got, want) {
		t.Errorf("Reports() = %v, want %v", got, want)
	}
	stats.Reports()[0] = "changed"
	if stats.Reports()[0] != "sessions" {
		t.Error("Reports() hands out its own slice")
	}
}

// TestRange checks the day boundaries in the query's zone, also on the
// days the clocks change.
func TestRange(t *testing.T) {
	loc := toronto(t)
	tests := []struct {
		from, to   string
		start, end string // RFC 3339
		hours      float64
	}{
		{"2026-03-01", "2026-03-31", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", 31*24 - 1},
		{"2026-03-08", "2026-03-08", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23},
		{"2026-11-01", "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25},
		{"2026-12-31", "2026-12-31", "2026-12-31T00:00:00-05:00", "2027-01-01T00:00:00-05:00", 24},
	}
	for _, tt := range tests {
		q := stats.Query{From: tt.from, To: tt.to, Location: loc}
		start, end := q.Range()
		if got := start.Format(time.RFC3339); got != tt.start {
			t.Errorf("%s..%s: start %s, want %s", tt.from, tt.to, got, tt.start)
		}
		if got := end.Format(time.RFC3339); got != tt.end {
			t.Errorf("%s..%s: end %s, want %s", tt.from, tt.to, got, tt.end)
		}
		if got := end.Sub(start).Hours(); got != tt.hours {
			t.Errorf("%s..%s: %v hours, want %v", tt.from, tt.to, got, tt.hours)
		}
	}
	// Zones whose clocks jump forward at midnight: the day of the change
	// starts at 01:00, never at 23:00 of the day before.
	zoned := []struct {
		zone, from, to, start, end string
	}{
		{"America/Santiago", "2026-09-06", "2026-09-06", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"},
		{"America/Santiago", "2026-09-05", "2026-09-05", "2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00"},
		{"America/Havana", "2026-03-08", "2026-03-08", "2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"},
		{"America/Havana", "2026-03-01", "2026-03-31", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"},
	}
	for _, tt := range zoned {
		zl, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		start, end := stats.Query{From: tt.from, To: tt.to, Location: zl}.Range()
		if got := start.Format(time.RFC3339); got != tt.start {
			t.Errorf("%s %s..%s: start %s, want %s", tt.zone, tt.from, tt.to, got, tt.start)
		}
		if got := end.Format(time.RFC3339); got != tt.end {
			t.Errorf("%s %s..%s: end %s, want %s", tt.zone, tt.from, tt.to, got, tt.end)
		}
	}
	if start, end := (stats.Query{From: "x", To: "2026-01-01"}).Range(); !start.IsZero() || !end.IsZero() {
		t.Errorf("Range of a bad query = %v, %v; want zero times", start, end)
	}
	q := stats.Query{From: "2026-03-01", To: "2026-03-01"} // nil Location is UTC
	if start, _ := q.Range(); start.Location() != time.UTC {
		t.Errorf("nil Location gives %v, want UTC", start.Location())
	}
}

// TestWriteInvalidQuery checks that Write refuses a bad Query built by
// hand, writing nothing.
func TestWriteInvalidQuery(t *testing.T) {
	for _, q := range []stats.Query{
		{From: "2026-03-01", To: "2026-02-01"},
		{From: "2026-03-01", To: "2026-03-31", Report: "nope"},
		{From: "2026-03-01", To: "2026-03-31", Format: "xml"},
		{From: "", To: "2026-03-31"},
	} {
		var b bytes.Buffer
		err := stats.Write(&b, q, fixture(t))
		if !errors.Is(err, stats.ErrInvalidQuery) {
			t.Errorf("Write(%+v) = %v, want ErrInvalidQuery", q, err)
		}
		if b.Len() != 0 {
			t.Errorf("Write(%+v) wrote %q", q, b.String())
		}
	}
}
