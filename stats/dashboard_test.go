package stats_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// dashboardOf adds sessions to a new Dashboard for q and returns its
// result.
func dashboardOf(t *testing.T, q stats.Query, sessions []stats.Session) stats.DashboardResult {
	t.Helper()
	d, err := stats.NewDashboard(q)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sessions {
		d.Add(&sessions[i])
	}
	return d.Result()
}

// reportRows is report over the fixture for q's range and zone, in JSON,
// decoded.
func reportRows(t *testing.T, q stats.Query, report string) []map[string]any {
	t.Helper()
	q.Report, q.Format = report, stats.FormatJSON
	var rows []map[string]any
	if err := json.Unmarshal(export(t, q, fixture(t)), &rows); err != nil {
		t.Fatalf("%s: %v", report, err)
	}
	return rows
}

// num is a JSON number as int64, or -1 for null.
func num(t *testing.T, v any) int64 {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return -1
	case float64:
		return int64(v)
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

// orNull is *p, or -1 for nil.
func orNull(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func checkCounts(t *testing.T, what string, got stats.Counts, row map[string]any) {
	t.Helper()
	want := stats.Counts{Sessions: num(t, row["sessions"]), Answered: num(t, row["answered"]), Questions: num(t, row["questions"])}
	if got != want {
		t.Errorf("%s: dashboard %+v, report %+v", what, got, want)
	}
}

// TestDashboardMatchesReports checks every figure of the dashboard over
// the fixture against the report that counts the same thing, with every
// status included (the reports' filters would leave some out; the
// dashboard, like the summary, never does).
func TestDashboardMatchesReports(t *testing.T) {
	q, err := stats.ParseQuery("2026-01-01", "2026-03-31", "", "", "", true, true, 0, "America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	q.PageNames = pageNames
	res := dashboardOf(t, q, fixture(t))

	var sum map[string]any
	q.Report, q.Format = stats.ReportSummary, stats.FormatJSON
	if err := json.Unmarshal(export(t, q, fixture(t)), &sum); err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	for name, got := range map[string]int64{
		"sessions": s.Sessions, "answered": s.Answered, "missed": s.Missed, "after_hours": s.AfterHours,
		"undelivered": s.Undelivered, "auto_only": s.AutoOnly, "questions": s.Questions,
		"directional": s.Directional, "reference": s.Reference, "not_classified": s.NotClassified,
		"reference_transactions": s.ReferenceTransactions, "mean_wait": orNull(s.MeanWait),
		"median_wait": orNull(s.MedianWait), "p90_wait": orNull(s.P90Wait), "mean_duration": orNull(s.MeanDuration),
	} {
		if want := num(t, sum[name]); got != want {
			t.Errorf("summary %s: dashboard %d, report %d", name, got, want)
		}
	}

	if res.Unit != stats.UnitMonth {
		t.Fatalf("unit %q for three months", res.Unit)
	}
	monthly := reportRows(t, q, stats.ReportMonthly)
	if len(res.Periods) != len(monthly) {
		t.Fatalf("%d periods, %d months in the report", len(res.Periods), len(monthly))
	}
	for i, row := range monthly {
		if res.Periods[i].Label != row["month"] {
			t.Errorf("period %d is %q, report says %v", i, res.Periods[i].Label, row["month"])
		}
		checkCounts(t, "month "+res.Periods[i].Label, res.Periods[i].Counts, row)
	}

	for d, row := range reportRows(t, q, stats.ReportWeekdayHour) {
		for h := range 24 {
			if got, want := res.Heatmap[d][h], num(t, row[strconv.Itoa(h)]); got != want {
				t.Errorf("heat map %v %d:00: dashboard %d, report %d", row["weekday"], h, got, want)
			}
		}
	}

	read := reportRows(t, q, stats.ReportRead)
	for i, g := range res.ReadLevels {
		checkCounts(t, "READ "+g.Key, g.Counts, read[i]) // 1–6, then not_recorded
	}

	tags := map[string]map[string]any{}
	for _, row := range reportRows(t, q, stats.ReportTags) {
		tags[row["tag"].(string)] = row
	}
	checkCounts(t, "untagged", res.Untagged, tags["(untagged)"])
	if len(res.Tags)+res.OtherTags != len(tags)-1 {
		t.Errorf("%d tags shown and %d others, the report has %d", len(res.Tags), res.OtherTags, len(tags)-1)
	}
	for _, g := range res.Tags {
		checkCounts(t, "tag "+g.Key, g.Counts, tags[g.Key])
	}

	queues := map[string]map[string]any{}
	for _, row := range reportRows(t, q, stats.ReportQueues) {
		queues[row["queue"].(string)] = row
	}
	if len(res.Queues) != len(queues) {
		t.Errorf("%d queues, report has %d", len(res.Queues), len(queues))
	}
	for _, g := range res.Queues {
		checkCounts(t, "queue "+g.Key, g.Counts, queues[g.Key])
		if got, want := orNull(g.MedianWait), num(t, queues[g.Key]["median_wait"]); got != want {
			t.Errorf("queue %s median wait: dashboard %d, report %d", g.Key, got, want)
		}
	}

	ops := map[string]map[string]any{}
	for _, row := range reportRows(t, q, stats.ReportOperators) {
		ops[row["operator"].(string)] = row
	}
	if len(res.Operators) != len(ops) {
		t.Errorf("%d operators, report has %d", len(res.Operators), len(ops))
	}
	for _, o := range res.Operators {
		row := ops[o.Operator]
		if o.Answered != num(t, row["n"]) || orNull(o.MedianWait) != num(t, row["median"]) || orNull(o.MeanWait) != num(t, row["mean"]) {
			t.Errorf("operator %s: dashboard %d %d %d, report %v", o.Operator, o.Answered, orNull(o.MedianWait), orNull(o.MeanWait), row)
		}
	}

	// Pages have no report: the fixture's Central Library has every
	// session of the range but s05, s08 and s10 (Teen Zone).
	want := []stats.DashboardGroup{
		{Key: pageCentral, Label: "Central Library", Counts: stats.Counts{Sessions: 10, Answered: 6, Questions: 7}},
		{Key: pageTeens, Label: "Teen Zone", Counts: stats.Counts{Sessions: 3, Answered: 2, Questions: 4}},
	}
	if fmt.Sprint(res.Pages) != fmt.Sprint(want) {
		t.Errorf("pages %+v, want %+v", res.Pages, want)
	}
}

func TestDashboardPeriods(t *testing.T) {
	for _, tc := range []struct {
		from, to, zone string
		unit           string
		n              int
		first, last    string
		firstStart     string // RFC 3339, in the zone
	}{
		{"2026-03-01", "2026-03-31", "America/Toronto", stats.UnitDay, 31, "2026-03-01", "2026-03-31", "2026-03-01T00:00:00-05:00"},
		{"2026-03-05", "2026-03-05", "UTC", stats.UnitDay, 1, "2026-03-05", "2026-03-05", "2026-03-05T00:00:00Z"},
		{"2026-01-01", "2026-03-03", "UTC", stats.UnitDay, 62, "2026-01-01", "2026-03-03", "2026-01-01T00:00:00Z"},
		{"2026-01-01", "2026-03-04", "UTC", stats.UnitMonth, 3, "2026-01", "2026-03", "2026-01-01T00:00:00Z"},
		{"2026-01-15", "2026-03-31", "UTC", stats.UnitMonth, 3, "2026-01", "2026-03", "2026-01-15T00:00:00Z"},
		{"2026-07-01", "2027-06-30", "America/Toronto", stats.UnitMonth, 12, "2026-07", "2027-06", "2026-07-01T00:00:00-04:00"},
		{"2000-01-01", "2019-12-31", "UTC", stats.UnitMonth, 240, "2000-01", "2019-12", "2000-01-01T00:00:00Z"},
		{"2000-01-01", "2020-01-01", "UTC", stats.UnitYear, 21, "2000", "2020", "2000-01-01T00:00:00Z"},
		// Chile's clocks jump from midnight to 01:00 on 6 September 2026:
		// that day starts at 01:00.
		{"2026-09-06", "2026-09-07", "America/Santiago", stats.UnitDay, 2, "2026-09-06", "2026-09-07", "2026-09-06T01:00:00-03:00"},
	} {
		t.Run(tc.from+"_"+tc.to+"_"+tc.zone, func(t *testing.T) {
			q, err := stats.ParseQuery(tc.from, tc.to, "", "", tc.zone, false, false, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			res := dashboardOf(t, q, nil)
			if res.Unit != tc.unit || len(res.Periods) != tc.n {
				t.Fatalf("%s × %d, want %s × %d", res.Unit, len(res.Periods), tc.unit, tc.n)
			}
			if res.Periods[0].Label != tc.first || res.Periods[tc.n-1].Label != tc.last {
				t.Errorf("labels %s … %s, want %s … %s", res.Periods[0].Label, res.Periods[tc.n-1].Label, tc.first, tc.last)
			}
			if got := res.Periods[0].Start.Format(time.RFC3339); got != tc.firstStart {
				t.Errorf("first period starts %s, want %s", got, tc.firstStart)
			}
		})
	}
}

// session is a finished session for the table tests below, started at
// the given UTC time.
func session(started string, st stats.Status, op string, wait time.Duration, tags ...string) stats.Session {
	at, err := time.Parse(time.RFC3339, started)
	if err != nil {
		panic(err)
	}
	s := stats.Session{Page: pageCentral, Queue: queueAsk, Started: at, Ended: at.Add(10 * time.Minute), Status: st, Tags: tags}
	if op != "" {
		s.Operator, s.Accepted = op, at.Add(wait)
	}
	if st == stats.StatusAnswered {
		s.Questions = 1
	}
	return s
}

func TestDashboardAdd(t *testing.T) {
	open := session("2026-03-10T12:00:00Z", stats.StatusAnswered, alice, time.Minute)
	open.Ended, open.Status = time.Time{}, ""
	teens := session("2026-03-10T12:00:00Z", stats.StatusMissed, "", 0)
	teens.Page, teens.Queue = pageTeens, queueTeens
	unnamed := session("2026-03-10T12:00:00Z", stats.StatusAutoOnly, "", 0)
	unnamed.Page = "999"
	var many []stats.Session
	for i := range 12 {
		for range 12 - i {
			many = append(many, session("2026-03-02T10:00:00Z", stats.StatusAnswered, alice, time.Second, fmt.Sprintf("t%02d", i)))
		}
	}
	many = append(many, session("2026-03-02T10:00:00Z", stats.StatusAnswered, alice, time.Second, "t11", "t11", "t10"))

	for _, tc := range []struct {
		name     string
		zone     string
		sessions []stats.Session
		check    func(t *testing.T, r stats.DashboardResult)
	}{
		{"range and open sessions", "UTC", []stats.Session{
			session("2026-02-28T23:59:59Z", stats.StatusAnswered, alice, time.Second),
			session("2026-03-01T00:00:00Z", stats.StatusAnswered, alice, time.Second),
			session("2026-03-31T23:59:59Z", stats.StatusMissed, "", 0),
			session("2026-04-01T00:00:00Z", stats.StatusAnswered, alice, time.Second),
			open,
		}, func(t *testing.T, r stats.DashboardResult) {
			if r.Summary.Sessions != 2 || r.Summary.Answered != 1 || r.Summary.Missed != 1 {
				t.Errorf("summary %+v", r.Summary)
			}
			if r.Periods[0].Sessions != 1 || r.Periods[30].Sessions != 1 {
				t.Errorf("first and last day: %+v %+v", r.Periods[0], r.Periods[30])
			}
		}},
		{"heat map on the zone's wall clock", "America/Toronto", []stats.Session{
			// Friday 27 February 23:30 in Toronto is Saturday 04:30 UTC.
			session("2026-03-07T04:30:00Z", stats.StatusAnswered, alice, time.Second),
			// Monday 2 March 09:15 in Toronto.
			session("2026-03-02T14:15:00Z", stats.StatusAnswered, alice, time.Second),
		}, func(t *testing.T, r stats.DashboardResult) {
			if r.Heatmap[4][23] != 1 || r.Heatmap[0][9] != 1 || r.Summary.Sessions != 2 {
				t.Errorf("Friday 23:00 %d, Monday 09:00 %d", r.Heatmap[4][23], r.Heatmap[0][9])
			}
			if r.Periods[5].Sessions != 1 || r.Periods[5].Label != "2026-03-06" {
				t.Errorf("day 6: %+v", r.Periods[5])
			}
		}},
		{"heat map in UTC", "UTC", []stats.Session{
			session("2026-03-07T04:30:00Z", stats.StatusAnswered, alice, time.Second),
		}, func(t *testing.T, r stats.DashboardResult) {
			if r.Heatmap[5][4] != 1 {
				t.Errorf("Saturday 04:00: %d", r.Heatmap[5][4])
			}
		}},
		{"pages and queues", "UTC", []stats.Session{
			session("2026-03-10T12:00:00Z", stats.StatusAnswered, alice, time.Second), teens, teens, unnamed,
		}, func(t *testing.T, r stats.DashboardResult) {
			pages := fmt.Sprint(r.Pages)
			if want := "[{" + pageTeens + " Teen Zone {2 0 0} <nil>} {999 999 {1 0 0} <nil>} {" + pageCentral + " Central Library {1 1 1} <nil>}]"; pages != want {
				t.Errorf("pages %s, want %s", pages, want)
			}
			if len(r.Queues) != 2 || r.Queues[0].Key != queueAsk || r.Queues[0].Sessions != 2 || orNull(r.Queues[0].MedianWait) != 1 ||
				r.Queues[1].Key != queueTeens || r.Queues[1].MedianWait != nil {
				t.Errorf("queues %+v", r.Queues)
			}
		}},
		{"top tags", "UTC", many, func(t *testing.T, r stats.DashboardResult) {
			if len(r.Tags) != stats.DashboardTopTags || r.OtherTags != 2 {
				t.Fatalf("%d tags and %d others", len(r.Tags), r.OtherTags)
			}
			for i, g := range r.Tags {
				if want := fmt.Sprintf("t%02d", i); g.Key != want || g.Sessions != int64(12-i) {
					t.Errorf("tag %d: %s × %d, want %s × %d", i, g.Key, g.Sessions, want, 12-i)
				}
			}
			if r.Untagged.Sessions != 0 {
				t.Errorf("untagged %+v", r.Untagged)
			}
		}},
		{"ties of tags by name, a tag repeated counts once", "UTC", []stats.Session{
			session("2026-03-10T12:00:00Z", stats.StatusAnswered, alice, time.Second, "zebra", "zebra", "apple"),
			session("2026-03-10T12:00:00Z", stats.StatusMissed, "", 0),
		}, func(t *testing.T, r stats.DashboardResult) {
			if len(r.Tags) != 2 || r.Tags[0].Key != "apple" || r.Tags[1].Key != "zebra" || r.Tags[1].Sessions != 1 || r.Untagged.Sessions != 1 {
				t.Errorf("tags %+v, untagged %+v", r.Tags, r.Untagged)
			}
		}},
		{"librarians: answered sessions only, median rounded half up", "UTC", []stats.Session{
			session("2026-03-10T12:00:00Z", stats.StatusAnswered, bob, 10*time.Second),
			session("2026-03-10T13:00:00Z", stats.StatusAnswered, bob, 21*time.Second+900*time.Millisecond),
			session("2026-03-10T14:00:00Z", stats.StatusAnswered, carol, 5*time.Second),
			session("2026-03-10T15:00:00Z", stats.StatusUndelivered, alice, time.Hour),
		}, func(t *testing.T, r stats.DashboardResult) {
			got := fmt.Sprintf("%s %d %d %d; %s %d %d", r.Operators[0].Operator, r.Operators[0].Answered, orNull(r.Operators[0].MedianWait),
				orNull(r.Operators[0].MeanWait), r.Operators[1].Operator, r.Operators[1].Answered, orNull(r.Operators[1].MedianWait))
			if want := bob + " 2 16 16; " + carol + " 1 5"; len(r.Operators) != 2 || got != want {
				t.Errorf("operators %s (%d), want %s", got, len(r.Operators), want)
			}
			if orNull(r.Summary.MedianWait) != 10 || r.Summary.Undelivered != 1 {
				t.Errorf("summary %+v", r.Summary)
			}
		}},
		{"READ levels", "UTC", func() []stats.Session {
			var out []stats.Session
			for l := range 8 {
				s := session("2026-03-10T12:00:00Z", stats.StatusAnswered, alice, time.Second)
				s.ReadLevel, s.Questions = l, 2
				out = append(out, s)
			}
			return out
		}(), func(t *testing.T, r stats.DashboardResult) {
			if len(r.ReadLevels) != 7 || r.ReadLevels[6].Key != "not_classified" || r.ReadLevels[6].Label != "not classified" {
				t.Fatalf("levels %+v", r.ReadLevels)
			}
			for i, g := range r.ReadLevels[:6] {
				if g.Key != strconv.Itoa(i+1) || g.Questions != 2 {
					t.Errorf("level %d: %+v", i+1, g)
				}
			}
			// 0 and 7 are not levels.
			if r.ReadLevels[6].Questions != 4 || r.Summary.NotClassified != 4 || r.Summary.ReferenceTransactions != 12 {
				t.Errorf("not classified %+v, summary %+v", r.ReadLevels[6], r.Summary)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := stats.ParseQuery("2026-03-01", "2026-03-31", "", "", tc.zone, false, false, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			q.PageNames = pageNames
			tc.check(t, dashboardOf(t, q, tc.sessions))
		})
	}
}

// A query for one channel counts that channel's sessions, as the summary
// does.
func TestDashboardChannel(t *testing.T) {
	sessions := []stats.Session{
		session("2026-03-10T12:00:00Z", stats.StatusAnswered, alice, time.Second),
		session("2026-03-10T13:00:00Z", stats.StatusAnswered, alice, time.Second),
		session("2026-03-10T14:00:00Z", stats.StatusMissed, "", 0),
	}
	sessions[1].Protocol = stats.ProtocolInstagram
	for _, tc := range []struct {
		protocol string
		want     int64
	}{{"", 3}, {stats.ProtocolFacebook, 2}, {stats.ProtocolInstagram, 1}} {
		q, err := stats.ParseQuery("2026-03-01", "2026-03-31", stats.ReportSummary, stats.FormatJSON, "UTC", false, false, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		q.Protocol = tc.protocol
		res := dashboardOf(t, q, sessions)
		var sum map[string]any
		if err := json.Unmarshal(export(t, q, sessions), &sum); err != nil {
			t.Fatal(err)
		}
		if res.Summary.Sessions != tc.want || num(t, sum["sessions"]) != tc.want {
			t.Errorf("%q: dashboard %d sessions, summary %v, want %d", tc.protocol, res.Summary.Sessions, sum["sessions"], tc.want)
		}
		if tc.protocol == "" {
			// Sessions recorded before channels (no protocol) are Messenger's.
			want := "[{facebook Messenger {2 1 1} <nil>} {instagram Instagram {1 1 1} <nil>}]"
			if got := fmt.Sprint(res.Channels); got != want {
				t.Errorf("channels %s, want %s", got, want)
			}
		}
	}
	if _, err := stats.NewDashboard(stats.Query{From: "2026-03-01", To: "2026-03-01", Protocol: "telegram"}); !errors.Is(err, stats.ErrInvalidQuery) {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestNewDashboardInvalid(t *testing.T) {
	for _, q := range []stats.Query{
		{From: "2026-03-01"},
		{From: "2026-03-31", To: "2026-03-01"},
		{From: "2026-02-30", To: "2026-03-01"},
	} {
		if _, err := stats.NewDashboard(q); !errors.Is(err, stats.ErrInvalidQuery) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	// The report and format do not matter.
	if _, err := stats.NewDashboard(stats.Query{From: "2026-03-01", To: "2026-03-01", Report: "nope"}); err != nil {
		t.Error(err)
	}
}
