package stats

import (
	"slices"
	"time"
)

// included reports whether a finished session passes the query's status
// and duration filters (the range is checked by the caller). Like
// LibraryH3lp's reports, unanswered and automated sessions are left out
// unless asked for; statuses this package does not know count as
// unanswered.
func (q *Query) included(s *Session) bool {
	switch s.Status {
	case StatusAnswered:
	case StatusAutoOnly:
		if !q.IncludeAuto {
			return false
		}
	default: // missed, after_hours, unknown
		if !q.IncludeUnanswered {
			return false
		}
	}
	return s.Duration() >= q.MinDuration
}

// selectSessions returns the sessions the query exports, in order of
// start (then ID): started within [start, end), finished, and passing the
// status and duration filters. It points into sessions; nothing is copied.
//
// With all, the status and duration filters are not applied (the summary
// and status reports count every finished session).
func selectSessions(q *Query, sessions []Session, start, end time.Time, all bool) []*Session {
	sel := make([]*Session, 0, len(sessions))
	for i := range sessions {
		s := &sessions[i]
		if s.Started.Before(start) || !s.Started.Before(end) || s.Open() || !q.ofProtocol(s) || !all && !q.included(s) {
			continue
		}
		sel = append(sel, s)
	}
	if !slices.IsSortedFunc(sel, compareSessions) {
		slices.SortStableFunc(sel, compareSessions)
	}
	return sel
}

func compareSessions(a, b *Session) int {
	if c := a.Started.Compare(b.Started); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// ofProtocol reports whether s is of the query's protocol (any, if none).
func (q *Query) ofProtocol(s *Session) bool {
	return q.Protocol == "" || s.Channel() == q.Protocol
}
