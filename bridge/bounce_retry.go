package bridge

import (
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/xmpp"
)

// A message the Jabber server bounces with a temporary error — a hosted
// queue's server briefly unreachable over federation, say — is sent again
// with growing pauses, instead of being dropped. The bridge keeps recently
// sent messages in memory for that; the ledger records each bounce.

const (
	recentKeep    = 15 * time.Minute // how long a sent message can be retried
	recentMax     = 10000            // bound on messages kept for retries
	bounceRetries = 5
)

// bounceFirst is the pause before the first retry; it doubles each time.
// (A variable so that tests can shorten it.)
var bounceFirst = 30 * time.Second

// temporary reports whether a bounce is worth retrying.
func temporary(e xmpp.StanzaError) bool {
	switch e.Condition {
	case "remote-server-timeout", "remote-server-not-found", "resource-constraint":
		return true
	}
	return e.Type == "wait"
}

// recentStanzas remembers what was sent, for retries after bounces.
type recentStanzas struct {
	mu    sync.Mutex
	msgs  map[string]sentStanza
	order []string
}

type sentStanza struct {
	entry xmppEntry
	at    time.Time
	tries int
}

func newRecentStanzas() *recentStanzas { return &recentStanzas{msgs: map[string]sentStanza{}} }

func (r *recentStanzas) add(e xmppEntry, now time.Time) {
	if e.Presence != nil || e.Msg.ID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.msgs[e.Msg.ID]; ok {
		s.entry, s.at = e, now // a retry: keep the count
		r.msgs[e.Msg.ID] = s
		return
	}
	r.msgs[e.Msg.ID] = sentStanza{entry: e, at: now}
	r.order = append(r.order, e.Msg.ID)
	for len(r.order) > 0 {
		id := r.order[0]
		s, ok := r.msgs[id]
		if ok && len(r.order) <= recentMax && now.Sub(s.at) < recentKeep {
			break
		}
		delete(r.msgs, id)
		r.order = r.order[1:]
	}
}

// retry returns the entry to send again and the pause before it, or
// ok=false when it is unknown or was retried enough.
func (r *recentStanzas) retry(id string) (xmppEntry, time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.msgs[id]
	if !ok || s.tries >= bounceRetries {
		return xmppEntry{}, 0, false
	}
	s.tries++
	r.msgs[id] = s
	return s.entry, bounceFirst << (s.tries - 1), true
}

// retryBounced schedules a bounced message to be queued again; it reports
// whether it did.
func (b *Bridge) retryBounced(bounce xmpp.Bounce) bool {
	if !temporary(bounce.Error) {
		return false
	}
	e, pause, ok := b.recent.retry(bounce.ID)
	if !ok {
		return false
	}
	b.log.Info("bounced message will be sent again", zap.String("id", bounce.ID), zap.Duration("in", pause),
		zap.String("condition", bounce.Error.Condition))
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		t := time.NewTimer(pause)
		defer t.Stop()
		select {
		case <-b.stopping:
			return // shutting down; the ledger has the bounce
		case <-t.C:
		}
		err := b.store.update(func(tx *bolt.Tx) error { return enqueueXMPP(tx, e.Msg, e.Ledger) })
		if err != nil {
			b.log.Error("queueing a bounced message again", zap.Error(err))
			return
		}
		signal(b.xmppReady)
	}()
	return true
}
