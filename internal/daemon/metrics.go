package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/askbridge/askbridge/messenger"
)

// webhookCollector exposes the webhook's own counters.
type webhookCollector struct {
	w       *messenger.Webhook
	results *prometheus.Desc
	ignored *prometheus.Desc
}

func newWebhookCollector(w *messenger.Webhook) *webhookCollector {
	return &webhookCollector{
		w: w,
		results: prometheus.NewDesc("askbridge_webhook_requests_total",
			"Webhook requests, by result.", []string{"result"}, nil),
		ignored: prometheus.NewDesc("askbridge_webhook_events_ignored_total",
			"Webhook events of kinds the bridge does not handle (counted, never rejected).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.results
	ch <- c.ignored
}

// Collect implements prometheus.Collector.
func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	for result, n := range s.ByResult() {
		ch <- prometheus.MustNewConstMetric(c.results, prometheus.CounterValue, float64(n), result)
	}
	ch <- prometheus.MustNewConstMetric(c.ignored, prometheus.CounterValue, float64(s.Ignored))
}

// registerLinkMetrics exposes the component link, Page tokens and the
// webhook counters.
func (d *Daemon) registerLinkMetrics() {
	d.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "askbridge_xmpp_connected",
			Help: "1 while the XMPP component stream is up."}, func() float64 {
			if d.component.Connected() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "askbridge_page_tokens_invalid",
			Help: "Pages whose access token Facebook refused (error 190)."}, func() float64 {
			return float64(len(d.bridge.InvalidTokens()))
		}),
		newWebhookCollector(d.webhook),
	)
}
