package daemon

import (
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
	return w
}

// logWarnings writes the warnings to the log (at start, after a reload
// and at every upkeep).
func (d *Daemon) logWarnings() {
	for _, w := range d.warnings() {
		d.log.Warn(w)
	}
}

// registerVersionMetrics exposes the Graph API version's retirement.
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
	)
}
