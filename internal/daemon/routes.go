package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/askbridge/askbridge/internal/admin"
)

// routes is the HTTP surface: the webhook for Facebook, health and
// metrics for the sysadmin.
func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", d.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{}))
	mux.Handle("/stats/", &admin.Handler{Store: d.store, Config: d.currentConfig, Log: d.log.Named("stats")})
	return mux
}

// readiness is the /readyz body.
type readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
	// Warnings need the administrator's attention soon but do not make
	// the daemon unready (a Graph API version about to retire).
	Warnings []string `json:"warnings,omitempty"`
}

// keepaliveStale is how old the last keepalive round trip may be before a
// connected link counts as silent.
const keepaliveStale = 2 * time.Minute

func (d *Daemon) readyz(w http.ResponseWriter, r *http.Request) {
	res := readiness{Ready: true, Checks: map[string]string{}}
	check := func(name string, problem string) {
		if problem == "" {
			res.Checks[name] = "ok"
			return
		}
		res.Ready = false
		res.Checks[name] = problem
	}
	if err := d.store.Writable(); err != nil {
		check("store", "not writable: "+err.Error())
	} else if at, err := d.store.CommitError(); err != nil {
		check("store", "not writable: the last commit failed at "+at.UTC().Format(time.RFC3339)+": "+err.Error())
	} else {
		check("store", "")
	}
	switch {
	case !d.component.Connected():
		check("xmpp", "component not connected to "+d.currentConfig().XMPP.Server)
	case time.Since(d.component.LastKeepalive()) > keepaliveStale:
		check("xmpp", "connected but no keepalive answered since "+d.component.LastKeepalive().Format(time.RFC3339))
	default:
		check("xmpp", "")
	}
	var fb []string
	if bad := d.bridge.InvalidTokens(); len(bad) > 0 {
		fb = append(fb, "Facebook refused the access token (error 190) of Page(s) "+strings.Join(bad, ", "))
	}
	d.upkeepMu.Lock()
	for _, p := range d.currentConfig().Messenger.Pages {
		if why := d.tokenProblems[p.ID]; why != "" {
			fb = append(fb, "Page "+p.ID+" ("+p.Name+"): "+why)
		}
	}
	d.upkeepMu.Unlock()
	check("facebook", strings.Join(fb, "; "))
	res.Warnings = d.warnings()
	w.Header().Set("Content-Type", "application/json")
	if !res.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(res)
}
