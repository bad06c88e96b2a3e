package bridge

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// dispatchBatch bounds how many inbox entries one transaction moves.
const dispatchBatch = 256

// dispatchLoop moves inbox entries to the outboxes, oldest first. It does
// no network I/O, so one patron's slow conversation never holds up
// another's; order within a conversation is the inbox order.
func (b *Bridge) dispatchLoop(ctx context.Context) {
	for {
		n, err := b.dispatchOnce()
		switch {
		case err != nil:
			b.log.Error("dispatching inbox", zap.Error(err))
			if !wait(ctx, nil, time.Second) {
				return
			}
		case n > 0:
			signal(b.xmppReady)
			if ctx.Err() != nil {
				return
			}
		default:
			if !wait(ctx, b.inboxReady, time.Minute) {
				return
			}
		}
	}
}

// dispatchOnce routes up to dispatchBatch inbox entries in one transaction.
// Events left in the spill by a compaction that could not move them (see
// spill.go) are moved into the inbox first.
func (b *Bridge) dispatchOnce() (int, error) {
	if _, err := b.store.retrySpill(); err != nil {
		return 0, fmt.Errorf("bridge: dispatch: %w", err)
	}
	cfg := b.config()
	var n int
	err := b.store.update(func(tx *store.Tx) error {
		n = 0
		// First, ahead of the hand-over of the routed entries to the
		// outboxes' owners (see atCommit).
		tx.OnCommit(func() {
			if n > 0 {
				crashpoint.Hit(crashpoint.AfterDispatch)
			}
		})
		inbox := tx.Inbox()
		var done [][]byte
		err := inbox.Scan(func(k []byte, e *messenger.Event, err error) (bool, error) {
			if errors.Is(err, store.ErrKeyGone) {
				b.log.Error("inbox entry kept: its queue key is missing", zap.Binary("key", k), zap.Error(err))
				return true, nil
			}
			done = append(done, bytes.Clone(k))
			if err != nil {
				b.log.Error("unreadable inbox entry skipped", zap.Binary("key", k), zap.Error(err))
			} else if err := b.route(tx, cfg, e); err != nil {
				return false, err
			}
			return len(done) < dispatchBatch, nil
		})
		if err != nil {
			return err
		}
		for _, k := range done {
			if err := inbox.Delete(k); err != nil {
				return err
			}
		}
		n = len(done)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: dispatch: %w", err)
	}
	return n, nil
}

// route turns one Messenger event into outbox entries and ledger records.
// It returns an error only when the store fails.
func (b *Bridge) route(tx *store.Tx, cfg *config.Config, e *messenger.Event) error {
	b.metrics.events.WithLabelValues(string(e.Kind)).Inc()
	channel := e.Channel
	if channel == "" {
		channel = messenger.ChannelMessenger
	}
	page, ok := cfg.Page(string(e.Page))
	if channel == messenger.ChannelInstagram {
		page, ok = cfg.PageForInstagram(string(e.Page))
	}
	if !ok {
		b.metrics.unknownAccount.WithLabelValues(string(channel)).Inc()
		b.log.Warn("event for a Page or Instagram account that is not configured dropped", zap.String("channel", string(channel)),
			zap.String("account", string(e.Page)), zap.String("kind", string(e.Kind)))
		return nil
	}
	if !validPSID(string(e.Patron)) {
		b.log.Warn("event with an unusable patron ID dropped", zap.String("kind", string(e.Kind)))
		return nil
	}
	if channel == messenger.ChannelInstagram {
		// From here on the event names the Page and the patron's key, as
		// Messenger events do.
		ig := *e
		ig.Page, ig.Patron = messenger.PageID(page.ID), messenger.PSID(patronKey(channel, e.Patron))
		e = &ig
	}
	switch e.Kind {
	case messenger.KindMessage, messenger.KindPostback, messenger.KindEdit, messenger.KindReaction:
		return b.relayToLibrarians(tx, cfg, e, true)
	case messenger.KindEcho:
		if own, err := b.ownEcho(tx, cfg, e); err != nil || own {
			if own {
				b.metrics.ownEchoes.Inc()
			}
			return err
		}
		// Someone answered from the Page inbox or another app: show it.
		return b.relayToLibrarians(tx, cfg, e, false)
	case messenger.KindDelivery, messenger.KindRead:
		return b.watermark(tx, cfg, e)
	default:
		// Opt-ins and referrals change nothing the librarians see.
		return nil
	}
}

// relayToLibrarians queues one stanza from the patron's JID to whoever
// handles the conversation, and records it.
func (b *Bridge) relayToLibrarians(tx *store.Tx, cfg *config.Config, e *messenger.Event, fromPatron bool) error {
	now := b.now()
	psid := string(e.Patron)
	conv, err := getConversation(tx, psid)
	if err != nil {
		return err
	}
	if conv == nil {
		conv = &Conversation{Page: string(e.Page), PSID: psid, Guest: b.pseudo.Guest(string(e.Page), psid)}
		b.log.Info("new conversation", zap.String("guest", conv.Guest), zap.String("page", conv.Page),
			zap.String("queue", cfg.QueueFor(conv.Page)))
	}
	if err := b.expireIdle(tx, cfg, conv, now); err != nil {
		return err
	}
	if fromPatron && e.Time.After(conv.LastPatron) {
		conv.LastPatron = e.Time
	}
	conv.LastActivity = now
	opened := false
	// A patron message or button press: it counts in a session.
	spoke := fromPatron && (e.Kind == messenger.KindMessage && !e.Deleted || e.Kind == messenger.KindPostback)
	switch {
	case spoke:
		var err error
		opened, err = b.patronSpoke(tx, cfg, conv, eventTime(e, now), e.Kind == messenger.KindMessage)
		if err != nil {
			return err
		}
	case e.Kind == messenger.KindReaction && e.ReactionAction != "unreact" && conv.Session == "":
		// A 👍 after the chat ended joins it within the grace period, but
		// a reaction alone never starts a session.
		s, key, err := b.followup(tx, cfg, conv, eventTime(e, now))
		if err != nil {
			return err
		}
		if s != nil {
			if err := putSession(tx, key, s); err != nil {
				return err
			}
		}
	case e.Kind == messenger.KindEcho && e.AppID == "" && !e.Standby:
		// A person answered from the Page inbox: a human reply all the
		// same. (Echoes of other apps, Facebook's own automatic replies
		// among them, are shown but not counted; nor are standby echoes,
		// which on Instagram never carry an app_id even from a bot.)
		if _, err := b.humanReplied(tx, cfg, conv, pageInboxOperator, eventTime(e, now), true); err != nil {
			return err
		}
	}
	if e.Standby && conv.Session != "" {
		// Another app owns the thread and answers: no "unanswered" reply
		// from the bridge in this session either.
		conv.Unanswered = conv.Session
	}
	body, oob := describe(e, channelOf(psid))
	msg := xmpp.Message{
		ID:   stanzaID(e),
		From: patronJID(psid, cfg.XMPP.Domain),
		Type: "chat",
		Body: body,
		Nick: nickOf(conv),
		OOB:  oob,
		// Clients send a displayed marker (XEP-0333) only for a markable
		// message: that marker is what makes "Seen" show in Messenger.
		Markable: spoke,
	}
	orig := b.originalRecord(tx, e.MID)
	if orig != nil {
		switch {
		case e.Kind == messenger.KindEdit && orig.XMPPID != "":
			msg.Replace, msg.Body = orig.XMPPID, patronSays(e.Text) // an XEP-0308 correction
		case e.Kind == messenger.KindReaction && e.ReactionAction != "unreact" && orig.Text != "":
			msg.Body = "[reacted " + e.Reaction + " to: " + excerpt(orig.Text, 80) + "]"
		case e.Deleted && orig.Text != "":
			msg.Body = "[unsent a message: " + excerpt(orig.Text, 80) + "]"
		}
	}
	rec := &Record{
		Time:      eventTime(e, now),
		Direction: Inbound,
		Kind:      recordKind(e),
		Page:      conv.Page,
		Guest:     conv.Guest,
		MID:       string(e.MID),
		XMPPID:    msg.ID,
		Operator:  conv.Owner,
		State:     StateQueued,
	}
	if e.Kind == messenger.KindEdit || e.Kind == messenger.KindReaction || e.Deleted {
		rec.MID = "" // the mid names the original message's record
	}
	if !fromPatron {
		rec.Direction = Outbound
	}
	if cfg.Privacy.Transcripts {
		rec.Text = body
	}
	key, err := tx.Ledger().Add(rec)
	if err != nil {
		return err
	}
	if opened {
		if err := b.announce(tx, cfg, conv); err != nil {
			return err
		}
	}
	targets := b.targets(cfg, conv)
	if len(targets) == 0 {
		// Broadcast routing with nobody available: hold the message until
		// an operator comes online.
		hold(conv, msg)
	}
	var copies map[string]string
	for i, to := range targets {
		m := msg
		m.To = to
		if i > 0 {
			m.ID = fmt.Sprintf("%s.%d", msg.ID, i)
		}
		if m.Replace != "" && orig.Copies[to.String()] != "" {
			m.Replace = orig.Copies[to.String()] // this operator's copy of the original
		}
		if len(targets) > 1 {
			if copies == nil {
				copies = map[string]string{}
			}
			copies[to.String()] = m.ID
		}
		b.log.Debug("patron message queued for XMPP", zap.String("guest", conv.Guest), zap.String("kind", rec.Kind),
			zap.Stringer("to", to), zap.String("id", m.ID))
		if err := b.enqueueXMPP(tx, m, key); err != nil {
			return err
		}
	}
	if copies != nil {
		if err := tx.Ledger().Update(key, func(r *Record) { r.Copies = copies }); err != nil {
			return err
		}
	}
	if opened && !e.Standby {
		// While another app owns the thread (standby), it answers: no
		// automatic reply from the bridge.
		if err := b.welcome(tx, cfg, conv, eventTime(e, now), len(targets) == 0); err != nil {
			return err
		}
	}
	return putConversation(tx, conv)
}

// originalRecord returns the ledger record of the message with the given
// mid (to find the stanza an edit corrects, or the text a reaction is
// about), or nil.
func (b *Bridge) originalRecord(tx *store.Tx, mid messenger.MID) *Record {
	if mid == "" {
		return nil
	}
	l := tx.Ledger()
	r, err := l.Get(l.ByRef(store.MessageRef(string(mid))))
	if err != nil {
		return nil
	}
	return r
}

// excerpt shortens s to at most n characters.
func excerpt(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// pageInboxOperator stands for whoever answered from the Facebook Page
// inbox, in the statistics.
const pageInboxOperator = "facebook-page-inbox"

// expireIdle ends the conversation's session if it has been idle for the
// timeout (the idle loop may not have got to it yet).
//
// A conversation holding messages nobody could be offered yet (broadcast
// routing, no operator available) stays open until an operator comes
// online and sees them.
func (b *Bridge) expireIdle(tx *store.Tx, cfg *config.Config, conv *Conversation, now time.Time) error {
	if conv.Session == "" || len(conv.Held) > 0 || now.Sub(conv.LastActivity) < cfg.Sessions.IdleTimeout {
		return nil
	}
	_, err := b.closeSession(tx, cfg, conv, conv.LastActivity) // the claim ends with the session
	return err
}

// confirmEcho records, from the echo of a message the bridge sent, that the
// Send API call went through, even if its answer never arrived.
func confirmEcho(tx *store.Tx, e *messenger.Event) error {
	hexKey, ok := strings.CutPrefix(e.Metadata, metadataPrefix)
	if !ok || e.MID == "" {
		return nil
	}
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil // not ours after all
	}
	return tx.Ledger().Update(key, func(r *Record) {
		if r.MID == "" {
			r.MID = string(e.MID)
			if r.State == StateQueued {
				r.State = StateAccepted
			}
		}
	})
}

func eventTime(e *messenger.Event, now time.Time) time.Time {
	if e.Time.IsZero() {
		return now
	}
	return e.Time
}

func recordKind(e *messenger.Event) string {
	switch e.Kind {
	case messenger.KindEcho:
		return "page_inbox"
	case messenger.KindMessage:
		if e.Deleted {
			return "unsend"
		}
		if e.Text == "" && len(e.Attachments) > 0 {
			return "attachment"
		}
		return "message"
	}
	return string(e.Kind)
}
