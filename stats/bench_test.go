package stats_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// synthetic makes n finished sessions spread over 2026, in order of start,
// most answered, some tagged and rated.
func synthetic(tb testing.TB, n int) []stats.Session {
	loc := toronto(tb)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	step := 365 * 24 * time.Hour / time.Duration(n)
	ops := []string{alice, bob, carol}
	tags := [][]string{nil, {"hours"}, {"databases", "research"}, nil, {"printing"}}
	statuses := []stats.Status{stats.StatusAnswered, stats.StatusAnswered, stats.StatusAnswered, stats.StatusMissed, stats.StatusAfterHours, stats.StatusAutoOnly}
	out := make([]stats.Session, n)
	for i := range out {
		s := &out[i]
		s.ID = fmt.Sprintf("%016x", i)
		s.Guest = fmt.Sprintf("%08x", uint32(i)*2654435761)
		s.Page = pageCentral
		s.Queue = queueAsk
		s.Started = start.Add(time.Duration(i) * step)
		s.Ended = s.Started.Add(time.Duration(60+i%3600) * time.Second)
		s.Status = statuses[i%len(statuses)]
		s.MessagesIn = 1 + i%7
		if s.Status == stats.StatusAnswered {
			s.Accepted = s.Started.Add(time.Duration(5+i%240) * time.Second)
			s.Operator = ops[i%len(ops)]
			s.MessagesOut = 1 + i%5
			s.Questions = 1 + i%2
			s.ReadLevel = i % 7
			s.Tags = tags[i%len(tags)]
		}
	}
	return out
}

func benchmarkWrite(b *testing.B, report, format string) {
	sessions := synthetic(b, 1_000_000)
	q, err := stats.ParseQuery("2026-01-01", "2026-12-31", report, format, "", true, true, 0, "America/Toronto")
	if err != nil {
		b.Fatal(err)
	}
	q.PageNames = pageNames
	b.ReportAllocs()
	for b.Loop() {
		if err := stats.Write(io.Discard, q, sessions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSessions exports 1,000,000 sessions as CSV.
func BenchmarkWriteSessions(b *testing.B) { benchmarkWrite(b, "sessions", "csv") }

// BenchmarkWriteSessionsJSON exports 1,000,000 sessions as JSON.
func BenchmarkWriteSessionsJSON(b *testing.B) { benchmarkWrite(b, "sessions", "json") }

// BenchmarkWriteSummary runs the summary report over 1,000,000 sessions.
func BenchmarkWriteSummary(b *testing.B) { benchmarkWrite(b, "summary", "csv") }
