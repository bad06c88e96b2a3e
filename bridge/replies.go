package bridge

import (
	"context"
	"strings"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

const (
	// responseWindow is how long after the patron's last message Facebook
	// accepts ordinary replies.
	responseWindow = 24 * time.Hour
	// humanAgentWindow is the longer window of the HUMAN_AGENT tag.
	humanAgentWindow = 7 * 24 * time.Hour
)

// metadataPrefix starts the Send API metadata of every message the bridge
// sends; the rest is the hex ledger key, which the echo brings back.
const metadataPrefix = "askbridge:"

// HandleMessage takes a message a librarian sent to a patron's JID. Only
// the queue and operators may answer; others get a forbidden error. Text
// starting with "!" is a command for the bridge and never reaches the
// patron. Anything else is stored in the Send API outbox before this
// returns, so an accepted reply is never lost.
func (b *Bridge) HandleMessage(ctx context.Context, m xmpp.Message) *xmpp.StanzaError {
	cfg := b.config()
	psid := m.To.Localpart()
	if psid == "" {
		// Addressed to the bridge itself: nothing to relay.
		return nil
	}
	sender := m.From.Bare()
	body := strings.TrimSpace(m.Body)
	if body == "" && m.OOB != "" {
		body = m.OOB
	}
	if body == "" {
		if m.ChatState != "" {
			b.typing(cfg, psid, sender, m.ChatState)
		}
		if m.DisplayedFor != "" {
			b.markSeen(cfg, psid, sender)
		}
		return nil // chat states, markers and receipts alone
	}

	// "!!" escapes a message for the patron that starts with "!".
	isCommand := strings.HasPrefix(body, "!") && !strings.HasPrefix(body, "!!")
	if strings.HasPrefix(body, "!!") {
		body = body[1:]
	}
	var refusal *xmpp.StanzaError
	var notice string
	// In the commits the webhook's POSTs share: librarians' replies and
	// patrons' messages pay for one pair of fsyncs together.
	err := b.store.batch(func(tx *store.Tx) error {
		refusal, notice = nil, ""
		conv, err := getConversation(tx, psid)
		if err != nil {
			return err
		}
		if conv == nil {
			if !mayAnswer(cfg, sender, "") {
				refusal = forbidden()
				return nil
			}
			refusal = &xmpp.StanzaError{Type: "cancel", Condition: "item-not-found", Text: "No Facebook conversation with this patron."}
			return nil
		}
		if !mayAnswer(cfg, sender, conv.Page) {
			refusal = forbidden()
			return nil
		}
		if isCommand {
			if owned := b.ownedByOther(cfg, conv, sender); owned != "" && !strings.HasPrefix(strings.ToLower(body), "!help") {
				notice = owned
				return nil
			}
			notice, err = b.command(tx, cfg, conv, m.From, body)
			if err != nil {
				return err
			}
			return putConversation(tx, conv)
		}
		notice, err = b.queueReply(tx, cfg, conv, m, sender, body)
		return err
	})
	if err != nil {
		b.log.Error("storing a librarian's reply", zap.Error(err))
		return &xmpp.StanzaError{Type: "wait", Condition: "internal-server-error", Text: "The bridge could not store your message; please send it again."}
	}
	if refusal != nil {
		b.metrics.refused.Inc()
		b.log.Info("message to a patron refused", zap.Stringer("from", sender), zap.String("condition", refusal.Condition))
		return refusal
	}
	if notice != "" {
		b.tell(m, notice)
		return nil
	}
	crashpoint.Hit(crashpoint.AfterReplyStored)
	b.typingEnded(psid) // Messenger hides the indicator when the message arrives
	b.log.Debug("librarian reply queued for the Send API", zap.Stringer("from", sender), zap.String("id", m.ID))
	signal(b.xmppReady) // "answered by" notes, presence
	return nil
}

func forbidden() *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: "auth", Condition: "forbidden", Text: "Only the library's chat staff may answer Facebook patrons."}
}

// queueReply writes a reply's Send API outbox entries and ledger records.
// It returns a notice for the librarian instead when Facebook would refuse
// the reply anyway. sender is m.From's bare JID.
func (b *Bridge) queueReply(tx *store.Tx, cfg *config.Config, conv *Conversation, m xmpp.Message, sender jid.JID, body string) (string, error) {
	now := b.now()
	operator := sender.String()
	out := messenger.OutgoingMessage{Recipient: recipientOf(conv.PSID), MessagingType: "RESPONSE"}
	since := now.Sub(conv.LastPatron)
	switch {
	case since <= responseWindow:
	case cfg.Messenger.HumanAgent && since <= humanAgentWindow:
		out.MessagingType, out.Tag = "MESSAGE_TAG", "HUMAN_AGENT"
	default:
		rec := &Record{Time: now, Direction: Outbound, Kind: "reply", Page: conv.Page, Guest: conv.Guest,
			XMPPID: m.ID, Operator: operator, State: StateFailed, Error: "outside messaging window"}
		if _, err := tx.Ledger().Add(rec); err != nil {
			return "", err
		}
		return "Not delivered: " + reasonWindow, nil
	}
	if err := b.expireIdle(tx, cfg, conv, now); err != nil {
		return "", err
	}
	if refusal, err := b.claim(tx, cfg, conv, sender); err != nil || refusal != "" {
		return refusal, err
	}
	session, err := b.humanReplied(tx, cfg, conv, operator, now, false)
	if err != nil {
		return "", err
	}
	conv.LastActivity = now
	if err := putConversation(tx, conv); err != nil {
		return "", err
	}
	if a := outgoingAttachment(body, m.OOB); a != nil {
		rec := &Record{Time: now, Direction: Outbound, Kind: "attachment", Page: conv.Page, Guest: conv.Guest,
			Operator: operator, State: StateQueued, XMPPID: m.ID}
		if cfg.Privacy.Transcripts {
			rec.Text = a.URL
		}
		key, err := tx.Ledger().Add(rec)
		if err != nil {
			return "", err
		}
		msg := out
		msg.Attachment = a
		msg.Metadata = metadataPrefix + encodeKey(key)
		return "", b.fq.enqueue(tx, conv.PSID, &fbEntry{Page: conv.Page, Msg: msg, Ledger: key, Notify: m.From.String(), Patron: m.To.String(),
			Queued: now, Session: session})
	}
	parts := messenger.SplitText(body)
	for i, part := range parts {
		rec := &Record{Time: now, Direction: Outbound, Kind: "reply", Page: conv.Page, Guest: conv.Guest,
			Operator: operator, State: StateQueued}
		if i == 0 {
			rec.XMPPID = m.ID
		}
		if cfg.Privacy.Transcripts {
			rec.Text = part
		}
		key, err := tx.Ledger().Add(rec)
		if err != nil {
			return "", err
		}
		msg := out
		msg.Text = part
		msg.Metadata = metadataPrefix + encodeKey(key)
		e := &fbEntry{Page: conv.Page, Msg: msg, Ledger: key, Notify: m.From.String(), Patron: m.To.String(), Queued: now}
		if i == len(parts)-1 {
			// One librarian message is one reply, however many parts:
			// its last part's outcome is the reply's.
			e.Session = session
		}
		if i == len(parts)-1 && (m.ReceiptRequest || m.Markable) {
			e.ReceiptID, e.Receipt, e.Markable = m.ID, m.ReceiptRequest, m.Markable
		}
		if err := b.fq.enqueue(tx, conv.PSID, e); err != nil {
			return "", err
		}
	}
	return "", nil
}

// tell queues a notice from the patron's JID to the librarian, so it shows
// in the same chat window but never reaches the patron.
func (b *Bridge) tell(m xmpp.Message, text string) {
	notice := xmpp.Message{ID: randomID("ab-"), From: m.To, To: m.From, Type: "chat", Body: bridgeSays(text)}
	err := b.store.update(func(tx *store.Tx) error { return b.enqueueXMPP(tx, notice, nil) })
	if err != nil {
		b.log.Error("queueing a notice", zap.Error(err))
		return
	}
	signal(b.xmppReady)
}
