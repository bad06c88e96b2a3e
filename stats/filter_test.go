package stats_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// exportedIDs runs the sessions CSV export and returns the id column.
func exportedIDs(t *testing.T, q stats.Query, sessions []stats.Session) []string {
	t.Helper()
	var b bytes.Buffer
	if err := stats.Write(&b, q, sessions); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, row := range rows[1:] {
		ids = append(ids, row[0])
	}
	return ids
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name             string
		from, to, tz     string
		unanswered, auto bool
		minDuration      time.Duration
		protocol         string
		want             []string
	}{
		{name: "default: answered only", from: "2026-02-01", to: "2026-03-31",
			want: []string{"s01", "s02", "s05", "s06", "s08", "s09", "s11"}},
		{name: "with unanswered", from: "2026-02-01", to: "2026-03-31", unanswered: true,
			want: []string{"s01", "s02", "s03", "s04", "s05", "s06", "s08", "s09", "s10", "s15", "s11"}},
		{name: "with auto", from: "2026-02-01", to: "2026-03-31", auto: true,
			want: []string{"s01", "s02", "s05", "s06", "s07", "s08", "s09", "s11"}},
		{name: "everything", from: "2026-02-01", to: "2026-03-31", unanswered: true, auto: true,
			want: []string{"s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s15", "s11"}},
		{name: "min duration keeps equal", from: "2026-02-01", to: "2026-03-31", unanswered: true, auto: true, minDuration: 60 * time.Second,
			want: []string{"s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s10", "s15", "s11"}},
		{name: "min duration drops shorter", from: "2026-02-01", to: "2026-03-31", unanswered: true, auto: true, minDuration: 61 * time.Second,
			want: []string{"s01", "s02", "s03", "s04", "s05", "s06", "s08", "s10", "s15", "s11"}},
		{name: "range edges are local days", from: "2026-01-31", to: "2026-01-31",
			want: []string{"s13"}},
		{name: "last second of the range", from: "2026-03-31", to: "2026-03-31",
			want: []string{"s11"}},
		{name: "midnight after the range", from: "2026-04-01", to: "2026-04-01",
			want: []string{"s12"}},
		{name: "DST day", from: "2026-03-08", to: "2026-03-08", auto: true,
			want: []string{"s07", "s08"}},
		{name: "open session never", from: "2026-03-25", to: "2026-03-25", unanswered: true, auto: true},
		// In UTC, Friday 27 Feb 23:30 Toronto is 28 Feb, and Tuesday 31 March
		// 23:59:59 is 1 April.
		{name: "one channel, sessions from before channels are facebook", from: "2026-03-20", to: "2026-03-31", unanswered: true, protocol: "facebook",
			want: []string{"s15", "s11"}},
		{name: "no Instagram sessions", from: "2026-02-01", to: "2026-03-31", unanswered: true, auto: true, protocol: "instagram"},
		{name: "days counted in the zone", from: "2026-02-28", to: "2026-03-31", tz: "UTC",
			want: []string{"s05", "s06", "s08", "s09"}},
	}
	sessions := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tz := tt.tz
			if tz == "" {
				tz = "America/Toronto"
			}
			q, err := stats.ParseQuery(tt.from, tt.to, "", "", tz, tt.unanswered, tt.auto, tt.minDuration, "")
			if err != nil {
				t.Fatal(err)
			}
			q.Protocol = tt.protocol
			if got := exportedIDs(t, q, sessions); !slices.Equal(got, tt.want) {
				t.Errorf("exported %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUnknownStatus checks that a status this package does not know counts
// as unanswered and gets its own row in the status report.
func TestUnknownStatus(t *testing.T) {
	s := fixture(t)[:0:0]
	x := stats.Session{ID: "u1", Guest: "g", Started: at(t, "2026-03-02 10:00:00"), Status: "spam"}
	x.Ended = x.Started.Add(time.Minute)
	s = append(s, x)
	q := fullQuery(t, "sessions", "csv")
	q.IncludeUnanswered = false
	if got := exportedIDs(t, q, s); len(got) != 0 {
		t.Errorf("without IncludeUnanswered exported %v", got)
	}
	q.IncludeUnanswered = true
	if got := exportedIDs(t, q, s); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("with IncludeUnanswered exported %v", got)
	}
	q.Report = "status"
	var b bytes.Buffer
	if err := stats.Write(&b, q, s); err != nil {
		t.Fatal(err)
	}
	want := "status,sessions\nanswered,0\nmissed,0\nafter_hours,0\nundelivered,0\nauto_only,0\nspam,1\n"
	if b.String() != want {
		t.Errorf("status report:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestEndedWithoutStatus checks that a session with an end but no status
// still counts as open.
func TestEndedWithoutStatus(t *testing.T) {
	x := stats.Session{ID: "e1", Started: at(t, "2026-03-02 10:00:00")}
	x.Ended = x.Started.Add(time.Minute)
	if !x.Open() {
		t.Error("Open() = false for a session without status")
	}
	if got := exportedIDs(t, fullQuery(t, "", ""), []stats.Session{x}); len(got) != 0 {
		t.Errorf("exported %v", got)
	}
}
