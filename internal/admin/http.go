package admin

import (
	"crypto/subtle"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// Handler serves GET /stats/ (a form for the reference coordinator) and
// GET /stats/export (the export itself, with the same parameters as the
// command line). cfg returns the configuration in force.
type Handler struct {
	Store  *bridge.Store
	Config func() *config.Config
	Log    *zap.Logger
	// Trusted skips the token check (the admin socket, reachable only by
	// the daemon's user and root) and enables POST /admin/forget.
	Trusted bool
	// Forget carries out a deletion request (see bridge.Bridge.Forget).
	Forget func(psid string) (int, error)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Trusted && r.URL.Path == "/admin/forget" {
		h.forget(w, r)
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
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	cfg := h.Config()
	if !h.Trusted && !authorized(r, cfg.HTTP.StatsToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="askbridge statistics"`)
		http.Error(w, "statistics need http.stats_token (Authorization: Bearer … or ?token=…), or a direct request from this machine when no token is set", http.StatusUnauthorized)
		return
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/stats":
		h.form(w, r, cfg)
	case "/stats/export":
		h.export(w, r, cfg)
	default:
		http.NotFound(w, r)
	}
}

// authorized accepts the stats token, or, when none is configured, a
// request made directly from this machine (not relayed by a reverse
// proxy, which adds forwarding headers).
func authorized(r *http.Request, token string) bool {
	if token == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-IP") != ""
		return err == nil && ip != nil && ip.IsLoopback() && !forwarded
	}
	given := r.URL.Query().Get("token")
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = auth
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(token)) == 1
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

var formPage = template.Must(template.New("stats").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>askbridge statistics</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.6rem 0}input,select{font:inherit}button{font:inherit;padding:.3rem 1rem}</style></head>
<body><h1>Facebook chat statistics</h1>
<p>Sessions bridged from Facebook Messenger, in the columns of LibraryH3lp's chats export, and tallies for
reference statistics. No patron identity is ever included.</p>
<form action="export" method="get">
{{if .Token}}<input type="hidden" name="token" value="{{.Token}}">{{end}}
<label>From <input type="date" name="from" value="{{.From}}" required></label>
<label>To <input type="date" name="to" value="{{.To}}" required></label>
<label>Report <select name="report">{{range .Reports}}<option>{{.}}</option>{{end}}</select></label>
<label>Format <select name="format"><option>csv</option><option>json</option></select></label>
<label><input type="checkbox" name="include_unanswered" value="1"> include missed and after-hours sessions</label>
<label><input type="checkbox" name="include_auto" value="1"> include sessions with automatic replies only</label>
<label>Minimum duration (seconds) <input type="number" name="min_duration" min="0" value="0"></label>
<input type="hidden" name="download" value="1">
<button>Export</button></form>
<p>Times are shown in {{.Zone}}.</p></body></html>`))

func (h *Handler) form(w http.ResponseWriter, r *http.Request, cfg *config.Config) {
	loc, err := time.LoadLocation(cfg.Sessions.Timezone)
	if err != nil {
		loc = time.Local
	}
	now := time.Now().In(loc)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = formPage.Execute(w, map[string]any{
		"Token":   r.URL.Query().Get("token"),
		"From":    first.Format("2006-01-02"),
		"To":      now.Format("2006-01-02"),
		"Reports": stats.Reports(),
		"Zone":    loc.String(),
	})
}

func (h *Handler) forget(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	psid := r.URL.Query().Get("psid")
	if !ValidPSID(psid) {
		http.Error(w, "psid must be the patron's numeric page-scoped ID", http.StatusBadRequest)
		return
	}
	n, err := h.Forget(psid)
	if err != nil {
		h.Log.Error("forgetting a patron", zap.Error(err))
		http.Error(w, "forgetting failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "%d records removed or unlinked\n", n)
}

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
