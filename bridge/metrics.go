package bridge

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/askbridge/askbridge/bridge/store"
)

type metrics struct {
	eventsStored   prometheus.Counter
	duplicates     prometheus.Counter
	events         *prometheus.CounterVec
	ownEchoes      prometheus.Counter
	relayed        *prometheus.CounterVec
	bounces        *prometheus.CounterVec
	bouncesForged  prometheus.Counter
	refused        prometheus.Counter
	sendCalls      *prometheus.CounterVec
	sendRetries    prometheus.Counter
	sessionsOpened prometheus.Counter
	// sessionsReopened counts ended sessions a follow-up or a late answer
	// opened again.
	sessionsReopened prometheus.Counter
	sessionsClosed   *prometheus.CounterVec
	sendErrors       *prometheus.CounterVec
	// unknownAccount counts events for a Page or Instagram account that is
	// not configured, by channel.
	unknownAccount *prometheus.CounterVec
	linkChanges    *prometheus.CounterVec
	// parked counts XMPP outbox entries parked in the dead-letter bucket,
	// by reason.
	parked        *prometheus.CounterVec
	sessionWait   prometheus.Histogram
	sessionLength prometheus.Histogram
	// throttled, callsHeld and throttles describe Facebook's rate limits
	// (see throttle.go).
	throttled *prometheus.GaugeVec
	callsHeld *prometheus.CounterVec
	throttles *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, b *Bridge) (*metrics, error) {
	m := &metrics{
		eventsStored:   prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_inbox_events_stored_total", Help: "Webhook events stored in the durable inbox."}),
		duplicates:     prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_inbox_duplicates_total", Help: "Webhook events skipped because they were already seen."}),
		events:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_events_dispatched_total", Help: "Events dispatched from the inbox, by kind."}, []string{"kind"}),
		ownEchoes:      prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_own_echoes_dropped_total", Help: "Echoes of the bridge's own messages, dropped."}),
		relayed:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_messages_relayed_total", Help: "Messages relayed, by direction."}, []string{"direction"}),
		bounces:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_xmpp_bounces_total", Help: "Error stanzas returned for messages the bridge sent, by condition."}, []string{"condition"}),
		bouncesForged:  prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_xmpp_bounces_ignored_total", Help: "Error stanzas ignored because they came from neither the stanza's recipient nor its server."}),
		refused:        prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_replies_refused_total", Help: "Messages to patrons refused (sender not allowed, unknown patron)."}),
		sendCalls:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_send_api_calls_total", Help: "Send API calls, by outcome."}, []string{"outcome"}),
		sendRetries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_send_api_retries_total", Help: "Send API calls retried after temporary errors."}),
		sessionsOpened: prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_sessions_opened_total", Help: "Conversation sessions started."}),
		sessionsReopened: prometheus.NewCounter(prometheus.CounterOpts{Name: "askbridge_sessions_reopened_total",
			Help: "Ended sessions a patron's follow-up or a librarian's late answer opened again."}),
		sessionsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_sessions_closed_total", Help: "Conversation sessions ended, by status."}, []string{"status"}),
		unknownAccount: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_events_unknown_account_total",
			Help: "Webhook events for a Facebook Page or Instagram account that is not configured, dropped, by channel."}, []string{"channel"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_send_api_errors_total", Help: "Send API errors, by Graph error code (and subcode)."}, []string{"code"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_xmpp_parked_total",
			Help: "XMPP outbox entries parked in the dead-letter bucket, by reason (too_large, stream_closed)."}, []string{"reason"}),
		linkChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askbridge_xmpp_link_changes_total", Help: "Component link going up (connects and reconnects) or down."}, []string{"state"}),
		sessionWait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "askbridge_session_wait_seconds", Help: "Wait of answered sessions: first patron message to first human reply.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600}}),
		sessionLength: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "askbridge_session_duration_seconds", Help: "Duration of ended sessions.",
			Buckets: []float64{30, 60, 180, 300, 600, 1200, 1800, 3600, 7200}}),
	}
	m.throttled, m.callsHeld, m.throttles = newThrottleMetrics()
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.eventsStored, m.duplicates, m.events, m.ownEchoes, m.relayed, m.bounces, m.bouncesForged,
		m.refused, m.sendCalls, m.sendRetries, m.sessionsOpened, m.sessionsReopened, m.sessionsClosed, m.sendErrors, m.unknownAccount, m.linkChanges, m.parked,
		m.sessionWait, m.sessionLength, m.throttled, m.callsHeld, m.throttles, newQueueCollector(b.store, b.now, b.xq.figures.snapshot, b.fq.figures.snapshot)} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("bridge: registering metrics: %w", err)
		}
	}
	return m, nil
}

// pending counts entries in the spill, the inbox and both outboxes.
func (s *Store) pending() (int, error) {
	n, err := s.spilled()
	if err != nil {
		return 0, err
	}
	err = s.view(func(tx *store.Tx) error {
		n += tx.Inbox().Len() + tx.XMPPOutbox().Len() + tx.FacebookOutbox().Len()
		return nil
	})
	return n, err
}

// Pending counts messages not yet relayed: spill, inbox and both outboxes.
func (b *Bridge) Pending() (int, error) { return b.store.pending() }
