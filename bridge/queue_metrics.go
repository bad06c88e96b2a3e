package bridge

import (
	"bytes"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

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

// queued reads when the first entry of a queue was queued.
var queued = map[string]func(tx *store.Tx, v []byte) time.Time{
	"inbox": func(tx *store.Tx, v []byte) time.Time {
		var e struct {
			Time time.Time `json:"time"`
		}
		_ = store.OpenJSON(tx.Bolt(), v, &e)
		return e.Time
	},
	"to_xmpp": func(tx *store.Tx, v []byte) time.Time {
		e, _ := tx.XMPPOutbox().Decode(v)
		return e.Queued
	},
	"to_facebook": func(tx *store.Tx, v []byte) time.Time {
		e, _ := tx.FacebookOutbox().Decode(v)
		return e.Queued
	},
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	_ = c.store.view(func(tx *store.Tx) error {
		total := 0
		for name, bucket := range map[string][]byte{"inbox": store.BucketInbox, "to_xmpp": store.BucketToXMPP, "to_facebook": store.BucketToFacebook} {
			b := tx.Bolt().Bucket(bucket)
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
				n, t = b.Stats().KeyN, oldestQueued(tx, b, name)
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

// oldestQueued is when the oldest entry of a queue was queued (zero when
// it is empty). The inbox and the XMPP outbox are kept in order; the
// Send API outbox is ordered by conversation, so its oldest entry is the
// oldest of each conversation's first, found with one seek each.
func oldestQueued(tx *store.Tx, b *bolt.Bucket, name string) time.Time {
	c := b.Cursor()
	k, v := c.First()
	if name != "to_facebook" {
		if k == nil {
			return time.Time{}
		}
		return queued[name](tx, v)
	}
	var oldest time.Time
	for k != nil {
		if t := queued[name](tx, v); !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
		psid, _, ok := bytes.Cut(k, []byte{0})
		if !ok {
			k, v = c.Next()
			continue
		}
		// The next conversation's first entry: keys are PSID, 0, sequence.
		k, v = c.Seek(append(append([]byte(nil), psid...), 1))
	}
	return oldest
}
