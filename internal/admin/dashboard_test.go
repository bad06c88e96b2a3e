package admin

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// figureRE finds a headline figure in the page: its metric, the number
// the summary export writes and what people read.
var figureRE = regexp.MustCompile(`data-metric="([a-z_0-9]+)" data-value="(-?[0-9]*)">([^<]*)<`)

// checkFiguresMatchSummary checks that every headline figure of page is
// the summary export's for the same period and zone, and shown as such.
func checkFiguresMatchSummary(t *testing.T, st *bridge.Store, page, from, to, zone string) {
	t.Helper()
	checkChannelFiguresMatchSummary(t, st, page, from, to, zone, "")
}

// checkChannelFiguresMatchSummary is checkFiguresMatchSummary for one
// channel ("" for both).
func checkChannelFiguresMatchSummary(t *testing.T, st *bridge.Store, page, from, to, zone, protocol string) {
	t.Helper()
	q, err := stats.ParseQuery(from, to, stats.ReportSummary, stats.FormatJSON, zone, false, false, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	q.Protocol = protocol
	var b bytes.Buffer
	if err := Export(&b, st, q); err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	found := figureRE.FindAllStringSubmatch(page, -1)
	if len(found) < 10 {
		t.Fatalf("the page shows %d headline figures, want at least 10", len(found))
	}
	for _, m := range found {
		metric, raw, shown := m[1], m[2], m[3]
		v, ok := sum[metric]
		if !ok {
			t.Errorf("figure %s is not in the summary export", metric)
			continue
		}
		want := ""
		if v != nil {
			want = strconv.FormatInt(int64(v.(float64)), 10)
		}
		if raw != want {
			t.Errorf("%s: the page says %q, the summary export %q", metric, raw, want)
		}
		if raw == "" && shown != "—" {
			t.Errorf("%s: no value is shown as %q", metric, shown)
		}
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil && metric != "median_wait" && metric != "p90_wait" && shown != formatCount(n) {
			t.Errorf("%s: %d is shown as %q", metric, n, shown)
		}
	}
	if sum["sessions"].(float64) == 0 {
		t.Errorf("the summary of %s … %s is empty: the test has nothing to compare", from, to)
	}
}

// The headline figures are the summary export's, for the same period and
// zone, whatever the period.
func TestDashboardHeadlineIsSummary(t *testing.T) {
	st := seededStore(t, testMonths())
	h := testHandler(t, st, "")
	for _, tc := range []struct{ query, from, to, zone string }{
		{"", "2027-03-01", "2027-03-31", testTimezone},
		{"period=last-month&timezone=UTC", "2027-02-01", "2027-02-28", "UTC"},
		{"period=fiscal-year&timezone=Asia/Kolkata", "2026-07-01", "2027-06-30", "Asia/Kolkata"},
		{"from=2027-03-14&to=2027-03-14&timezone=Pacific/Auckland", "2027-03-14", "2027-03-14", "Pacific/Auckland"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := get(h, "/stats/?"+tc.query)
			if w.Code != 200 {
				t.Fatalf("%d\n%s", w.Code, w.Body.String())
			}
			checkFiguresMatchSummary(t, st, w.Body.String(), tc.from, tc.to, tc.zone)
		})
	}
}

// With a channel chosen, the headline figures are the summary export's
// for that channel, and the page says which it shows.
func TestDashboardChannel(t *testing.T) {
	st := seededStore(t, testMonths())
	h := testHandler(t, st, "")
	for _, tc := range []struct{ protocol, says string }{{"instagram", "Instagram only"}, {"facebook", "Messenger only"}} {
		w := get(h, "/stats/?protocol="+tc.protocol)
		if w.Code != 200 {
			t.Fatalf("%d\n%s", w.Code, w.Body.String())
		}
		body := w.Body.String()
		checkChannelFiguresMatchSummary(t, st, body, "2027-03-01", "2027-03-31", testTimezone, tc.protocol)
		if !strings.Contains(body, tc.says) || !strings.Contains(body, `<option value="`+tc.protocol+`" selected>`) ||
			!strings.Contains(body, "protocol="+tc.protocol) {
			t.Errorf("%s: the page does not show which channel it is about", tc.protocol)
		}
	}
	if w := get(h, "/stats/?protocol=telegram"); w.Code != 400 || !strings.Contains(w.Body.String(), "Unknown channel") {
		t.Errorf("an unknown channel: %d %s", w.Code, w.Body.String())
	}
	w := get(h, "/stats/chart.csv?chart=channels&from=2027-03-01&to=2027-03-31")
	rows := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if w.Code != 200 || len(rows) != 3 || !strings.HasPrefix(rows[1], "Messenger,facebook,") || !strings.HasPrefix(rows[2], "Instagram,instagram,") ||
		strings.HasPrefix(rows[2], "Instagram,instagram,0,") {
		t.Errorf("channels CSV %d %q", w.Code, rows)
	}
}

// Each chart's CSV holds the numbers of its table on the page; the heat
// map and the months are the weekday-hour and monthly reports with every
// session included.
func TestChartCSV(t *testing.T) {
	st := seededStore(t, testMonths())
	h := testHandler(t, st, "")
	period := "from=2027-01-01&to=2027-06-30&timezone=America%2FToronto"
	page := get(h, "/stats/?"+period).Body.String()
	for _, id := range chartIDs {
		t.Run(id, func(t *testing.T) {
			v, _ := url.ParseQuery(period)
			v.Set("chart", id)
			link := html.EscapeString("/stats/chart.csv?" + v.Encode())
			if !strings.Contains(page, `href="`+link+`"`) {
				t.Errorf("the page has no link to %s", link)
			}
			w := get(h, "/stats/chart.csv?chart="+id+"&"+period)
			if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
				w.Header().Get("Content-Disposition") != `attachment; filename="askbridge-`+id+`-2027-01-01-2027-06-30.csv"` {
				t.Fatalf("%d %v", w.Code, w.Header())
			}
			rows, err := csv.NewReader(w.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			table := pageTable(t, page, id)
			if len(table) != len(rows)-1 {
				t.Fatalf("CSV has %d rows, the page's table %d", len(rows)-1, len(table))
			}
			for i, row := range rows[1:] {
				for j, cell := range row {
					if shown := table[i][j]; !sameNumber(cell, shown) {
						t.Errorf("row %d column %s: CSV %q, page %q", i, rows[0][j], cell, shown)
					}
				}
			}
		})
	}
	for report, chart := range map[string]string{stats.ReportWeekdayHour: chartHeatmap, stats.ReportMonthly: chartSessions} {
		want := get(h, "/stats/export?report="+report+"&include_unanswered=1&include_auto=1&"+period).Body.String()
		if got := get(h, "/stats/chart.csv?chart="+chart+"&"+period).Body.String(); got != want {
			t.Errorf("chart %s:\n%s\nreport %s:\n%s", chart, got, report, want)
		}
	}
}

var (
	tableRE = regexp.MustCompile(`(?s)<section class="chart[^"]*" id="chart-([a-z]+)".*?<tbody>(.*?)</tbody>`)
	rowRE   = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE  = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
)

// pageTable is the data table of chart id on the page, as shown.
func pageTable(t *testing.T, page, id string) [][]string {
	t.Helper()
	for _, m := range tableRE.FindAllStringSubmatch(page, -1) {
		if m[1] != id {
			continue
		}
		var out [][]string
		for _, r := range rowRE.FindAllStringSubmatch(m[2], -1) {
			var row []string
			for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
				row = append(row, html.UnescapeString(c[1]))
			}
			out = append(out, row)
		}
		return out
	}
	t.Fatalf("no table for chart %s", id)
	return nil
}

// sameNumber reports whether a CSV cell and a cell of the page say the
// same: equal text, a count with separators, or a wait in words.
func sameNumber(csvCell, shown string) bool {
	if csvCell == shown {
		return true
	}
	if csvCell == "" {
		return shown == "—"
	}
	if csvCell == "not_classified" && shown == "Not classified" || "Level "+csvCell == shown {
		return true
	}
	n, err := strconv.ParseInt(csvCell, 10, 64)
	return err == nil && (shown == formatCount(n) || shown == formatWait(&n))
}

// No patron is identified on the page: no pseudonym, and the page never
// says "guest".
func TestDashboardHasNoPatronIdentity(t *testing.T) {
	sessions := testMonths()
	h := testHandler(t, seededStore(t, sessions), "")
	for _, q := range []string{"", "period=last-month", "period=this-year"} {
		page := get(h, "/stats/?"+q).Body.String()
		if strings.Contains(strings.ToLower(page), "guest") {
			t.Errorf("%s: the page mentions guests", q)
		}
		for _, s := range sessions {
			if strings.Contains(page, s.Guest) {
				t.Fatalf("%s: the page holds the pseudonym %s", q, s.Guest)
			}
		}
		for _, id := range chartIDs {
			if body := get(h, "/stats/chart.csv?chart="+id+"&"+q).Body.String(); strings.Contains(body, "guest") {
				t.Errorf("%s: chart %s mentions guests", q, id)
			}
		}
	}
}

// An empty period says so, and every chart still has its table.
func TestDashboardEmpty(t *testing.T) {
	h := testHandler(t, seededStore(t, nil), "")
	w := get(h, "/stats/")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "No finished session started in this period.") ||
		!strings.Contains(body, `data-metric="median_wait" data-value="">—<`) {
		t.Errorf("%d\n%s", w.Code, body)
	}
	for _, h := range []string{"Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if w.Header().Get("Content-"+h) == "" && w.Header().Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

// The export form offers every report, both formats and the filters,
// and the export answers what it sends.
func TestDashboardExportForm(t *testing.T) {
	h := testHandler(t, seededStore(t, testMonths()), "")
	page := get(h, "/stats/").Body.String()
	for _, want := range append(stats.Reports(), stats.Formats()...) {
		if !strings.Contains(page, "<option>"+want+"</option>") {
			t.Errorf("the export form has no %s", want)
		}
	}
	for _, name := range []string{"from", "to", "include_unanswered", "include_auto", "min_duration", "protocol", "timezone"} {
		if !strings.Contains(page, `name="`+name+`"`) {
			t.Errorf("the export form has no %s", name)
		}
	}
	w := get(h, "/stats/export?from=2027-03-01&to=2027-03-31&report=status&format=csv&protocol=&min_duration=0&timezone=America%2FToronto&download=1")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "status,sessions\n") ||
		w.Header().Get("Content-Disposition") != `attachment; filename="askbridge-status-2027-03-01-2027-03-31.csv"` {
		t.Errorf("%d %v\n%s", w.Code, w.Header(), w.Body.String())
	}
}

// The admin socket's handler (Trusted) serves the dashboard without a
// token, as it serves exports.
func TestDashboardTrusted(t *testing.T) {
	st := seededStore(t, testMonths())
	cfg := testConfig(testToken)
	h := &Handler{Store: st, Config: func() *config.Config { return cfg }, Log: zaptest.NewLogger(t), Trusted: true,
		Now: func() time.Time { return testNow }}
	req := httptest.NewRequest(http.MethodGet, "/stats/", nil)
	req.RemoteAddr = "@"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || strings.Contains(w.Body.String(), `action="/stats/logout"`) {
		t.Errorf("%d", w.Code)
	}
}
