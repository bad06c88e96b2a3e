package stats_test

import (
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// Page IDs and queues of the fixture.
const (
	pageCentral = "510249619162304"
	pageTeens   = "620384751029384"
	queueAsk    = "ask@chat.libraryh3lp.com"
	queueTeens  = "teens@chat.libraryh3lp.com"
	alice       = "alice@library.example.org"
	bob         = "bob@library.example.org"
	carol       = "carol@library.example.org"
)

var pageNames = map[string]string{pageCentral: "Central Library", pageTeens: "Teen Zone"}

func toronto(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is a wall-clock time in Toronto, "2006-01-02 15:04:05".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, toronto(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture is a fixed set of sessions over February and March 2026 in
// America/Toronto, given out of order: two operators' weekdays and hours,
// two queues and Pages, tags, every READ level, every status, the DST
// change of Sunday 8 March 2026 (02:00 EST → 03:00 EDT), late-evening
// sessions that fall on the next UTC day (and month), sessions just
// outside the range and an open session.
func fixture(t testing.TB) []stats.Session {
	t.Helper()
	sec := time.Second
	minute := time.Minute
	s := func(id, started string) stats.Session {
		return stats.Session{ID: id, Guest: "guest-" + id[1:], Page: pageCentral, Queue: queueAsk, Started: at(t, started)}
	}
	answered := func(x stats.Session, op string, wait, dur time.Duration) stats.Session {
		x.Operator = op
		x.Accepted = x.Started.Add(wait)
		x.Ended = x.Started.Add(dur)
		x.Status = stats.StatusAnswered
		x.Questions = 1
		x.MessagesIn, x.MessagesOut = 3, 2
		return x
	}
	ended := func(x stats.Session, st stats.Status, dur time.Duration) stats.Session {
		x.Ended = x.Started.Add(dur)
		x.Status = st
		x.MessagesIn = 1
		return x
	}
	out := []stats.Session{}
	add := func(x stats.Session) { out = append(out, x) }

	// Monday 2 February, morning: READ 3, two questions, two tags.
	x := answered(s("s01", "2026-02-02 09:15:00"), alice, 42*sec, 9*minute+30*sec)
	x.Questions, x.ReadLevel, x.Tags = 2, 3, []string{"hours", "printing"}
	x.MessagesIn, x.MessagesOut = 6, 5
	add(x)
	// Monday 2 February, afternoon: wait 65.7 s is written as 65.
	x = answered(s("s02", "2026-02-02 14:05:09"), bob, 65*sec+700*time.Millisecond, 20*minute)
	x.ReadLevel, x.Tags = 2, []string{"directions"}
	add(x)
	// Wednesday 11 February, evening: nobody answered.
	add(ended(s("s03", "2026-02-11 20:45:00"), stats.StatusMissed, 30*minute))
	// Saturday 14 February, late: after hours, with the away message.
	x = ended(s("s04", "2026-02-14 22:10:00"), stats.StatusAfterHours, 30*minute)
	x.AutoReplies = 1
	add(x)
	// Friday 27 February 23:30 EST is Saturday 04:30 UTC: counts Friday.
	x = answered(s("s05", "2026-02-27 23:30:00"), alice, 12*sec, 5*minute)
	x.Page, x.Queue, x.ReadLevel, x.Tags = pageTeens, queueTeens, 4, []string{"homework"}
	add(x)
	// Saturday 28 February 23:50 EST is 1 March UTC: counts February.
	x = answered(s("s06", "2026-02-28 23:50:00"), bob, 30*sec, 12*minute)
	x.ReadLevel, x.Tags = 1, []string{"hours", "hours"}
	add(x)
	// Sunday 8 March 01:30 EST, just before the clocks jump: automated.
	x = ended(s("s07", "2026-03-08 01:30:00"), stats.StatusAutoOnly, 1*minute)
	x.AutoReplies = 1
	add(x)
	// Sunday 8 March 03:30 EDT, just after: long, transferred, READ 5.
	x = answered(s("s08", "2026-03-08 03:30:00"), carol, 5*minute, 45*minute)
	x.Page, x.Queue = pageTeens, queueTeens
	x.Questions, x.ReadLevel, x.Tags, x.Transfers = 3, 5, []string{"research", "databases"}, 1
	add(x)
	// Tuesday 10 March: short, READ not recorded.
	add(answered(s("s09", "2026-03-10 10:00:00"), alice, 20*sec, 50*sec))
	// Thursday 19 March: missed, on the teens queue.
	x = ended(s("s10", "2026-03-19 16:20:00"), stats.StatusMissed, 30*minute)
	x.Page, x.Queue = pageTeens, queueTeens
	add(x)
	// Friday 20 March: bob replied, but Facebook refused every reply: not
	// answered, and its wait counts in no wait figure.
	x = answered(s("s15", "2026-03-20 11:00:00"), bob, 2*time.Hour, 3*time.Hour)
	x.Status, x.Questions = stats.StatusUndelivered, 0
	add(x)
	// Tuesday 31 March 23:59:59: the range's last second; READ 6, a tag
	// that needs CSV quoting.
	x = answered(s("s11", "2026-03-31 23:59:59"), bob, 8*sec, 10*minute)
	x.ReadLevel, x.Tags = 6, []string{"databases", `interlibrary loan "ILL"`}
	add(x)
	// Wednesday 1 April 00:00:00: just after the range.
	add(answered(s("s12", "2026-04-01 00:00:00"), alice, 10*sec, 10*minute))
	// Saturday 31 January 23:59:59: just before the range.
	add(answered(s("s13", "2026-01-31 23:59:59"), alice, 10*sec, 10*minute))
	// Wednesday 25 March: still open.
	x = s("s14", "2026-03-25 12:00:00")
	x.Accepted, x.Operator, x.MessagesIn = x.Started.Add(30*sec), alice, 2
	add(x)

	// Out of order, as a careless caller might pass them.
	out[0], out[7] = out[7], out[0]
	out[3], out[10] = out[10], out[3]
	return out
}

// fullQuery is February–March 2026 in Toronto with every status.
func fullQuery(t testing.TB, report, format string) stats.Query {
	t.Helper()
	q, err := stats.ParseQuery("2026-02-01", "2026-03-31", report, format, "", true, true, 0, "America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	q.PageNames = pageNames
	return q
}
