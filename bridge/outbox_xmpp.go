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
}

func enqueuePresence(tx *bolt.Tx, p xmpp.Presence) error {
	if p.ID == "" {
		p.ID = randomID("p-")
	}
	b := tx.Bucket(bucketToXMPP)
	k, err := seqKey(b)
	if err != nil {
		return fmt.Errorf("XMPP outbox key: %w", err)
	}
	return putJSON(b, k, xmppEntry{Presence: &p, Msg: xmpp.Message{ID: p.ID}, Queued: time.Now()})
}

func enqueueXMPP(tx *bolt.Tx, m xmpp.Message, ledgerKey []byte) error {
	b := tx.Bucket(bucketToXMPP)
	k, err := seqKey(b)
	if err != nil {
		return fmt.Errorf("XMPP outbox key: %w", err)
	}
	return putJSON(b, k, xmppEntry{Msg: m, Ledger: ledgerKey, Queued: time.Now()})
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
		n, err := b.drainXMPP(link)
		if err != nil {
			b.log.Debug("XMPP outbox waits", zap.Error(err))
			if !wait(ctx, b.xmppReady, time.Second) {
				return
			}
			continue
		}
		if n == 0 && !wait(ctx, b.xmppReady, 30*time.Second) {
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

// drainXMPP writes up to xmppBatch stanzas and then removes, in one
// transaction, those that were written to the live stream.
func (b *Bridge) drainXMPP(link Link) (int, error) {
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
		return 0, fmt.Errorf("bridge: reading XMPP outbox: %w", err)
	}
	done := 0
	var sendErr error
	var poisoned []xmppItem
	for _, it := range items {
		if it.entry.Msg.ID != "" {
			var err error
			if it.entry.Presence != nil {
				err = link.SendPresence(*it.entry.Presence)
			} else {
				err = link.Send(it.entry.Msg)
			}
			switch {
			case errors.Is(err, xmpp.ErrInvalidMessage):
				// It can never be sent; waiting would block the outbox.
				b.log.Error("stanza cannot be sent; removed from the outbox", zap.String("id", it.entry.Msg.ID), zap.Error(err))
				poisoned = append(poisoned, it)
			case err != nil:
				sendErr = err
			default:
				b.metrics.relayed.WithLabelValues("to_xmpp").Inc()
				b.recent.add(it.entry, b.now())
			}
			if sendErr != nil {
				break
			}
		}
		done++
	}
	if done == 0 {
		return 0, sendErr
	}
	bad := map[string]bool{}
	for _, p := range poisoned {
		bad[string(p.key)] = true
	}
	err = b.store.update(func(tx *bolt.Tx) error {
		out := tx.Bucket(bucketToXMPP)
		for _, it := range items[:done] {
			if err := out.Delete(it.key); err != nil {
				return fmt.Errorf("removing XMPP outbox entry: %w", err)
			}
			state := StateSent
			if bad[string(it.key)] {
				state = StateFailed
			}
			if err := updateRecord(tx, it.entry.Ledger, func(r *Record) { r.State = state }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: committing XMPP sends: %w", err)
	}
	crashpoint.Hit(crashpoint.AfterXMPPCommit)
	return done, sendErr
}

// HandleBounce records an error the Jabber server returned for a stanza
// the bridge sent. A conversation whose librarian cannot be reached goes
// back to its queue.
func (b *Bridge) HandleBounce(ctx context.Context, bounce xmpp.Bounce) {
	b.metrics.bounces.WithLabelValues(bounce.Error.Condition).Inc()
	cfg := b.config()
	var rec Record
	err := b.store.update(func(tx *bolt.Tx) error {
		k := recordByRef(tx, "x:"+bounce.ID)
		if k == nil {
			return nil
		}
		if err := updateRecord(tx, k, func(r *Record) {
			r.State = StateBounced
			r.Error = bounce.Error.Condition
			rec = *r
		}); err != nil {
			return err
		}
		psid := localpart(bounce.To)
		conv, err := getConversation(tx, psid)
		if err != nil || conv == nil {
			return err
		}
		if conv.Owner != "" && sameBare(conv.Owner, bounce.From) && conv.Owner != cfg.QueueFor(conv.Page) {
			conv.Owner = ""
			return putConversation(tx, conv)
		}
		return nil
	})
	if err != nil {
		b.log.Error("recording bounce", zap.Error(err))
	}
	if b.retryBounced(bounce) {
		return
	}
	b.log.Warn("the Jabber server bounced a message",
		zap.String("id", bounce.ID), zap.String("from", bounce.From),
		zap.String("condition", bounce.Error.Condition), zap.String("type", bounce.Error.Type),
		zap.String("kind", rec.Kind), zap.String("guest", rec.Guest))
}

// LinkChanged wakes the XMPP drain when the component comes up.
func (b *Bridge) LinkChanged(up bool) {
	b.linkUp.Store(up)
	if !up {
		b.presence.reset()
	} else {
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
