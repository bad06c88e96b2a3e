package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// The reference coordinator's dashboard, GET /stats/: a period's headline
// figures, charts and tables, drawn on the server (no script, nothing from
// elsewhere), and the export form.

//go:embed templates
var templateFiles embed.FS

var pages = template.Must(template.New("").ParseFS(templateFiles, "templates/*.html"))

// stylesheet is the pages' CSS, served at /stats/stats.css.
var stylesheet = func() []byte {
	b, err := templateFiles.ReadFile("templates/stats.css")
	if err != nil {
		panic(err)
	}
	return b
}()

// securityHeaders keeps the pages to themselves: nothing is loaded from
// elsewhere, forms go nowhere else, no site frames them, and no address
// leaks to another site.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// render writes a page from the templates, with the given status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		h.Log.Error("statistics page", zap.String("page", name), zap.Error(err))
		http.Error(w, "the page failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// dashboardPage is what the dashboard template shows.
type dashboardPage struct {
	// Error is why the request could not be answered (the form is shown
	// again with it).
	Error string
	// Period, From, To and Zone are the request's, for the picker.
	Period, From, To, Zone string
	// Protocol is the channel shown, "" for both.
	Protocol string
	Presets  []presetLink
	Zones    []string
	// Range describes the period for people.
	Range    string
	Headline []figure
	// Questions explains the reference transactions.
	Questions string
	Charts    []*chart
	// Empty says there was no finished session in the period.
	Empty bool
	// SignedIn shows the sign-out button (there is a token to sign in
	// with).
	SignedIn bool
	Reports  []string
	Formats  []string
}

// presetLink is a link to one of the preset periods.
type presetLink struct {
	Label, URL string
	Current    bool
}

// figure is a headline figure.
type figure struct {
	// Metric is the summary report's name for it.
	Metric string
	Label  string
	// Value is the figure as people read it, Raw as the summary export
	// writes it ("" for none).
	Value, Raw string
	// Hint says what is counted, or what share of sessions it is.
	Hint string
}

// commonZones are offered in the time zone field besides the configured
// one; any IANA name is accepted.
var commonZones = []string{"UTC", "America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg",
	"America/Edmonton", "America/Vancouver", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "Europe/London", "Europe/Paris", "Australia/Sydney", "Pacific/Auckland"}

// dashboard serves GET /stats/.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, cfg *config.Config) {
	page := dashboardPage{SignedIn: cfg.HTTP.StatsToken != "" && !h.Trusted, Reports: stats.Reports(), Formats: stats.Formats()}
	req, err := parseDashboardRequest(r.URL.Query(), cfg, h.now())
	page.Period, page.From, page.To, page.Zone, page.Protocol = req.Period, req.From, req.To, req.Zone, req.Protocol
	page.Zones = append([]string{cfg.Sessions.Timezone}, commonZones...)
	page.Presets = presetLinks(req)
	if _, zoneErr := time.LoadLocation(req.Zone); zoneErr != nil {
		// Links that carry a bad zone would fail too: they take the default.
		page.Presets = presetLinks(dashboardRequest{Period: req.Period, Protocol: req.Protocol})
	}
	if err != nil {
		// The caller's mistake: show what was typed, so it can be corrected.
		q := r.URL.Query()
		page.From, page.To, page.Zone = q.Get("from"), q.Get("to"), q.Get("timezone")
		page.Error = err.Error()
		h.render(w, r, http.StatusBadRequest, "dashboard.html", page)
		return
	}
	res, err := h.dashboardResult(req)
	if err != nil {
		h.Log.Error("statistics dashboard", zap.Error(err))
		http.Error(w, "the statistics could not be read; see the daemon's log", http.StatusInternalServerError)
		return
	}
	page.Range = describeRange(req)
	page.Headline, page.Questions = headline(&res.Summary)
	page.Charts = buildCharts(&res, periodValues(req))
	page.Empty = res.Summary.Sessions == 0
	h.render(w, r, http.StatusOK, "dashboard.html", page)
}

// chartCSV serves GET /stats/chart.csv?chart=ID&…: one chart's numbers.
func (h *Handler) chartCSV(w http.ResponseWriter, r *http.Request, cfg *config.Config) {
	id := r.URL.Query().Get("chart")
	if !validChart(id) {
		http.Error(w, fmt.Sprintf("unknown chart %q (valid: %v)", id, chartIDs), http.StatusBadRequest)
		return
	}
	req, err := parseDashboardRequest(r.URL.Query(), cfg, h.now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := h.dashboardResult(req)
	if err != nil {
		h.Log.Error("statistics chart", zap.String("chart", id), zap.Error(err))
		http.Error(w, "the statistics could not be read; see the daemon's log", http.StatusInternalServerError)
		return
	}
	c := chartByID(buildCharts(&res, nil), id)
	var b bytes.Buffer
	if err := c.writeCSV(&b); err != nil {
		h.Log.Error("statistics chart", zap.Error(err))
		http.Error(w, "the chart failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="askbridge-`+id+"-"+req.From+"-"+req.To+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

func validChart(id string) bool {
	for _, c := range chartIDs {
		if c == id {
			return true
		}
	}
	return false
}

// dashboardResult reads the period's sessions from the store, streamed.
func (h *Handler) dashboardResult(req dashboardRequest) (stats.DashboardResult, error) {
	d, err := stats.NewDashboard(req.Query)
	if err != nil {
		return stats.DashboardResult{}, fmt.Errorf("admin: dashboard: %w", err)
	}
	from, to := req.Query.Range()
	err = h.Store.ForEachSession(from, to, func(s *stats.Session) error {
		d.Add(s)
		return nil
	})
	if err != nil {
		return stats.DashboardResult{}, fmt.Errorf("admin: reading the sessions for the dashboard: %w", err)
	}
	return d.Result(), nil
}

// periodValues is the query string for the request's period and zone.
func periodValues(req dashboardRequest) url.Values {
	v := url.Values{"from": {req.From}, "to": {req.To}, "timezone": {req.Zone}}
	if req.Protocol != "" {
		v.Set("protocol", req.Protocol)
	}
	return v
}

// presetLinks are the links to the preset periods in the request's zone.
func presetLinks(req dashboardRequest) []presetLink {
	links := make([]presetLink, len(presetPeriods))
	for i, p := range presetPeriods {
		v := url.Values{"period": {p.name}}
		if req.Zone != "" {
			v.Set("timezone", req.Zone)
		}
		if req.Protocol != "" {
			v.Set("protocol", req.Protocol)
		}
		links[i] = presetLink{Label: p.label, URL: cookiePath + "?" + v.Encode(), Current: req.Period == p.name}
	}
	return links
}

// describeRange is the period for people: "1 March 2026 – 31 March 2026,
// America/Toronto time".
func describeRange(req dashboardRequest) string {
	const layout = "2 January 2006"
	from, _ := time.Parse("2006-01-02", req.From)
	to, _ := time.Parse("2006-01-02", req.To)
	s := from.Format(layout)
	if req.To != req.From {
		s += " – " + to.Format(layout)
	}
	s += ", " + req.Zone + " time"
	switch req.Protocol {
	case stats.ProtocolFacebook:
		s += ", Messenger only"
	case stats.ProtocolInstagram:
		s += ", Instagram only"
	}
	return s
}

// headline is the period's headline figures from the summary.
func headline(s *stats.Summary) ([]figure, string) {
	count := func(metric, label string, n int64, hint string) figure {
		return figure{Metric: metric, Label: label, Value: formatCount(n), Raw: fmt.Sprint(n), Hint: hint}
	}
	share := func(n int64) string {
		if s.Sessions == 0 {
			return ""
		}
		return formatShare(n, s.Sessions) + " of sessions"
	}
	wait := func(metric, label string, p *int64, hint string) figure {
		f := figure{Metric: metric, Label: label, Value: formatWait(p), Hint: hint}
		if p != nil {
			f.Raw = fmt.Sprint(*p)
		}
		return f
	}
	figs := []figure{
		count("sessions", "Sessions", s.Sessions, "finished conversations"),
		count("answered", "Answered", s.Answered, share(s.Answered)),
		count("missed", "Missed", s.Missed, share(s.Missed)),
		count("after_hours", "After hours", s.AfterHours, share(s.AfterHours)),
		count("undelivered", "Undelivered", s.Undelivered, "replies Facebook refused"),
		count("auto_only", "Automatic replies only", s.AutoOnly, "no librarian took part"),
		count("reference_transactions", "Reference transactions", s.ReferenceTransactions, "questions less directional"),
		count("directional", "Directional", s.Directional, "questions at READ 1–2"),
		wait("median_wait", "Median wait", s.MedianWait, "for the first reply"),
		wait("p90_wait", "90th percentile wait", s.P90Wait, "9 in 10 waited at most this long"),
	}
	if s.Other > 0 {
		figs = append(figs, count("other", "Other status", s.Other, "written by a newer askbridge"))
	}
	note := fmt.Sprintf("Answered sessions held %s questions: %s reference (READ 3–6), %s not classified and %s directional (READ 1–2). "+
		"Reference transactions, the number for an annual survey, are the reference and not classified questions.",
		formatCount(s.Questions), formatCount(s.Reference), formatCount(s.NotClassified), formatCount(s.Directional))
	return figs, note
}
