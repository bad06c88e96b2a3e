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
func summaryReport(q *Query, sel []*Session) *table {
	var all tally
	var waits secondsList
	durations := make(secondsList, 0, len(sel))
	statuses := map[Status]int64{}
	for _, s := range sel {
		all.add(s)
		statuses[s.Status]++
		if s.answered() {
			waits.addWait(s)
		}
		durations = append(durations, s.durationSeconds())
	}
	levels := readTallies(sel)
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
	metric("sessions", num(all.sessions))
	for _, st := range knownStatuses {
		metric(string(st), num(statuses[st]))
	}
	metric("reference_transactions", num(all.questions))
	metric("directional", num(directional))
	metric("reference", num(reference))
	metric("read_not_recorded", num(levels[0].questions))
	metric("mean_wait", waits.mean())
	metric("median_wait", waits.median())
	metric("mean_duration", durations.mean())
	return t
}
