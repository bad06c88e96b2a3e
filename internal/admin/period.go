package admin

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// The dashboard's periods: its query string carries period=NAME, or from
// and to (YYYY-MM-DD, both) for any range; timezone is an IANA zone name
// and defaults to sessions.timezone.
const (
	periodThisMonth  = "this-month"
	periodLastMonth  = "last-month"
	periodThisYear   = "this-year"
	periodFiscalYear = "fiscal-year"
	periodCustom     = "custom"
)

// presetPeriods are the periods the dashboard offers, the default first.
var presetPeriods = []struct{ name, label string }{
	{periodThisMonth, "This month"},
	{periodLastMonth, "Last month"},
	{periodThisYear, "This year"},
	{periodFiscalYear, "This fiscal year"},
}

// defaultFiscalYearStart is July, when stats.fiscal_year_start is unset.
const defaultFiscalYearStart = 7

// maxDashboardYears bounds the range one dashboard shows.
const maxDashboardYears = 50

// dashboardRequest is a dashboard (or chart CSV) request: a period in a
// zone, and the statistics query for it.
type dashboardRequest struct {
	// Period is one of the preset names or periodCustom.
	Period string
	// From and To are the period's first and last day, YYYY-MM-DD.
	From, To string
	// Zone is the time zone's name.
	Zone string
	// Protocol is the channel shown, "facebook" or "instagram"; "" for both.
	Protocol string
	// Query is the query for the period, with the Pages' names.
	Query stats.Query
}

// badRequest is the caller's mistake, answered with 400 and its message.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// parseDashboardRequest reads the period and zone from the query string:
// from and to if given (both), else period (this month by default), in
// timezone (sessions.timezone by default). now is the time of the request.
// Errors are *badRequest.
func parseDashboardRequest(v url.Values, cfg *config.Config, now time.Time) (dashboardRequest, error) {
	req := dashboardRequest{Period: strings.TrimSpace(v.Get("period")), Zone: strings.TrimSpace(v.Get("timezone")),
		Protocol: strings.ToLower(strings.TrimSpace(v.Get("protocol")))}
	switch req.Protocol {
	case "", stats.ProtocolFacebook, stats.ProtocolInstagram:
	default:
		p := req.Protocol
		req.Protocol = ""
		return req, badf("Unknown channel %q: choose facebook (Messenger) or instagram, or leave it empty for both.", p)
	}
	if req.Zone == "" {
		req.Zone = cfg.Sessions.Timezone
	}
	loc, err := time.LoadLocation(req.Zone)
	if err != nil {
		return req, badf("Unknown time zone %q: give an IANA name such as America/Toronto, Europe/London or UTC.", req.Zone)
	}
	req.Zone = loc.String()
	from, to := strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	switch {
	case from != "" || to != "":
		if from == "" || to == "" {
			return req, badf("Give both the first (from) and the last (to) day of the range, as YYYY-MM-DD.")
		}
		req.Period, req.From, req.To = periodCustom, from, to
	default:
		if req.Period == "" {
			req.Period = periodThisMonth
		}
		req.From, req.To, err = presetRange(req.Period, now.In(loc), fiscalYearStart(cfg))
		if err != nil {
			return req, err
		}
	}
	p := ExportParams{From: req.From, To: req.To, Report: stats.ReportSummary, Timezone: req.Zone, Protocol: req.Protocol}
	req.Query, err = p.Query(cfg)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "stats: ")
		return req, badf("%s%s.", strings.ToUpper(msg[:1]), msg[1:])
	}
	if first, last := req.Query.Range(); last.Sub(first) > maxDashboardYears*366*24*time.Hour {
		return req, badf("The dashboard shows at most %d years at a time; export longer ranges instead.", maxDashboardYears)
	}
	return req, nil
}

// fiscalYearStart is stats.fiscal_year_start, July if unset.
func fiscalYearStart(cfg *config.Config) time.Month {
	if m := cfg.Stats.FiscalYearStart; m >= 1 && m <= 12 {
		return time.Month(m)
	}
	return defaultFiscalYearStart
}

// presetRange is the first and last day of a preset period around the
// wall-clock time now; fiscal years start on the first of fyStart.
func presetRange(name string, now time.Time, fyStart time.Month) (from, to string, err error) {
	y, m, _ := now.Date()
	var first, next time.Time // first day, and first day after
	switch name {
	case periodThisMonth:
		first = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		next = first.AddDate(0, 1, 0)
	case periodLastMonth:
		first = time.Date(y, m-1, 1, 0, 0, 0, 0, time.UTC)
		next = first.AddDate(0, 1, 0)
	case periodThisYear:
		first = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		next = first.AddDate(1, 0, 0)
	case periodFiscalYear:
		if m < fyStart {
			y--
		}
		first = time.Date(y, fyStart, 1, 0, 0, 0, 0, time.UTC)
		next = first.AddDate(1, 0, 0)
	default:
		names := make([]string, len(presetPeriods))
		for i, p := range presetPeriods {
			names[i] = p.name
		}
		return "", "", badf("Unknown period %q: choose one of %s, or give from and to dates.", name, strings.Join(names, ", "))
	}
	const day = "2006-01-02"
	return first.Format(day), next.AddDate(0, 0, -1).Format(day), nil
}
