package stats

import "io"

// reportBuilders makes each report's table from the selected sessions.
var reportBuilders = map[string]func(*Query, []*Session) *table{
	ReportHourly:      hourlyReport,
	ReportWeekday:     weekdayReport,
	ReportMonthly:     monthlyReport,
	ReportWeekdayHour: weekdayHourReport,
	ReportOperators:   operatorsReport,
	ReportQueues:      queuesReport,
	ReportTags:        tagsReport,
	ReportRead:        readReport,
	ReportStatus:      statusReport,
	ReportSummary:     summaryReport,
}

// Write writes the query's report in its format. It keeps the sessions
// that started within q.Range(), have ended, and pass the filters (status:
// answered always, missed and after_hours with IncludeUnanswered, auto_only
// with IncludeAuto; duration at least MinDuration), in order of start.
// sessions is only read. An invalid query gives an error matching
// ErrInvalidQuery and writes nothing.
func Write(w io.Writer, q Query, sessions []Session) error {
	if err := q.Validate(); err != nil {
		return err
	}
	start, end := q.Range()
	sel := selectSessions(&q, sessions, start, end)
	report, format := q.report(), q.format()
	if report == ReportSessions {
		if format == FormatJSON {
			return writeSessionsJSON(w, &q, sel)
		}
		return writeSessionsCSV(w, &q, sel)
	}
	t := reportBuilders[report](&q, sel)
	if format == FormatJSON {
		return writeTableJSON(w, report, t)
	}
	return writeTableCSV(w, report, t)
}
