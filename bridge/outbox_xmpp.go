package bridge

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// xmppEntry is an XMPP outbox entry (see store.XMPPEntry).
type xmppEntry = store.XMPPEntry

func (b *Bridge) enqueuePresence(tx *store.Tx, p xmpp.Presence) error {
	if p.ID == "" {
		p.ID = randomID("p-")
	}
	return b.xq.enqueue(tx, xmppEntry{Presence: &p, Msg: xmpp.Message{ID: p.ID}, Queued: time.Now()})
}

// enqueueXMPP queues m for the XMPP writer. A message whose stanza would
// be larger than xmpp.max_stanza_bytes is queued as several messages, in
// order, its text cut between words (xmpp.SplitMessage); each part's id
// refers to the ledger record at ledgerKey, so a bounce or a read marker
// for any part finds it.
func (b *Bridge) enqueueXMPP(tx *store.Tx, m xmpp.Message, ledgerKey []byte) error {
	now := time.Now()
	cfg := b.config()
	limit := cfg.XMPP.StanzaLimit()
	if 6*(len(m.Body)+len(m.Nick)+len(m.OOB)+len(m.Thread))+splitMargin < limit {
		return b.xq.enqueue(tx, xmppEntry{Msg: m, Ledger: ledgerKey, Queued: now}) // fits by far
	}
	parts, err := xmpp.SplitMessage(m, cfg.XMPP.Domain, limit-splitMargin-len(continued))
	if err != nil {
		// Queued whole: the writer removes an invalid message, and parks
		// one too large to send (see deadletter.go). (An invalid message's
		// error may name the patron's JID: not logged here.)
		if errors.Is(err, xmpp.ErrTooLarge) {
			b.log.Warn("message cannot be split to fit xmpp.max_stanza_bytes", zap.String("id", m.ID))
		}
		parts = []xmpp.Message{m}
	}
	for i, p := range parts {
		if i > 0 && opensLikeBracket(p.Body) {
			// A later part must not look like a line of the bridge's
			// (voice.go) because the cut fell before a bracket.
			p.Body = continued + p.Body
		}
		if i > 0 && ledgerKey != nil {
			if err := tx.Ledger().AddRef(store.StanzaRef(p.ID), ledgerKey); err != nil {
				return err
			}
		}
		if err := b.xq.enqueue(tx, xmppEntry{Msg: p, Ledger: ledgerKey, Queued: now}); err != nil {
			return err
		}
	}
	return nil
}

// splitMargin is room kept in every part of a split message for an
// address longer than its own, when a bounce sends it to the queue
// instead of a librarian.
const splitMargin = 512

// continued opens a later part of a split message that would otherwise
// start with a bracket.
const continued = "… "

// HandleBounce handles an error the Jabber server returned for a stanza
// the bridge sent. The ledger records it. A temporary error (the server of
// a hosted queue briefly unreachable, say) schedules the stanza again, in
// the durable outbox, with growing pauses. When the librarian who owns the
// conversation cannot be reached, the conversation goes back to its queue
// and the bounced message with it.
func (b *Bridge) HandleBounce(ctx context.Context, bounce xmpp.Bounce) {
	cfg := b.config()
	sent, known := b.recent.get(bounce.ID)
	retried, rerouted, transferFailed, forged := false, false, false, false
	var rec Record
	err := b.store.update(func(tx *store.Tx) error {
		retried, rerouted, transferFailed, forged = false, false, false, false
		key := tx.Ledger().ByRef(store.StanzaRef(bounce.ID))
		stored, err := tx.Ledger().Get(key)
		if err != nil {
			return err
		}
		if !bounceAuthentic(bounce.From, b.bounceRecipients(cfg, sent, known, stored)) {
			forged = true
			return nil
		}
		if err := tx.Ledger().Update(key, func(r *Record) {
			r.State = StateBounced
			r.Error = bounce.Error.Condition
			rec = *r
		}); err != nil {
			return err
		}
		// requeue marks the record queued again when the message is; the
		// error stays on record.
		requeue := func() error {
			return tx.Ledger().Update(key, func(r *Record) { r.State = StateQueued })
		}
		if !known {
			return nil
		}
		if temporary(bounce.Error) && sent.Tries < bounceRetries {
			if err := requeue(); err != nil {
				return err
			}
			e := sent
			e.Tries++
			e.NotBefore = time.Now().Add(bounceFirst << (e.Tries - 1))
			retried = true
			return b.xq.enqueue(tx, e)
		}
		conv, err := getConversation(tx, bounce.To.Localpart())
		if err != nil || conv == nil {
			return err
		}
		if undone, err := b.transferBounced(tx, cfg, conv, bounce); undone || err != nil {
			transferFailed = undone
			return err
		}
		from := bounce.From.Bare()
		sameFrom := func(j jid.JID) bool { return j.Bare().Equal(from) }
		switch {
		case conv.Owner != "" && sameFrom(parseJID(conv.Owner)):
			conv.Owner = ""
		case conv.Owner == "" && sameFrom(sent.Msg.To) && !slices.ContainsFunc(b.targets(cfg, conv), sameFrom):
			// Another part of a split text, or a message queued for the
			// same librarian, bouncing after the first: the conversation
			// is already back with its queue, and so goes this message.
		default:
			return nil
		}
		if sent.Presence == nil && sent.Msg.Body != "" {
			if err := requeue(); err != nil {
				return err
			}
			for _, to := range b.targets(cfg, conv) {
				e := sent
				e.Msg.To = to
				if err := b.xq.enqueue(tx, e); err != nil {
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
	log := b.log.With(zap.String("id", bounce.ID), zap.Stringer("from", bounce.From),
		zap.String("condition", bounce.Error.Condition), zap.String("type", bounce.Error.Type),
		zap.String("kind", rec.Kind), zap.String("guest", rec.Guest))
	if forged {
		b.metrics.bouncesForged.Inc()
		log.Warn("ignored an error stanza from neither the stanza's recipient nor its server")
		return
	}
	b.metrics.bounces.WithLabelValues(bounce.Error.Condition).Inc()
	switch {
	case retried:
		log.Info("bounced message will be sent again", zap.Int("try", sent.Tries+1))
		signal(b.xmppReady)
	case rerouted:
		log.Warn("the librarian could not be reached; the conversation went back to its queue")
		signal(b.xmppReady)
	case transferFailed:
		log.Warn("a transfer's summary bounced; the conversation went back")
		signal(b.xmppReady)
	default:
		log.Warn("the Jabber server bounced a message")
	}
}

// bounceRecipients are the addresses the bounced stanza went to: the
// entry just sent; else, from the ledger, the librarian it was for, each
// operator who got a copy, or the Page's queue.
func (b *Bridge) bounceRecipients(cfg *config.Config, sent xmppEntry, known bool, rec *Record) []jid.JID {
	if known {
		return []jid.JID{sent.Msg.To}
	}
	if rec == nil {
		return nil
	}
	var to []jid.JID
	if rec.Operator != "" {
		to = append(to, parseJID(rec.Operator))
	}
	for op := range rec.Copies {
		to = append(to, parseJID(op))
	}
	if len(to) == 0 {
		to = append(to, parseJID(cfg.QueueFor(rec.Page)))
	}
	return to
}

// bounceAuthentic reports whether an error stanza from from may speak for
// a stanza sent to one of to: it comes from that address (any resource)
// or from that address's server. Anyone else's error stanza would let a
// Jabber user make the bridge resend a message or move a conversation.
func bounceAuthentic(from jid.JID, to []jid.JID) bool {
	for _, t := range to {
		if t.Domainpart() == "" {
			continue // a stored address that did not parse
		}
		if from.Bare().Equal(t.Bare()) || from.Localpart() == "" && from.Resourcepart() == "" && from.Domain().Equal(t.Domain()) {
			return true
		}
	}
	return false
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
		// Nothing written on the lost link counts as routed any more.
		b.xq.linkDown()
		b.metrics.linkChanges.WithLabelValues("down").Inc()
	}
	if up {
		signal(b.xmppReady)
	}
}
