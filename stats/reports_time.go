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

func hourlyReport(q *Query, sel []*Session) *table {
	var hours [24]tally
	loc := q.location()
	for _, s := range sel {
		hours[s.Started.In(loc).Hour()].add(s)
	}
	t := &table{columns: append([]string{"hour"}, tallyColumns...)}
	for h, tl := range hours {
		t.add(tl.row(num(int64(h)))...)
	}
	return t
}

func weekdayReport(q *Query, sel []*Session) *table {
	var days [7]tally
	loc := q.location()
	for _, s := range sel {
		days[weekdayIndex(s.Started.In(loc))].add(s)
	}
	t := &table{columns: append([]string{"weekday"}, tallyColumns...)}
	for i, tl := range days {
		t.add(tl.row(text(weekdayName(i)))...)
	}
	return t
}

// monthNumber counts months from year 0, so consecutive months differ by 1.
func monthNumber(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

func monthlyReport(q *Query, sel []*Session) *table {
	start, end := q.Range()
	loc := q.location()
	first := monthNumber(start)
	last := monthNumber(end.Add(-time.Nanosecond).In(loc))
	months := make([]tally, last-first+1)
	for _, s := range sel {
		months[monthNumber(s.Started.In(loc))-first].add(s)
	}
	t := &table{columns: append([]string{"month"}, tallyColumns...)}
	for i, tl := range months {
		m := first + i
		t.add(tl.row(text(fmt.Sprintf("%04d-%02d", m/12, m%12+1)))...)
	}
	return t
}

// weekdayHourReport is LibraryH3lp's heat map: one row per weekday (Monday
// first), one column per hour 0–23 holding the number of sessions, and the
// row's total.
func weekdayHourReport(q *Query, sel []*Session) *table {
	var grid [7][24]int64
	loc := q.location()
	for _, s := range sel {
		t := s.Started.In(loc)
		grid[weekdayIndex(t)][t.Hour()]++
	}
	t := &table{columns: []string{"weekday"}}
	for h := range 24 {
		t.columns = append(t.columns, strconv.Itoa(h))
	}
	t.columns = append(t.columns, "total")
	for d, hours := range grid {
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
