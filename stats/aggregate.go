package stats

import "slices"

// tally counts sessions, answered sessions and reference transactions
// (questions of answered sessions).
type tally struct {
	sessions, answered, questions int64
}

func (t *tally) add(s *Session) {
	t.sessions++
	if s.answered() {
		t.answered++
		t.questions += s.answeredQuestions()
	}
}

func (t *tally) plus(o tally) {
	t.sessions += o.sessions
	t.answered += o.answered
	t.questions += o.questions
}

// cells is the tally as the columns sessions, answered, questions.
func (t tally) cells() []cell {
	return []cell{num(t.sessions), num(t.answered), num(t.questions)}
}

var tallyColumns = []string{"sessions", "answered", "questions"}

// row is a label cell followed by the tally's cells.
func (t tally) row(label cell) []cell {
	return append([]cell{label}, t.cells()...)
}

// secondsList collects whole-second values (waits or durations) for mean,
// median, min and max. Means and medians are rounded to the nearest whole
// second, halves up.
type secondsList []int64

// addWait adds the session's wait if a human accepted it.
func (l *secondsList) addWait(s *Session) {
	if w, ok := s.waitSeconds(); ok {
		*l = append(*l, w)
	}
}

func (l secondsList) mean() cell {
	var sum int64
	for _, v := range l {
		sum += v
	}
	return meanOf(sum, int64(len(l)))
}

// meanOf is the mean of n whole-second values adding up to sum, rounded to
// the nearest second (halves up); null if n is 0.
func meanOf(sum, n int64) cell {
	if n == 0 {
		return null
	}
	return num((sum + n/2) / n)
}

// median sorts l in place.
func (l secondsList) median() cell {
	if len(l) == 0 {
		return null
	}
	slices.Sort(l)
	mid := len(l) / 2
	if len(l)%2 == 1 {
		return num(l[mid])
	}
	return num((l[mid-1] + l[mid] + 1) / 2)
}

func (l secondsList) min() cell {
	if len(l) == 0 {
		return null
	}
	return num(slices.Min(l))
}

func (l secondsList) max() cell {
	if len(l) == 0 {
		return null
	}
	return num(slices.Max(l))
}
