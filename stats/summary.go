package stats

// summaryReport gives the period's totals (see Totals) as metric/value
// pairs:
//
//	from, to, timezone      the query
//	sessions                every finished session of the period
//	answered, missed,
//	after_hours,
//	undelivered, auto_only  sessions per status; with other statuses
//	                        (if any), they add up to sessions
//	questions               questions of answered sessions
//	directional             of those, questions at READ 1–2
//	reference               of those, questions at READ 3–6
//	not_classified          of those, questions without a READ level
//	reference_transactions  questions less the directional ones: the
//	                        number for an annual survey
//	mean_wait, median_wait,
//	p90_wait                wait of answered sessions, whole seconds
//	mean_duration           duration of all sessions, whole seconds
//
// The summary counts every finished session whatever the query's
// filters: the filters choose the rows the sessions export lists, not
// what the tallies hide. Means, medians and percentiles of nothing are
// empty in CSV and null in JSON.
type summaryReport struct {
	q      *Query
	totals Totals
}

func newSummaryReport(q *Query) report { return &summaryReport{q: q} }

func (r *summaryReport) add(s *Session) { r.totals.Add(s) }

func (r *summaryReport) table() *table {
	q, sum := r.q, r.totals.Summary()
	t := &table{columns: []string{"metric", "value"}, object: true}
	metric := func(name string, v cell) { t.add(text(name), v) }
	metric("from", text(q.From))
	metric("to", text(q.To))
	metric("timezone", text(q.timezone()))
	metric("sessions", num(sum.Sessions))
	metric(string(StatusAnswered), num(sum.Answered))
	metric(string(StatusMissed), num(sum.Missed))
	metric(string(StatusAfterHours), num(sum.AfterHours))
	metric(string(StatusUndelivered), num(sum.Undelivered))
	metric(string(StatusAutoOnly), num(sum.AutoOnly))
	if sum.Other > 0 {
		metric("other", num(sum.Other))
	}
	metric("questions", num(sum.Questions))
	metric("directional", num(sum.Directional))
	metric("reference", num(sum.Reference))
	metric("not_classified", num(sum.NotClassified))
	metric("reference_transactions", num(sum.ReferenceTransactions))
	metric("mean_wait", ptrCell(sum.MeanWait))
	metric("median_wait", ptrCell(sum.MedianWait))
	metric("p90_wait", ptrCell(sum.P90Wait))
	metric("mean_duration", ptrCell(sum.MeanDuration))
	return t
}

// complete reports that the summary counts every finished session.
func (r *summaryReport) complete() bool { return true }

// ptrCell is *p, or null for nil.
func ptrCell(p *int64) cell {
	if p == nil {
		return null
	}
	return num(*p)
}
