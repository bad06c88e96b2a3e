package bridge

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/askbridge/askbridge/bridge/store"
)

// ownerFigures are what a queue's owner publishes for the metrics: how
// many entries it holds and when the oldest was queued, valid while it
// holds the whole queue.
type ownerFigures struct {
	depth, oldest atomic.Int64 // oldest in Unix ns, 0 for none
	complete      atomic.Bool
}

// publish records the owner's figures; complete says it holds the whole
// queue.
func (f *ownerFigures) publish(depth int, oldest time.Time, complete bool) {
	var ns int64
	if !oldest.IsZero() {
		ns = oldest.UnixNano()
	}
	f.depth.Store(int64(depth))
	f.oldest.Store(ns)
	f.complete.Store(complete)
}

// snapshot is the queue's depth and when its oldest entry was queued, as
// the owner last published them; ok is false when the owner does not hold
// the whole queue.
func (f *ownerFigures) snapshot() (depth int, oldest time.Time, ok bool) {
	if !f.complete.Load() {
		return 0, time.Time{}, false
	}
	if ns := f.oldest.Load(); ns != 0 {
		oldest = time.Unix(0, ns)
	}
	return int(f.depth.Load()), oldest, true
}

// queueCollector reports, at each scrape and from one read transaction,
// how much waits in the inbox and each outbox, how old the oldest entry
// is, and how many sessions are open.
type queueCollector struct {
	store *Store
	now   func() time.Time
	// owners, when they answer ok, give an outbox's depth and oldest
	// entry as its owner holds them, sparing the walk of the bucket; an
	// owner holding nothing is checked against the store (see Collect).
	owners                       map[string]func() (depth int, oldest time.Time, ok bool)
	total, depth, oldest, opened *prometheus.Desc
	parked                       *prometheus.Desc
}

func newQueueCollector(s *Store, now func() time.Time, xmpp, facebook func() (int, time.Time, bool)) *queueCollector {
	return &queueCollector{
		store:  s,
		now:    now,
		owners: map[string]func() (int, time.Time, bool){"to_xmpp": xmpp, "to_facebook": facebook},
		total:  prometheus.NewDesc("askbridge_outbox_depth", "Entries waiting in the inbox and both outboxes.", nil, nil),
		depth:  prometheus.NewDesc("askbridge_queue_depth", "Entries waiting, by queue (inbox, to_xmpp, to_facebook).", []string{"queue"}, nil),
		oldest: prometheus.NewDesc("askbridge_queue_oldest_seconds", "Age of the oldest waiting entry, by queue (0 when empty).", []string{"queue"}, nil),
		opened: prometheus.NewDesc("askbridge_sessions_open", "Conversation sessions open now.", nil, nil),
		parked: prometheus.NewDesc("askbridge_xmpp_parked", "XMPP outbox entries in the dead-letter bucket (see `askbridge deadletter list`).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.depth
	ch <- c.oldest
	ch <- c.opened
	ch <- c.parked
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	_ = c.store.view(func(tx *store.Tx) error {
		total := 0
		for _, name := range []string{"inbox", "to_xmpp", "to_facebook"} {
			n, t, ok := 0, time.Time{}, false
			if owner := c.owners[name]; owner != nil {
				n, t, ok = owner()
			}
			if !ok || n == 0 {
				// An owner learns of an entry only after its commit (the
				// hand-over, then the owner's next turn), so its "empty"
				// may be this read's past: the store has the last word.
				// Both must agree for a queue to read empty: 0 only once
				// the store holds no entry and the owner has let go of
				// every entry whose removal committed.
				n, t = storedQueue(tx, name)
			}
			total += n
			age := 0.0
			if !t.IsZero() {
				age = max(now.Sub(t).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), name)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, name)
		}
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(total))
		ch <- prometheus.MustNewConstMetric(c.opened, prometheus.GaugeValue, float64(tx.Sessions().OpenCount()))
		ch <- prometheus.MustNewConstMetric(c.parked, prometheus.GaugeValue, float64(tx.XMPPOutbox().ParkedCount()))
		return nil
	})
}

// storedQueue is a queue's depth and when its oldest entry was queued
// (zero when it is empty), as the store has them.
func storedQueue(tx *store.Tx, name string) (int, time.Time) {
	switch name {
	case "inbox":
		in := tx.Inbox()
		return in.Len(), in.Oldest()
	case "to_xmpp":
		o := tx.XMPPOutbox()
		return o.Len(), o.Oldest()
	default:
		o := tx.FacebookOutbox()
		return o.Len(), o.Oldest()
	}
}
