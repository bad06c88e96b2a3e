package stats

import (
	"maps"
	"slices"
	"strconv"
)

// Reports grouped by a session attribute. Groups are sorted by name so a
// month's rows line up with the previous month's.

// operatorsReport is LibraryH3lp's chats-per-operator report: per operator
// (first human answerer) of answered sessions, the number of sessions and
// the mean, median, min and max wait in whole seconds.
func operatorsReport(q *Query, sel []*Session) *table {
	type agg struct {
		n     int64
		waits secondsList
	}
	ops := map[string]*agg{}
	for _, s := range sel {
		if !s.answered() {
			continue
		}
		a := ops[s.Operator]
		if a == nil {
			a = &agg{}
			ops[s.Operator] = a
		}
		a.n++
		a.waits.addWait(s)
	}
	t := &table{columns: []string{"operator", "n", "mean", "median", "min", "max"}}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		a := ops[op]
		t.add(text(op), num(a.n), a.waits.mean(), a.waits.median(), a.waits.min(), a.waits.max())
	}
	return t
}

// queuesReport counts per queue, with the mean and median wait of its
// answered sessions.
func queuesReport(q *Query, sel []*Session) *table {
	type agg struct {
		tally
		waits secondsList
	}
	queues := map[string]*agg{}
	for _, s := range sel {
		a := queues[s.Queue]
		if a == nil {
			a = &agg{}
			queues[s.Queue] = a
		}
		a.add(s)
		if s.answered() {
			a.waits.addWait(s)
		}
	}
	t := &table{columns: append(append([]string{"queue"}, tallyColumns...), "mean_wait", "median_wait")}
	for _, name := range slices.Sorted(maps.Keys(queues)) {
		a := queues[name]
		t.add(append(a.row(text(name)), a.waits.mean(), a.waits.median())...)
	}
	return t
}

// untagged labels the tags report's row of sessions without tags.
const untagged = "(untagged)"

// tagsReport counts per tag; a session with several tags counts once in
// each (a tag repeated on one session counts once), so the rows add up to
// more than the sessions. Sessions without tags are the last row,
// "(untagged)", always present.
func tagsReport(q *Query, sel []*Session) *table {
	tags := map[string]*tally{}
	var none tally
	for _, s := range sel {
		if len(s.Tags) == 0 {
			none.add(s)
			continue
		}
		for i, tag := range s.Tags {
			if slices.Contains(s.Tags[:i], tag) {
				continue
			}
			tl := tags[tag]
			if tl == nil {
				tl = &tally{}
				tags[tag] = tl
			}
			tl.add(s)
		}
	}
	t := &table{columns: append([]string{"tag"}, tallyColumns...)}
	for _, tag := range slices.Sorted(maps.Keys(tags)) {
		t.add(tags[tag].row(text(tag))...)
	}
	t.add(none.row(text(untagged))...)
	return t
}

// Labels of the read report's rows besides the levels 1–6.
const (
	readNotRecorded = "not_recorded"
	readDirectional = "directional"
	readReference   = "reference"
)

// readTallies counts per READ bucket: index 0 is not recorded, 1–6 the
// levels.
func readTallies(sel []*Session) [7]tally {
	var levels [7]tally
	for _, s := range sel {
		levels[s.readBucket()].add(s)
	}
	return levels
}

// readReport counts per READ scale level: rows 1–6, not_recorded, then the
// totals directional (levels 1–2) and reference (levels 3–6). The level
// column is text in JSON, since the last three rows are not numbers.
func readReport(q *Query, sel []*Session) *table {
	levels := readTallies(sel)
	t := &table{columns: append([]string{"level"}, tallyColumns...)}
	var directional, reference tally
	for l := 1; l <= 6; l++ {
		t.add(levels[l].row(text(strconv.Itoa(l)))...)
		if l <= 2 {
			directional.plus(levels[l])
		} else {
			reference.plus(levels[l])
		}
	}
	t.add(levels[0].row(text(readNotRecorded))...)
	t.add(directional.row(text(readDirectional))...)
	t.add(reference.row(text(readReference))...)
	return t
}

// knownStatuses are the status report's fixed rows, in order.
var knownStatuses = []Status{StatusAnswered, StatusMissed, StatusAfterHours, StatusAutoOnly}

// statusReport counts sessions per status: the four known statuses always
// (zero rows included), then any other status found, sorted. Only statuses
// the filters let through can be non-zero.
func statusReport(q *Query, sel []*Session) *table {
	counts := map[Status]int64{}
	for _, s := range sel {
		counts[s.Status]++
	}
	t := &table{columns: []string{"status", "sessions"}}
	for _, st := range knownStatuses {
		t.add(text(string(st)), num(counts[st]))
		delete(counts, st)
	}
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		t.add(text(string(st)), num(counts[st]))
	}
	return t
}
