package stats

import "slices"

// Totals accumulates the figures every view of a period shares: the
// summary report, the /stats/ dashboard's headline figures and the
// librarians' "Today's statistics" command all take them from here, so
// they cannot disagree. Add every finished session of the period, in any
// order; Summary gives the figures. The zero Totals is ready to use.
type Totals struct {
	all       tally
	statuses  statusCounts
	levels    readTallies
	waits     secondsList
	durations int64 // sum of the durations in whole seconds
}

// Add counts a finished session. Open sessions are left out, like in
// every export.
func (t *Totals) Add(s *Session) {
	if s.Open() {
		return
	}
	t.all.add(s)
	t.statuses.add(s.Status)
	t.levels.add(s)
	if s.answered() {
		t.waits.addWait(s)
	}
	t.durations += s.durationSeconds()
}

// Summary is a period's figures. Counts are of finished sessions; the
// status counts add up to Sessions.
type Summary struct {
	// Sessions counts every finished session, whatever its status.
	Sessions int64
	// Answered, Missed, AfterHours, Undelivered and AutoOnly count
	// sessions per status; Other counts statuses this package does not
	// know (written by a newer version).
	Answered, Missed, AfterHours, Undelivered, AutoOnly, Other int64
	// Questions is the sum of the questions of answered sessions (1 each
	// unless an operator recorded more with !questions N).
	Questions int64
	// Directional, Reference and NotClassified split Questions by the
	// session's READ level: 1–2, 3–6, and none recorded.
	Directional, Reference, NotClassified int64
	// ReferenceTransactions is the number for an annual survey (ARL,
	// NISO Z39.7, ACRL/PLS): Questions less the directional ones, that is
	// Reference + NotClassified.
	ReferenceTransactions int64
	// Waits counts the answered sessions whose wait the wait figures
	// describe.
	Waits int64
	// MeanWait, MedianWait and P90Wait are of the waits of answered
	// sessions, in whole seconds (see the package documentation for the
	// rounding rules); nil when no session was answered.
	MeanWait, MedianWait, P90Wait *int64
	// MeanDuration is the mean duration of all finished sessions in whole
	// seconds; nil when there are none.
	MeanDuration *int64
}

// Summary returns the figures of the sessions added so far. It may sort
// the waits kept so far; Add may be called again afterwards.
func (t *Totals) Summary() Summary {
	levels := &t.levels
	sum := Summary{
		Sessions:    t.all.sessions,
		Answered:    t.statuses.known[0],
		Missed:      t.statuses.known[1],
		AfterHours:  t.statuses.known[2],
		Undelivered: t.statuses.known[3],
		AutoOnly:    t.statuses.known[4],
		Questions:   t.all.questions,
		Waits:       int64(len(t.waits)),
	}
	for _, n := range t.statuses.other {
		sum.Other += n
	}
	for l := 1; l <= 6; l++ {
		if l <= 2 {
			sum.Directional += levels[l].questions
		} else {
			sum.Reference += levels[l].questions
		}
	}
	sum.NotClassified = levels[0].questions
	sum.ReferenceTransactions = sum.Questions - sum.Directional
	sum.MeanWait = t.waits.mean().ptr()
	sum.MedianWait = t.waits.median().ptr()
	sum.P90Wait = t.waits.percentile(90).ptr()
	sum.MeanDuration = meanOf(t.durations, t.all.sessions).ptr()
	return sum
}

// ptr is the cell's number, or nil for null.
func (c cell) ptr() *int64 {
	if c.kind != kindInt {
		return nil
	}
	n := c.n
	return &n
}

// percentile is the p-th percentile by the nearest-rank method: the
// smallest value that at least p % of the values do not exceed (the
// value at rank ⌈p/100 × n⌉ in ascending order). It sorts l in place.
func (l secondsList) percentile(p int) cell {
	if len(l) == 0 {
		return null
	}
	slices.Sort(l)
	rank := (p*len(l) + 99) / 100
	return num(l[max(rank, 1)-1])
}
