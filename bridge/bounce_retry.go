package bridge

import (
	"sync"
	"time"

	"github.com/askbridge/askbridge/xmpp"
)

// A message the Jabber server bounces with a temporary error — a hosted
// queue's server briefly unreachable over federation, say — is queued again
// in the durable outbox with a NotBefore time that doubles with each try,
// instead of being dropped. The bridge keeps recently sent messages in
// memory to find what a bounce refers to; the ledger records each bounce.

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

// recentStanzas remembers what was sent lately, for retries and
// rerouting after bounces (bounces arrive within seconds).
type recentStanzas struct {
	mu    sync.Mutex
	msgs  map[string]sentStanza
	order []string
}

type sentStanza struct {
	entry xmppEntry
	at    time.Time
}

func newRecentStanzas() *recentStanzas { return &recentStanzas{msgs: map[string]sentStanza{}} }

func (r *recentStanzas) add(e xmppEntry, now time.Time) {
	if e.Presence != nil || e.Msg.ID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, ok := r.msgs[e.Msg.ID]
	if !ok {
		r.order = append(r.order, e.Msg.ID)
	}
	// The original written again (after a failed confirmation) must not
	// reset the count of retries already made for the same id.
	e.Tries = max(e.Tries, prev.entry.Tries)
	r.msgs[e.Msg.ID] = sentStanza{entry: e, at: now}
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

// get returns the entry last sent with the id.
func (r *recentStanzas) get(id string) (xmppEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.msgs[id]
	return s.entry, ok
}
