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
type operatorsReport struct {
	ops map[string]*operatorTally
}

type operatorTally struct {
	n     int64
	waits secondsList
}

func newOperatorsReport(*Query) report { return &operatorsReport{ops: map[string]*operatorTally{}} }

func (r *operatorsReport) add(s *Session) {
	if !s.answered() {
		return
	}
	a := r.ops[s.Operator]
	if a == nil {
		a = &operatorTally{}
		r.ops[s.Operator] = a
	}
	a.n++
	a.waits.addWait(s)
}

func (r *operatorsReport) table() *table {
	t := &table{columns: []string{"operator", "n", "mean", "median", "min", "max"}}
	for _, op := range slices.Sorted(maps.Keys(r.ops)) {
		a := r.ops[op]
		t.add(text(op), num(a.n), a.waits.mean(), a.waits.median(), a.waits.min(), a.waits.max())
	}
	return t
}

// queuesReport counts per queue, with the mean and median wait of its
// answered sessions.
type queuesReport struct {
	queues map[string]*queueTally
}

type queueTally struct {
	tally
	waits secondsList
}

func newQueuesReport(*Query) report { return &queuesReport{queues: map[string]*queueTally{}} }

func (r *queuesReport) add(s *Session) {
	a := r.queues[s.Queue]
	if a == nil {
		a = &queueTally{}
		r.queues[s.Queue] = a
	}
	a.add(s)
	if s.answered() {
		a.waits.addWait(s)
	}
}

func (r *queuesReport) table() *table {
	t := &table{columns: append(append([]string{"queue"}, tallyColumns...), "mean_wait", "median_wait")}
	for _, name := range slices.Sorted(maps.Keys(r.queues)) {
		a := r.queues[name]
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
type tagsReport struct {
	tags map[string]*tally
	none tally
}

func newTagsReport(*Query) report { return &tagsReport{tags: map[string]*tally{}} }

func (r *tagsReport) add(s *Session) {
	if len(s.Tags) == 0 {
		r.none.add(s)
		return
	}
	for i, tag := range s.Tags {
		if slices.Contains(s.Tags[:i], tag) {
			continue
		}
		tl := r.tags[tag]
		if tl == nil {
			tl = &tally{}
			r.tags[tag] = tl
		}
		tl.add(s)
	}
}

func (r *tagsReport) table() *table {
	t := &table{columns: append([]string{"tag"}, tallyColumns...)}
	for _, tag := range slices.Sorted(maps.Keys(r.tags)) {
		t.add(r.tags[tag].row(text(tag))...)
	}
	t.add(r.none.row(text(untagged))...)
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
type readTallies [7]tally

func (l *readTallies) add(s *Session) { l[s.readBucket()].add(s) }

// readReport counts per READ scale level: rows 1–6, not_recorded, then the
// totals directional (levels 1–2) and reference (levels 3–6). The level
// column is text in JSON, since the last three rows are not numbers.
type readReport struct {
	levels readTallies
}

func newReadReport(*Query) report { return &readReport{} }

func (r *readReport) add(s *Session) { r.levels.add(s) }

func (r *readReport) table() *table {
	levels := &r.levels
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
var knownStatuses = []Status{StatusAnswered, StatusMissed, StatusAfterHours, StatusUndelivered, StatusAutoOnly}

// statusCounts counts sessions per status.
type statusCounts struct {
	known [5]int64 // in the order of knownStatuses
	other map[Status]int64
}

func (c *statusCounts) add(st Status) {
	switch st {
	case StatusAnswered:
		c.known[0]++
	case StatusMissed:
		c.known[1]++
	case StatusAfterHours:
		c.known[2]++
	case StatusUndelivered:
		c.known[3]++
	case StatusAutoOnly:
		c.known[4]++
	default:
		if c.other == nil {
			c.other = map[Status]int64{}
		}
		c.other[st]++
	}
}

// statusReport counts sessions per status: the five known statuses always
// (zero rows included), then any other status found, sorted. Like the
// summary it counts every finished session whatever the filters, so its
// rows add up to the summary's sessions.
type statusReport struct {
	counts statusCounts
}

func newStatusReport(*Query) report { return &statusReport{} }

func (r *statusReport) add(s *Session) { r.counts.add(s.Status) }

// complete reports that the status report counts every finished session.
func (r *statusReport) complete() bool { return true }

func (r *statusReport) table() *table {
	t := &table{columns: []string{"status", "sessions"}}
	for i, st := range knownStatuses {
		t.add(text(string(st)), num(r.counts.known[i]))
	}
	for _, st := range slices.Sorted(maps.Keys(r.counts.other)) {
		t.add(text(string(st)), num(r.counts.other[st]))
	}
	return t
}

// protocolsReport counts per channel: facebook (Messenger) and instagram
// always, then any other protocol found, sorted.
type protocolsReport struct {
	counts map[string]*tally
}

func newProtocolsReport(*Query) report {
	return &protocolsReport{counts: map[string]*tally{ProtocolFacebook: {}, ProtocolInstagram: {}}}
}

func (r *protocolsReport) add(s *Session) {
	t := r.counts[s.Channel()]
	if t == nil {
		t = &tally{}
		r.counts[s.Channel()] = t
	}
	t.add(s)
}

func (r *protocolsReport) table() *table {
	t := &table{columns: append([]string{"protocol"}, tallyColumns...)}
	t.add(r.counts[ProtocolFacebook].row(text(ProtocolFacebook))...)
	t.add(r.counts[ProtocolInstagram].row(text(ProtocolInstagram))...)
	for _, p := range slices.Sorted(maps.Keys(r.counts)) {
		if p != ProtocolFacebook && p != ProtocolInstagram {
			t.add(r.counts[p].row(text(p))...)
		}
	}
	return t
}
