package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/xmpp"
)

// xmppBatch bounds how many stanzas one drain pass writes before it
// commits their removal.
const xmppBatch = 256

// xmppEntry is an XMPP outbox entry.
type xmppEntry struct {
	Msg xmpp.Message `json:"msg"`
	// Presence, when set, is sent instead of Msg.
	Presence *xmpp.Presence `json:"presence,omitempty"`
	// Ledger is the key of the ledger record to mark sent.
	Ledger []byte `json:"ledger,omitempty"`
	// Queued is when the entry was queued.
	Queued time.Time `json:"queued,omitempty"`
	// NotBefore holds back a retry after a temporary bounce; Tries counts
	// those retries.
	NotBefore time.Time `json:"not_before,omitempty"`
	Tries     int       `json:"tries,omitempty"`
}

func enqueuePresence(tx *bolt.Tx, p xmpp.Presence) error {
	if p.ID == "" {
		p.ID = randomID("p-")
	}
	return enqueueEntry(tx, xmppEntry{Presence: &p, Msg: xmpp.Message{ID: p.ID}, Queued: time.Now()})
}

func enqueueXMPP(tx *bolt.Tx, m xmpp.Message, ledgerKey []byte) error {
	return enqueueEntry(tx, xmppEntry{Msg: m, Ledger: ledgerKey, Queued: time.Now()})
}

func enqueueEntry(tx *bolt.Tx, e xmppEntry) error {
	b := tx.Bucket(bucketToXMPP)
	k, err := seqKey(b)
	if err != nil {
		return fmt.Errorf("XMPP outbox key: %w", err)
	}
	return putJSON(b, k, e)
}

// xmppLoop drains the XMPP outbox, oldest first, whenever the link is up.
func (b *Bridge) xmppLoop(ctx context.Context, link Link) {
	for {
		if !link.Connected() {
			if !wait(ctx, b.xmppReady, time.Second) {
				return
			}
			continue
		}
		n, due, err := b.drainXMPP(link)
		if err != nil {
			b.log.Debug("XMPP outbox waits", zap.Error(err))
			if !wait(ctx, b.xmppReady, time.Second) {
				return
			}
			continue
		}
		idle := 30 * time.Second
		if !due.IsZero() {
			idle = min(idle, max(time.Until(due), time.Millisecond))
		}
		if n == 0 && !wait(ctx, b.xmppReady, idle) {
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

type xmppItem struct {
	key   []byte
	entry xmppEntry
}

// drainXMPP writes up to xmppBatch due stanzas, waits until the Jabber
// server has routed them (Link.Sync), and then removes them in one
// transaction. Stanzas written but not confirmed stay and are sent again
// with the same ids: at least once. It also returns when the earliest
// retry it skipped falls due (zero if none).
func (b *Bridge) drainXMPP(link Link) (int, time.Time, error) {
	var items []xmppItem
	err := b.store.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketToXMPP).Cursor()
		for k, v := c.First(); k != nil && len(items) < xmppBatch; k, v = c.Next() {
			it := xmppItem{key: append([]byte(nil), k...)}
			if err := json.Unmarshal(v, &it.entry); err != nil {
				b.log.Error("unreadable XMPP outbox entry removed", zap.Error(err))
				it.entry.Msg.ID = "" // marks it for removal
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bridge: reading XMPP outbox: %w", err)
	}
	now := time.Now()
	var due time.Time
	var written, removed []xmppItem
	var sendErr error
	for _, it := range items {
		if it.entry.Msg.ID == "" {
			removed = append(removed, it)
			continue
		}
		if now.Before(it.entry.NotBefore) {
			if due.IsZero() || it.entry.NotBefore.Before(due) {
				due = it.entry.NotBefore
			}
			continue // a retry that is not due yet
		}
		// Remembered before it is written: the server can bounce it before
		// Send even returns.
		b.recent.add(it.entry, now)
		if it.entry.Presence != nil {
			sendErr = link.SendPresence(*it.entry.Presence)
		} else {
			sendErr = link.Send(it.entry.Msg)
		}
		if errors.Is(sendErr, xmpp.ErrInvalidMessage) {
			// It can never be sent; waiting would block the outbox.
			b.log.Error("stanza cannot be sent; removed from the outbox", zap.String("id", it.entry.Msg.ID), zap.Error(sendErr))
			it.entry.Msg.ID = ""
			removed = append(removed, it)
			sendErr = nil
			continue
		}
		if sendErr != nil {
			break
		}
		written = append(written, it)
	}
	if len(written) > 0 {
		if err := link.Sync(); err != nil {
			return 0, due, fmt.Errorf("bridge: the Jabber server did not confirm %d stanzas: %w", len(written), err)
		}
	}
	if len(written)+len(removed) == 0 {
		return 0, due, sendErr
	}
	err = b.store.update(func(tx *bolt.Tx) error {
		out := tx.Bucket(bucketToXMPP)
		for _, it := range append(written, removed...) {
			if err := out.Delete(it.key); err != nil {
				return fmt.Errorf("removing XMPP outbox entry: %w", err)
			}
			state := StateSent
			if it.entry.Msg.ID == "" {
				state = StateFailed
			}
			if err := updateRecord(tx, it.entry.Ledger, func(r *Record) { r.State = state }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, due, fmt.Errorf("bridge: committing XMPP sends: %w", err)
	}
	crashpoint.Hit(crashpoint.AfterXMPPCommit)
	for _, it := range written {
		if it.entry.Presence == nil {
			b.metrics.relayed.WithLabelValues("to_xmpp").Inc()
		}
	}
	return len(written) + len(removed), due, sendErr
}

// HandleBounce handles an error the Jabber server returned for a stanza
// the bridge sent. The ledger records it. A temporary error (the server of
// a hosted queue briefly unreachable, say) schedules the stanza again, in
// the durable outbox, with growing pauses. When the librarian who owns the
// conversation cannot be reached, the conversation goes back to its queue
// and the bounced message with it.
func (b *Bridge) HandleBounce(ctx context.Context, bounce xmpp.Bounce) {
	b.metrics.bounces.WithLabelValues(bounce.Error.Condition).Inc()
	cfg := b.config()
	sent, known := b.recent.get(bounce.ID)
	retried, rerouted := false, false
	var rec Record
	err := b.store.update(func(tx *bolt.Tx) error {
		retried, rerouted = false, false
		if k := recordByRef(tx, "x:"+bounce.ID); k != nil {
			if err := updateRecord(tx, k, func(r *Record) {
				r.State = StateBounced
				r.Error = bounce.Error.Condition
				rec = *r
			}); err != nil {
				return err
			}
		}
		if !known {
			return nil
		}
		if temporary(bounce.Error) && sent.Tries < bounceRetries {
			e := sent
			e.Tries++
			e.NotBefore = time.Now().Add(bounceFirst << (e.Tries - 1))
			retried = true
			return enqueueEntry(tx, e)
		}
		conv, err := getConversation(tx, localpart(bounce.To))
		if err != nil || conv == nil || conv.Owner == "" || !sameBare(conv.Owner, bounce.From) {
			return err
		}
		conv.Owner = ""
		if sent.Presence == nil && sent.Msg.Body != "" {
			for _, to := range b.targets(cfg, conv) {
				e := sent
				e.Msg.To = to
				if err := enqueueEntry(tx, e); err != nil {
					return err
				}
				rerouted = true
			}
		}
		return putConversation(tx, conv)
	})
	if err != nil {
		b.log.Error("recording bounce", zap.Error(err))
	}
	log := b.log.With(zap.String("id", bounce.ID), zap.String("from", bounce.From),
		zap.String("condition", bounce.Error.Condition), zap.String("type", bounce.Error.Type),
		zap.String("kind", rec.Kind), zap.String("guest", rec.Guest))
	switch {
	case retried:
		log.Info("bounced message will be sent again", zap.Int("try", sent.Tries+1))
		signal(b.xmppReady)
	case rerouted:
		log.Warn("the librarian could not be reached; the conversation went back to its queue")
		signal(b.xmppReady)
	default:
		log.Warn("the Jabber server bounced a message")
	}
}

// LinkChanged wakes the XMPP drain when the component comes up.
//
// Operators' presence is kept across a reconnect: the probes sent at
// link-up refresh it, and in the meantime a conversation offered to an
// operator who went offline waits in the server's offline storage rather
// than being held for nobody.
func (b *Bridge) LinkChanged(up bool) {
	if up {
		if l := b.link.Load(); l != nil {
			b.subscribeOperators(*l)
		}
		if err := b.reannounce(); err != nil {
			b.log.Error("announcing open conversations again", zap.Error(err))
		}
	}
	if up {
		b.metrics.linkChanges.WithLabelValues("up").Inc()
	} else {
		b.metrics.linkChanges.WithLabelValues("down").Inc()
	}
	if up {
		signal(b.xmppReady)
	}
}
