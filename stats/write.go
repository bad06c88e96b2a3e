package stats

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// reportBuilders makes each report's accumulator; sessions are added one
// at a time and the table is built at the end, so no report needs the
// sessions themselves.
var reportBuilders = map[string]func(*Query) report{
	ReportHourly:      newHourlyReport,
	ReportWeekday:     newWeekdayReport,
	ReportMonthly:     newMonthlyReport,
	ReportWeekdayHour: newWeekdayHourReport,
	ReportOperators:   newOperatorsReport,
	ReportQueues:      newQueuesReport,
	ReportTags:        newTagsReport,
	ReportRead:        newReadReport,
	ReportStatus:      newStatusReport,
	ReportProtocols:   newProtocolsReport,
	ReportSummary:     newSummaryReport,
}

// report accumulates selected sessions into a table. add must not keep s
// (it may keep its strings).
type report interface {
	add(s *Session)
	table() *table
}

// Write writes the query's report in its format. It keeps the sessions
// that started within q.Range(), have ended, and pass the filters (status:
// answered always, missed and after_hours with IncludeUnanswered, auto_only
// with IncludeAuto; duration at least MinDuration), in order of start.
// sessions is only read. An invalid query gives an error matching
// ErrInvalidQuery and writes nothing.
//
// Write needs every session in memory; NewExporter writes the same output
// from sessions handed over one at a time.
func Write(w io.Writer, q Query, sessions []Session) error {
	e, err := NewExporter(w, q)
	if err != nil {
		return err
	}
	for _, s := range selectSessions(&q, sessions, e.start, e.end, e.all) {
		if err := e.sink.add(s); err != nil {
			return err
		}
	}
	return e.Close()
}

// ErrUnordered is matched (errors.Is) by the error Exporter.Add returns
// when the sessions export is given a session that sorts before the
// previous one.
var ErrUnordered = errors.New("stats: sessions out of order")

// An Exporter writes one export, byte for byte what Write writes, from
// sessions handed over one at a time with Add, so that an export of
// millions of sessions never holds them all in memory. Aggregate reports
// take sessions in any order. The sessions export (report "sessions")
// writes each row as it comes, so it needs them in order of start, then
// ID, as the bridge's store yields them (see Add).
//
// An Exporter is not safe for concurrent use.
type Exporter struct {
	q          Query
	start, end time.Time
	sink       sink
	ordered    bool // the sink needs sessions in order of start, then ID
	all        bool // the report counts every finished session, unfiltered
	prev       Session
	hasPrev    bool
	err        error // sticky: the first error Add or Close returned
	closed     bool
}

// sink is what an Exporter feeds the selected sessions to: rows of the
// sessions export, or a report's accumulator.
type sink interface {
	add(s *Session) error
	close() error
}

// NewExporter checks q (an invalid query gives an error matching
// ErrInvalidQuery) and returns an Exporter that writes q's report to w.
// Nothing is written before the first Add or Close; w is written in
// chunks of about 64 KB.
func NewExporter(w io.Writer, q Query) (*Exporter, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	e := &Exporter{q: q}
	e.start, e.end = e.q.Range()
	report, format := e.q.report(), e.q.format()
	if report == ReportSessions {
		e.ordered = true
		e.sink = newSessionRows(w, &e.q, format == FormatJSON)
	} else {
		r := reportBuilders[report](&e.q)
		c, ok := r.(interface{ complete() bool })
		e.all = ok && c.complete()
		e.sink = &tableSink{w: w, name: report, json: format == FormatJSON, r: r}
	}
	return e, nil
}

// Add exports s if it started within the query's range, has ended and
// passes the filters (the summary and status reports take every finished
// session); other sessions are skipped. Add only reads s and does
// not keep it or its Tags slice (it may keep its strings), so the caller
// may reuse s for the next session.
//
// For the sessions export, a session that sorts before the previous one
// exported (by start, then ID) gives an error matching ErrUnordered, since
// the rows before it are written already. A write error is returned as
// soon as it happens. After an error, Add and Close return it again.
func (e *Exporter) Add(s *Session) error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return errors.New("stats: Add after Close")
	}
	if s.Started.Before(e.start) || !s.Started.Before(e.end) || s.Open() || !e.q.ofProtocol(s) || !e.all && !e.q.included(s) {
		return nil
	}
	if e.ordered {
		if e.hasPrev && compareSessions(&e.prev, s) > 0 {
			e.err = fmt.Errorf("%w: session %q started %s, before session %q (%s) exported just before it",
				ErrUnordered, s.ID, s.Started.Format(time.RFC3339Nano), e.prev.ID, e.prev.Started.Format(time.RFC3339Nano))
			return e.err
		}
		e.prev.Started, e.prev.ID, e.hasPrev = s.Started, s.ID, true
	}
	if err := e.sink.add(s); err != nil {
		e.err = err
	}
	return e.err
}

// Close writes the rest of the export (the report, or the end of the
// sessions export) and flushes it to the writer. It does not close the
// writer.
func (e *Exporter) Close() error {
	if e.err != nil || e.closed {
		return e.err
	}
	e.closed = true
	e.err = e.sink.close()
	return e.err
}

// tableSink accumulates a report and writes its table on close.
type tableSink struct {
	w    io.Writer
	name string
	json bool
	r    report
}

func (t *tableSink) add(s *Session) error {
	t.r.add(s)
	return nil
}

func (t *tableSink) close() error {
	tab := t.r.table()
	if t.json {
		return writeTableJSON(t.w, t.name, tab)
	}
	return writeTableCSV(t.w, t.name, tab)
}
