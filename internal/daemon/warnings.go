package daemon

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/askbridge/askbridge/messenger"
)

// apiVersion tells how long the configured Graph API version keeps
// working.
func (d *Daemon) apiVersion() messenger.VersionStatus {
	return messenger.CheckAPIVersion(d.currentConfig().Messenger.APIVersion, time.Now())
}

// warnings lists what the administrator should attend to soon, for
// /readyz and the log.
func (d *Daemon) warnings() []string {
	var w []string
	if st := d.apiVersion(); st.Warning != "" {
		w = append(w, "messenger.api_version: "+st.Warning)
	}
	d.upkeepMu.Lock()
	if d.instagramProblem != "" {
		w = append(w, "instagram: "+d.instagramProblem)
	}
	d.upkeepMu.Unlock()
	restricted := d.bridge.RestrictedPages()
	throttled := d.bridge.Throttled()
	if until, ok := throttled[""]; ok {
		w = append(w, fmt.Sprintf("Facebook's app-wide rate limit is in force: every Page's calls wait (next try %s)", until.UTC().Format(time.RFC3339)))
	}
	for _, p := range d.currentConfig().Messenger.Pages {
		if since, ok := restricted[p.ID]; ok {
			w = append(w, fmt.Sprintf("Page %s (%s): Facebook has restricted it from sending messages since %s (error 10/1893063); replies fail until the restriction ends",
				p.ID, p.Name, since.UTC().Format(time.RFC3339)))
		}
		if until, ok := throttled[p.ID]; ok {
			w = append(w, fmt.Sprintf("Page %s (%s): Facebook's rate limit for the Page is in force: its replies wait, in order (next try %s)",
				p.ID, p.Name, until.UTC().Format(time.RFC3339)))
		}
	}
	if n, err := d.bridge.ParkedCount(); err == nil && n > 0 {
		w = append(w, fmt.Sprintf("xmpp: %d message(s) for librarians set aside in the dead-letter bucket (the Jabber server closed the stream over them, or they are too large); see `askbridge deadletter list`", n))
	}
	return w
}

// logWarnings writes the warnings to the log (at start, after a reload
// and at every upkeep).
func (d *Daemon) logWarnings() {
	for _, w := range d.warnings() {
		d.log.Warn(w)
	}
}

// restrictionCollector exposes, per configured Page, whether Facebook
// restricted it from sending.
type restrictionCollector struct {
	d    *Daemon
	desc *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *restrictionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *restrictionCollector) Collect(ch chan<- prometheus.Metric) {
	restricted := c.d.bridge.RestrictedPages()
	for _, p := range c.d.currentConfig().Messenger.Pages {
		v := 0.0
		if _, ok := restricted[p.ID]; ok {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, p.ID)
	}
}

// registerVersionMetrics exposes the Graph API version's retirement and
// the Pages Facebook restricted from sending.
func (d *Daemon) registerVersionMetrics() {
	d.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "askbridge_graph_api_version_expiry_timestamp_seconds",
			Help: "When Meta retires the configured Graph API version (Unix time); 0 when no date is published."}, func() float64 {
			if st := d.apiVersion(); !st.Expires.IsZero() {
				return float64(st.Expires.Unix())
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "askbridge_graph_api_version_expiring",
			Help: "1 when the configured Graph API version is retired or retires within 90 days."}, func() float64 {
			if d.apiVersion().Warning != "" {
				return 1
			}
			return 0
		}),
		&restrictionCollector{d: d, desc: prometheus.NewDesc("askbridge_page_sending_restricted",
			"1 while Facebook restricts the Page from sending messages (error 10/1893063).", []string{"page"}, nil)},
	)
}
