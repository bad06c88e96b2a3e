// Package admin serves the reference coordinator's statistics while the
// daemon runs, and reaches them from the command line whether or not it
// runs.
//
// BoltDB lets one process hold the store, so `askbridge stats export` asks
// the running daemon over a Unix socket in the state directory (mode 0600:
// only the daemon's user and root reach it) and opens the store itself only
// when no daemon answers. Over HTTP, /stats/ is the coordinator's
// dashboard (a period's headline figures, charts and tables, drawn on the
// server) with the same exports beside it, behind http.stats_token: a
// browser signs in with a login form, a script sends the token in an
// Authorization header (see login.go).
package admin

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// SocketPath is where the daemon's admin socket lives.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, "admin.sock") }

// ExportParams are the export options as the command line and the query
// string carry them.
type ExportParams struct {
	From, To, Report, Format, Timezone string
	IncludeUnanswered, IncludeAuto     bool
	MinDuration                        time.Duration
	// Protocol keeps one channel: "facebook" or "instagram"; "" for both.
	Protocol string
}

// Values encodes the parameters as a query string.
func (p ExportParams) Values() url.Values {
	v := url.Values{}
	v.Set("from", p.From)
	v.Set("to", p.To)
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("report", p.Report)
	set("format", p.Format)
	set("timezone", p.Timezone)
	set("protocol", p.Protocol)
	if p.IncludeUnanswered {
		v.Set("include_unanswered", "1")
	}
	if p.IncludeAuto {
		v.Set("include_auto", "1")
	}
	if p.MinDuration > 0 {
		v.Set("min_duration", strconv.FormatInt(int64(p.MinDuration/time.Second), 10))
	}
	return v
}

// ParamsFromValues decodes a query string; min_duration is in seconds.
func ParamsFromValues(v url.Values) (ExportParams, error) {
	p := ExportParams{From: v.Get("from"), To: v.Get("to"), Report: v.Get("report"),
		Format: v.Get("format"), Timezone: v.Get("timezone"), Protocol: strings.ToLower(strings.TrimSpace(v.Get("protocol"))),
		IncludeUnanswered: truthy(v.Get("include_unanswered")), IncludeAuto: truthy(v.Get("include_auto"))}
	if s := v.Get("min_duration"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return p, fmt.Errorf("%w: min_duration %q is not a number of seconds", stats.ErrInvalidQuery, s)
		}
		p.MinDuration = time.Duration(n) * time.Second
	}
	return p, nil
}

func truthy(s string) bool { return s == "1" || s == "true" || s == "on" || s == "yes" }

// Query turns parameters into a statistics query for this configuration.
func (p ExportParams) Query(cfg *config.Config) (stats.Query, error) {
	q, err := stats.ParseQuery(p.From, p.To, p.Report, p.Format, p.Timezone,
		p.IncludeUnanswered, p.IncludeAuto, p.MinDuration, cfg.Sessions.Timezone)
	if err != nil {
		return q, err
	}
	q.Protocol = strings.ToLower(strings.TrimSpace(p.Protocol))
	if err := q.Validate(); err != nil {
		return q, err
	}
	q.PageNames = map[string]string{}
	for _, pg := range cfg.Messenger.Pages {
		q.PageNames[pg.ID] = pg.Name
	}
	return q, nil
}

// Export writes the report for q from the store. Sessions are streamed
// from the store to w in chunks, never all held in memory, so an export
// that fails part way (a store or write error) may have written part of
// its output. An invalid query writes nothing and gives an error for which
// IsInvalid is true.
func Export(w io.Writer, st *bridge.Store, q stats.Query) error {
	e, err := stats.NewExporter(w, q)
	if err != nil {
		return err
	}
	from, to := q.Range()
	var addErr error
	err = st.ForEachSession(from, to, func(s *stats.Session) error {
		addErr = e.Add(s)
		return addErr
	})
	if addErr != nil {
		return fmt.Errorf("admin: writing export: %w", addErr)
	}
	if err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("admin: writing export: %w", err)
	}
	return nil
}

// IsInvalid reports whether err is the caller's mistake (bad dates,
// report, zone…) rather than a failure of the bridge.
func IsInvalid(err error) bool { return errors.Is(err, stats.ErrInvalidQuery) }
