package stats

// summaryReport gives the period's totals as metric/value pairs:
//
//	from, to, timezone      the query
//	sessions                sessions exported (after the filters)
//	answered, missed,
//	after_hours, auto_only  sessions per status (non-zero only if included)
//	reference_transactions  questions of answered sessions (the design's
//	                        count of reference transactions)
//	directional             of those, questions at READ 1–2
//	reference               of those, questions at READ 3–6
//	read_not_recorded       of those, questions without a READ level
//	mean_wait, median_wait  wait of answered sessions, whole seconds
//	mean_duration           duration of all exported sessions, whole seconds
//
// Means and medians of nothing are empty in CSV and null in JSON.
type summaryReport struct {
	q         *Query
	all       tally
	statuses  statusCounts
	levels    readTallies
	waits     secondsList
	durations int64 // sum of the durations in whole seconds
}

func newSummaryReport(q *Query) report { return &summaryReport{q: q} }

func (r *summaryReport) add(s *Session) {
	r.all.add(s)
	r.statuses.add(s.Status)
	r.levels.add(s)
	if s.answered() {
		r.waits.addWait(s)
	}
	r.durations += s.durationSeconds()
}

func (r *summaryReport) table() *table {
	q, levels := r.q, &r.levels
	var directional, reference int64
	for l := 1; l <= 6; l++ {
		if l <= 2 {
			directional += levels[l].questions
		} else {
			reference += levels[l].questions
		}
	}
	t := &table{columns: []string{"metric", "value"}, object: true}
	metric := func(name string, v cell) { t.add(text(name), v) }
	metric("from", text(q.From))
	metric("to", text(q.To))
	metric("timezone", text(q.timezone()))
	metric("sessions", num(r.all.sessions))
	for i, st := range knownStatuses {
		metric(string(st), num(r.statuses.known[i]))
	}
	metric("reference_transactions", num(r.all.questions))
	metric("directional", num(directional))
	metric("reference", num(reference))
	metric("read_not_recorded", num(levels[0].questions))
	metric("mean_wait", r.waits.mean())
	metric("median_wait", r.waits.median())
	metric("mean_duration", meanOf(r.durations, r.all.sessions))
	return t
}
