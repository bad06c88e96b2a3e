package admin

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// Handler serves the statistics under /stats/: the coordinator's
// dashboard (GET /stats/), one chart's numbers as CSV (GET
// /stats/chart.csv), the export with the same parameters as the command
// line (GET /stats/export), and signing in and out (/stats/login,
// /stats/logout; see login.go). Config returns the configuration in
// force.
type Handler struct {
	Store  *bridge.Store
	Config func() *config.Config
	Log    *zap.Logger
	// Trusted skips the token check (the admin socket, reachable only by
	// the daemon's user and root) and enables POST /admin/forget, the
	// backup and the dead-letter bucket (/admin/deadletter).
	Trusted bool
	// Forget carries out a deletion request (see bridge.Bridge.Forget).
	Forget func(psid string) (int, error)
	// Requeue puts parked XMPP outbox entries back in the outbox (see
	// bridge.Bridge.RequeueParked); the socket also lists and drops them
	// (deadletter.go).
	Requeue func(ids []uint64) (int, error)
	// Now is the clock for the dashboard's periods and the login cookie;
	// nil means time.Now.
	Now func() time.Time

	keyOnce sync.Once
	key     []byte // the login cookie's HMAC key, drawn on first use
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Trusted && r.URL.Path == "/admin/forget" {
		h.forget(w, r)
		return
	}
	if h.Trusted && (r.URL.Path == "/admin/deadletter" || strings.HasPrefix(r.URL.Path, "/admin/deadletter/")) {
		h.deadLetter(w, r)
		return
	}
	if h.Trusted && r.URL.Path == "/admin/backup" {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := h.Store.Backup(w); err != nil {
			h.Log.Error("backup", zap.Error(err))
			// The status line is gone; a cut-off body makes the client fail.
			panic(http.ErrAbortHandler)
		}
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if !h.Trusted && get && h.dropToken(w, r, h.Config().HTTP.StatsToken) {
		return
	}
	switch r.URL.Path {
	case "/stats/login":
		h.login(w, r)
		return
	case "/stats/logout":
		h.logout(w, r)
		return
	}
	if !get {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/stats/stats.css" {
		// The login page needs it too; it holds nothing but style.
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(stylesheet)
		return
	}
	cfg := h.Config()
	if !h.Trusted && !h.authorized(r, cfg.HTTP.StatsToken) {
		h.unauthorized(w, r)
		return
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/stats":
		h.dashboard(w, r, cfg)
	case "/stats/chart.csv":
		h.chartCSV(w, r, cfg)
	case "/stats/export":
		h.export(w, r, cfg)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request, cfg *config.Config) {
	p, err := ParamsFromValues(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q, err := p.Query(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if q.Format == stats.FormatJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if r.URL.Query().Get("download") != "" {
			name := "askbridge-" + reportName(q) + "-" + p.From + "-" + p.To + ".csv"
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		}
	}
	cw := &countingWriter{w: w}
	if err := Export(cw, h.Store, q); err != nil {
		h.Log.Error("statistics export", zap.Error(err))
		if cw.n == 0 {
			http.Error(w, "export failed; see the daemon's log", http.StatusInternalServerError)
			return
		}
		// The export streams: the status line and part of the rows are
		// gone. A cut-off body makes the client fail instead of taking a
		// short export for a whole one.
		panic(http.ErrAbortHandler)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func reportName(q stats.Query) string {
	if q.Report == "" {
		return stats.ReportSessions
	}
	return q.Report
}

func (h *Handler) forget(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	psid := r.URL.Query().Get("psid")
	if !ValidPatronID(psid) {
		http.Error(w, "psid must be the patron's numeric page-scoped ID, or ig- and the Instagram-scoped ID", http.StatusBadRequest)
		return
	}
	n, err := h.Forget(psid)
	if err != nil {
		h.Log.Error("forgetting a patron", zap.Error(err))
		http.Error(w, "forgetting failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, ForgetResult(n))
}

// ForgetResult says what a deletion request did.
func ForgetResult(n int) string {
	if n == 0 {
		return "Nothing was found for that patron: no records removed (check the ID; it may have been forgotten already)."
	}
	return fmt.Sprintf("%d records removed or unlinked", n)
}

// InstagramPrefix starts the patron ID of an Instagram patron: "ig-" and
// the IGSID, as in the patron's JID.
const InstagramPrefix = "ig-"

// ValidPatronID reports whether s names a patron: a PSID, or "ig-" and an
// IGSID.
func ValidPatronID(s string) bool { return ValidPSID(strings.TrimPrefix(s, InstagramPrefix)) }

// ValidPSID reports whether s looks like a page-scoped ID: 1 to 64 digits.
func ValidPSID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
