package stats

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report names accepted by Query.Report.
const (
	ReportSessions    = "sessions"
	ReportHourly      = "hourly"
	ReportWeekday     = "weekday"
	ReportMonthly     = "monthly"
	ReportWeekdayHour = "weekday-hour"
	ReportOperators   = "operators"
	ReportQueues      = "queues"
	ReportTags        = "tags"
	ReportRead        = "read"
	ReportStatus      = "status"
	ReportProtocols   = "protocols"
	ReportSummary     = "summary"
)

// Formats accepted by Query.Format.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// dateLayout is how From and To are written.
const dateLayout = "2006-01-02"

var reportNames = []string{
	ReportSessions, ReportHourly, ReportWeekday, ReportMonthly, ReportWeekdayHour,
	ReportOperators, ReportQueues, ReportTags, ReportRead, ReportStatus, ReportProtocols, ReportSummary,
}

var formatNames = []string{FormatCSV, FormatJSON}

// Reports returns the valid report names, "sessions" (the default) first.
func Reports() []string { return slices.Clone(reportNames) }

// Formats returns the valid output formats, "csv" (the default) first.
func Formats() []string { return slices.Clone(formatNames) }

// ErrInvalidQuery is matched (errors.Is) by every error that comes from a
// bad query rather than from writing: a bad date, an inverted range, an
// unknown report, format or time zone. An HTTP handler answers it with 400.
var ErrInvalidQuery = errors.New("stats: invalid query")

// queryError is a user mistake in a Query; it matches ErrInvalidQuery.
type queryError struct {
	msg string
	err error
}

func (e *queryError) Error() string {
	if e.err != nil {
		return "stats: " + e.msg + ": " + e.err.Error()
	}
	return "stats: " + e.msg
}

func (e *queryError) Unwrap() error        { return e.err }
func (e *queryError) Is(target error) bool { return target == ErrInvalidQuery }

func invalid(err error, format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...), err: err}
}

// Query selects and shapes an export.
type Query struct {
	// From and To are the first and last day, YYYY-MM-DD, inclusive, in
	// Location.
	From, To string
	// Location is the time zone times are shown in and days, hours and
	// months are counted in; nil means UTC.
	Location *time.Location
	// Report is one of Reports(); "" means "sessions".
	Report string
	// Format is "csv" (the default, also for "") or "json".
	Format string
	// IncludeUnanswered includes missed and after_hours sessions (and any
	// status this package does not know).
	IncludeUnanswered bool
	// IncludeAuto includes auto_only sessions.
	IncludeAuto bool
	// MinDuration leaves out sessions shorter than it.
	MinDuration time.Duration
	// Protocol, if set, keeps only the sessions of one channel: "facebook"
	// (Messenger) or "instagram". Unlike the filters above it applies to
	// every report, the summary and status ones included, so that each
	// channel can be reported on its own.
	Protocol string
	// PageNames maps a Page ID to the name written in the "profile"
	// column of the sessions export. The Page's own name, never a patron's.
	PageNames map[string]string
}

// ParseQuery builds a Query from command-line or URL parameters and checks
// it. Names are case-insensitive; empty report and format mean "sessions"
// and "csv"; an empty timezone means defaultTZ, an empty defaultTZ means
// UTC, and "Local" means the machine's zone under its IANA name (see
// ResolveZone). Errors say what was wrong (and list the valid reports) and match
// ErrInvalidQuery.
func ParseQuery(from, to, report, format, timezone string, includeUnanswered, includeAuto bool, minDuration time.Duration, defaultTZ string) (Query, error) {
	tz := strings.TrimSpace(timezone)
	if tz == "" {
		tz = strings.TrimSpace(defaultTZ)
	}
	if tz == "Local" {
		name, err := ResolveZone(tz)
		if err != nil {
			return Query{}, invalid(err, "time zone Local")
		}
		tz = name
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Query{}, invalid(err, "unknown time zone %q (want an IANA name such as America/Toronto)", tz)
	}
	q := Query{
		From:              strings.TrimSpace(from),
		To:                strings.TrimSpace(to),
		Location:          loc,
		Report:            strings.ToLower(strings.TrimSpace(report)),
		Format:            strings.ToLower(strings.TrimSpace(format)),
		IncludeUnanswered: includeUnanswered,
		IncludeAuto:       includeAuto,
		MinDuration:       minDuration,
	}
	if q.Report == "" {
		q.Report = ReportSessions
	}
	if q.Format == "" {
		q.Format = FormatCSV
	}
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	return q, nil
}

// Validate checks the query as Write will use it. Errors match
// ErrInvalidQuery.
func (q Query) Validate() error {
	from, err := parseDate("from", q.From)
	if err != nil {
		return err
	}
	to, err := parseDate("to", q.To)
	if err != nil {
		return err
	}
	if to.Before(from) {
		return invalid(nil, "date range is inverted: to %s is before from %s", q.To, q.From)
	}
	if !slices.Contains(reportNames, q.report()) {
		return invalid(nil, "unknown report %q (valid: %s)", q.Report, strings.Join(reportNames, ", "))
	}
	if !slices.Contains(formatNames, q.format()) {
		return invalid(nil, "unknown format %q (valid: %s)", q.Format, strings.Join(formatNames, ", "))
	}
	if q.MinDuration < 0 {
		return invalid(nil, "minimum duration %s is negative", q.MinDuration)
	}
	switch q.Protocol {
	case "", ProtocolFacebook, ProtocolInstagram:
	default:
		return invalid(nil, "unknown protocol %q (valid: %s, %s)", q.Protocol, ProtocolFacebook, ProtocolInstagram)
	}
	return nil
}

// parseDate reads a YYYY-MM-DD date; name is "from" or "to".
func parseDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, invalid(nil, "%s date is missing (want YYYY-MM-DD)", name)
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		// Go's own message names its layout ("2006-01-02"): say it plainly,
		// keeping its reason when it has one ("day out of range").
		why := ""
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			why = strings.TrimPrefix(pe.Message, ": ") + "; "
		}
		return time.Time{}, invalid(nil, "bad %s date %q: %swant a calendar date as YYYY-MM-DD, such as 2026-10-31", name, s, why)
	}
	return d, nil
}

// Range is the half-open interval [start of From, start of the day after
// To) in Location; the bridge scans the ledger over it. A day starts at the
// first instant of its date (see DayStart), and around a DST change it is
// 23 or 25 hours long. Range is meaningful only for a query that
// passes Validate; otherwise it returns zero times.
func (q Query) Range() (start, end time.Time) {
	from, err1 := time.Parse(dateLayout, q.From)
	to, err2 := time.Parse(dateLayout, q.To)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}
	}
	loc := q.location()
	return DayStart(from.Year(), from.Month(), from.Day(), loc), DayStart(to.Year(), to.Month(), to.Day()+1, loc)
}

// DayStart is the first instant of the calendar day year-month-day in loc
// (day may be out of range and is normalized as by time.Date). That is
// midnight, except in zones whose clocks jump forward at midnight
// (America/Santiago, America/Havana, …), where midnight does not exist on
// the day of the change and the day starts at 01:00. time.Date alone may
// answer 23:00 of the day before there.
func DayStart(year int, month time.Month, day int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, 0, 0, 0, 0, loc)
	want := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if y, m, d := t.Date(); time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Before(want) {
		// Midnight fell in the gap and Go took the earlier offset: the day
		// starts where that offset ends.
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
	}
	return t
}

func (q Query) location() *time.Location {
	if q.Location == nil {
		return time.UTC
	}
	return q.Location
}

func (q Query) report() string {
	if q.Report == "" {
		return ReportSessions
	}
	return q.Report
}

func (q Query) format() string {
	if q.Format == "" {
		return FormatCSV
	}
	return q.Format
}

// timezone is the name of the query's time zone, for the summary.
func (q Query) timezone() string { return q.location().String() }
