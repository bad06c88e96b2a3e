package stats

import (
	"fmt"
	"strconv"
	"time"
)

// Reports over time. Every bucket of the grid is written, empty ones as
// zero rows, so that the output has the same shape whatever the data.
// Hours, weekdays and months are those of the start time in the query's
// Location: on the spring-forward day hour 2 does not exist in
// America/Toronto, and on the fall-back day hour 1 happens twice; both
// count in the hour their wall clock shows.

// weekdayIndex is 0 for Monday … 6 for Sunday.
func weekdayIndex(t time.Time) int { return (int(t.Weekday()) + 6) % 7 }

// weekdayName is the English name of the weekday at index i (0 = Monday).
func weekdayName(i int) string { return time.Weekday((i + 1) % 7).String() }

// hourlyReport counts per hour of the day of the start.
type hourlyReport struct {
	loc   *time.Location
	hours [24]tally
}

func newHourlyReport(q *Query) report { return &hourlyReport{loc: q.location()} }

func (r *hourlyReport) add(s *Session) { r.hours[s.Started.In(r.loc).Hour()].add(s) }

func (r *hourlyReport) table() *table {
	t := &table{columns: append([]string{"hour"}, tallyColumns...)}
	for h, tl := range r.hours {
		t.add(tl.row(num(int64(h)))...)
	}
	return t
}

// weekdayReport counts per weekday of the start.
type weekdayReport struct {
	loc  *time.Location
	days [7]tally
}

func newWeekdayReport(q *Query) report { return &weekdayReport{loc: q.location()} }

func (r *weekdayReport) add(s *Session) { r.days[weekdayIndex(s.Started.In(r.loc))].add(s) }

func (r *weekdayReport) table() *table {
	t := &table{columns: append([]string{"weekday"}, tallyColumns...)}
	for i, tl := range r.days {
		t.add(tl.row(text(weekdayName(i)))...)
	}
	return t
}

// monthNumber counts months from year 0, so consecutive months differ by 1.
func monthNumber(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// monthlyReport counts per month of the start, every month of the range.
type monthlyReport struct {
	loc    *time.Location
	first  int
	months []tally
}

func newMonthlyReport(q *Query) report {
	start, end := q.Range()
	loc := q.location()
	first := monthNumber(start)
	last := monthNumber(end.Add(-time.Nanosecond).In(loc))
	return &monthlyReport{loc: loc, first: first, months: make([]tally, last-first+1)}
}

// add counts s, which started within the query's range.
func (r *monthlyReport) add(s *Session) {
	r.months[monthNumber(s.Started.In(r.loc))-r.first].add(s)
}

func (r *monthlyReport) table() *table {
	t := &table{columns: append([]string{"month"}, tallyColumns...)}
	for i, tl := range r.months {
		m := r.first + i
		t.add(tl.row(text(fmt.Sprintf("%04d-%02d", m/12, m%12+1)))...)
	}
	return t
}

// weekdayHourReport is LibraryH3lp's heat map: one row per weekday (Monday
// first), one column per hour 0–23 holding the number of sessions, and the
// row's total.
type weekdayHourReport struct {
	loc  *time.Location
	grid [7][24]int64
}

func newWeekdayHourReport(q *Query) report { return &weekdayHourReport{loc: q.location()} }

func (r *weekdayHourReport) add(s *Session) {
	t := s.Started.In(r.loc)
	r.grid[weekdayIndex(t)][t.Hour()]++
}

func (r *weekdayHourReport) table() *table {
	t := &table{columns: []string{"weekday"}}
	for h := range 24 {
		t.columns = append(t.columns, strconv.Itoa(h))
	}
	t.columns = append(t.columns, "total")
	for d, hours := range r.grid {
		row := []cell{text(weekdayName(d))}
		var total int64
		for _, n := range hours {
			row = append(row, num(n))
			total += n
		}
		t.add(append(row, num(total))...)
	}
	return t
}
