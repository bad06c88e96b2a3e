package admin

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDashboardPeriods(t *testing.T) {
	for _, tc := range []struct {
		name     string
		now      time.Time
		fyStart  int
		query    string
		from, to string
		zone     string
	}{
		{"default is this month", testNow, 7, "", "2027-03-01", "2027-03-31", testTimezone},
		{"this month", testNow, 7, "period=this-month", "2027-03-01", "2027-03-31", testTimezone},
		{"last month", testNow, 7, "period=last-month", "2027-02-01", "2027-02-28", testTimezone},
		{"this year", testNow, 7, "period=this-year", "2027-01-01", "2027-12-31", testTimezone},
		{"fiscal year from July, in March", testNow, 7, "period=fiscal-year", "2026-07-01", "2027-06-30", testTimezone},
		{"fiscal year unset is July", testNow, 0, "period=fiscal-year", "2026-07-01", "2027-06-30", testTimezone},
		{"fiscal year from January", testNow, 1, "period=fiscal-year", "2027-01-01", "2027-12-31", testTimezone},
		{"fiscal year from April, in March", testNow, 4, "period=fiscal-year", "2026-04-01", "2027-03-31", testTimezone},
		{"fiscal year from March, in March", testNow, 3, "period=fiscal-year", "2027-03-01", "2028-02-29", testTimezone},
		{"fiscal year on its first day", time.Date(2027, 7, 1, 4, 0, 0, 0, time.UTC), 7, "period=fiscal-year", "2027-07-01", "2028-06-30", testTimezone},
		// 1 July 03:00 UTC is still 30 June in Toronto.
		{"fiscal year in the zone", time.Date(2027, 7, 1, 3, 0, 0, 0, time.UTC), 7, "period=fiscal-year", "2026-07-01", "2027-06-30", testTimezone},
		{"fiscal year in another zone", time.Date(2027, 7, 1, 3, 0, 0, 0, time.UTC), 7, "period=fiscal-year&timezone=UTC", "2027-07-01", "2028-06-30", "UTC"},
		{"last month in January", time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC), 7, "period=last-month", "2026-12-01", "2026-12-31", testTimezone},
		{"New Year's Eve in Toronto, New Year in UTC", time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC), 7, "period=this-year", "2026-01-01", "2026-12-31", testTimezone},
		{"any range", testNow, 7, "from=2026-09-15&to=2026-10-14", "2026-09-15", "2026-10-14", testTimezone},
		{"a range wins over a period", testNow, 7, "period=this-year&from=2026-09-15&to=2026-10-14", "2026-09-15", "2026-10-14", testTimezone},
		{"another zone", testNow, 7, "timezone=Asia/Kolkata", "2027-03-01", "2027-03-31", "Asia/Kolkata"},
		{"spaces around", testNow, 7, "from=+2026-09-15+&to=2026-10-14&timezone=+UTC+", "2026-09-15", "2026-10-14", "UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("")
			cfg.Stats.FiscalYearStart = tc.fyStart
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			req, err := parseDashboardRequest(v, cfg, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if req.From != tc.from || req.To != tc.to || req.Zone != tc.zone || req.Query.Location.String() != tc.zone {
				t.Errorf("%s … %s in %s, want %s … %s in %s", req.From, req.To, req.Zone, tc.from, tc.to, tc.zone)
			}
			if req.Query.PageNames[pageCentral] != "Central Library" {
				t.Errorf("page names %v", req.Query.PageNames)
			}
		})
	}
}

// The page shows the period it computed, with the default clock
// replaced: the fiscal year of a day in March 2027.
func TestDashboardFiscalYearPage(t *testing.T) {
	h := testHandler(t, seededStore(t, testMonths()), "")
	w := get(h, "/stats/?period=fiscal-year")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "1 July 2026 – 30 June 2027, America/Toronto time") ||
		!strings.Contains(body, `aria-current="page">This fiscal year<`) || !strings.Contains(body, "Sessions per month") {
		t.Errorf("%d\n%.3000s", w.Code, body)
	}
	checkFiguresMatchSummary(t, h.Store, body, "2026-07-01", "2027-06-30", testTimezone)
}

func TestDashboardBadInput(t *testing.T) {
	h := testHandler(t, seededStore(t, testMonths()), "")
	for _, tc := range []struct {
		name, query string
		message     string
	}{
		{"bad zone", "timezone=Mars/Base", "Unknown time zone &#34;Mars/Base&#34;: give an IANA name"},
		{"a path for a zone", "timezone=../../etc/passwd", "Unknown time zone"},
		{"bad from date", "from=2027-13-01&to=2027-03-31", "Bad from date &#34;2027-13-01&#34;: month out of range; want a calendar date as YYYY-MM-DD"},
		{"bad to date", "from=2027-03-01&to=31/03/2027", "bad to date &#34;31/03/2027&#34;"},
		{"no to date", "from=2027-03-01", "Give both the first (from) and the last (to) day"},
		{"inverted range", "from=2027-03-31&to=2027-03-01", "inverted"},
		{"unknown period", "period=decade", "Unknown period &#34;decade&#34;: choose one of this-month, last-month, this-year, fiscal-year"},
		{"centuries", "from=1900-01-01&to=2100-12-31", "at most 50 years"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(h, "/stats/?"+tc.query)
			body := w.Body.String()
			if w.Code != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(strings.ToLower(body), strings.ToLower(tc.message)) {
				t.Errorf("%d\n%s", w.Code, body)
			}
			// The form is there to correct it, and the links to the preset
			// periods carry no bad zone.
			if !strings.Contains(body, `<form method="get" action="/stats/" class="range">`) {
				t.Error("no period form")
			}
			if strings.Contains(body, `href="/stats/?period=last-month&amp;timezone=Mars`) || !strings.Contains(body, `href="/stats/?period=last-month`) {
				t.Error("the preset links are wrong")
			}
			w = get(h, "/stats/chart.csv?chart=heatmap&"+tc.query)
			if w.Code != 400 || w.Body.Len() == 0 {
				t.Errorf("chart.csv: %d %q", w.Code, w.Body.String())
			}
		})
	}
	for _, q := range []string{"", "chart=nope"} {
		if w := get(h, "/stats/chart.csv?"+q); w.Code != 400 || !strings.Contains(w.Body.String(), "unknown chart") {
			t.Errorf("chart.csv?%s: %d %q", q, w.Code, w.Body.String())
		}
	}
	if w := get(h, "/stats/nothing"); w.Code != 404 {
		t.Errorf("unknown page: %d", w.Code)
	}
}
