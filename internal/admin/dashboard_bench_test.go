package admin

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// BenchmarkDashboard is GET /stats/ through the whole handler (read and
// decode the period's sessions from the store, count, lay out, render the
// HTML, which is thrown away) on a store holding 1,000,000 finished
// sessions over 2026: about 83,000 a month. "month" is March, "year" the
// whole of 2026, "year-csv" one chart's CSV of the year, and
// "year-summary-export" the summary export of the year from the same
// store, for comparison.
func BenchmarkDashboard(b *testing.B) {
	st, err := bridge.OpenStore(b.TempDir(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedYear(b, st, 1_000_000)
	cfg := testConfig("")
	h := &Handler{Store: st, Config: func() *config.Config { return cfg }, Log: zap.NewNop(),
		Now: func() time.Time { return time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC) }}
	year, err := parseDashboardRequest(url.Values{"period": {periodThisYear}}, cfg, h.now())
	if err != nil {
		b.Fatal(err)
	}
	if res, err := h.dashboardResult(year); err != nil || res.Summary.Sessions != 1_000_000 {
		b.Fatalf("the year holds %d sessions (%v)", res.Summary.Sessions, err)
	}
	for _, tc := range []struct{ name, target string }{
		{"month", "/stats/?period=this-month"},
		{"year", "/stats/?period=this-year"},
		{"year-csv", "/stats/chart.csv?chart=heatmap&period=this-year"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			b.ReportAllocs()
			for b.Loop() {
				w := &discardResponse{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("status %d, %d bytes", w.status, w.n)
				}
			}
		})
	}
	b.Run("year-summary-export", func(b *testing.B) {
		q := year.Query
		q.Format = stats.FormatJSON
		b.ReportAllocs()
		for b.Loop() {
			if err := Export(io.Discard, st, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedYear imports n finished sessions spread evenly over 2026 in
// Toronto, 10,000 at a time: three Pages and queues, four librarians,
// every status, tags and READ levels.
func seedYear(b *testing.B, st *bridge.Store, n int) {
	b.Helper()
	loc, err := time.LoadLocation(testTimezone)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	step := 365 * 24 * time.Hour / time.Duration(n)
	pages := []string{pageCentral, pageTeens, pageUnnamed}
	statuses := []stats.Status{stats.StatusAnswered, stats.StatusAnswered, stats.StatusAnswered, stats.StatusAnswered,
		stats.StatusMissed, stats.StatusAfterHours, stats.StatusUndelivered, stats.StatusAutoOnly}
	chunk := make([]stats.Session, 0, 10_000)
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		s := stats.Session{Guest: fmt.Sprintf("%016x", uint64(i)*2654435761), Page: pages[i%3], Queue: testQueues[i%3],
			Started: at, Ended: at.Add(time.Duration(60+i%3600) * time.Second), Status: statuses[i%len(statuses)], MessagesIn: 1 + i%7}
		if s.Status == stats.StatusAnswered || s.Status == stats.StatusUndelivered {
			s.Accepted = at.Add(time.Duration(5+i%240) * time.Second)
			s.Operator = testOperators[i%len(testOperators)]
		}
		if s.Status == stats.StatusAnswered {
			s.MessagesOut, s.Questions, s.ReadLevel = 1+i%5, 1+i%2, i%7
			s.Tags = [][]string{nil, {testTags[i%14]}, {testTags[i%5], testTags[5+i%9]}}[i%3]
		}
		chunk = append(chunk, s)
		if len(chunk) == cap(chunk) || i == n-1 {
			if err := st.ImportSessions(chunk); err != nil {
				b.Fatal(err)
			}
			chunk = chunk[:0]
		}
	}
}

// discardResponse is a ResponseWriter that keeps the status and counts
// the bytes.
type discardResponse struct {
	header http.Header
	status int
	n      int
}

func (d *discardResponse) Header() http.Header { return d.header }

func (d *discardResponse) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}

func (d *discardResponse) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	return len(p), nil
}
