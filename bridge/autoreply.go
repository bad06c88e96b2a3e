package bridge

import (
	"strings"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// Kinds of automatic reply, as the ledger records them.
const (
	autoGreeting   = "greeting"
	autoAfterHours = "after_hours"
	autoNoOperator = "no_operator"
	autoUnanswered = "unanswered"
)

// noOperatorReply is sent, in broadcast routing, when no operator is
// available and no after-hours reply is configured.
const noOperatorReply = "No librarian is available right now. We will answer here as soon as one is."

// welcome sends the after-hours reply to a session opened outside office
// hours (or, in broadcast routing, when no operator is available), or else
// the greeting, when configured.
func (b *Bridge) welcome(tx *store.Tx, cfg *config.Config, conv *Conversation, at time.Time, nobody bool) error {
	s := cfg.Sessions
	// After these two, the patron already knows nobody will answer soon:
	// no "unanswered" reply follows in this session.
	if s.AfterHoursReply != "" && !b.officeHours(cfg).Open(at, location(cfg)) {
		conv.Unanswered = conv.Session
		return b.queueAuto(tx, cfg, conv, s.AfterHoursReply, autoAfterHours)
	}
	if nobody {
		text := s.AfterHoursReply
		if text == "" {
			text = noOperatorReply
		}
		conv.Unanswered = conv.Session
		return b.queueAuto(tx, cfg, conv, text, autoNoOperator)
	}
	if s.Greeting != "" {
		return b.queueAuto(tx, cfg, conv, s.Greeting, autoGreeting)
	}
	return nil
}

// autoLabel starts every automatic reply the patron reads, unless
// sessions.disclose_automatic is turned off: Meta requires bots to say
// they are automated where the law does (California, the EU), and patrons
// should not mistake a greeting for a librarian.
const autoLabel = "(Automatic reply) "

// disclosed is the automatic reply's text as the patron reads it.
func disclosed(cfg *config.Config, text string) string {
	if !cfg.Sessions.DiscloseAutomatic || strings.HasPrefix(text, autoLabel) {
		return text
	}
	return autoLabel + text
}

// queueAuto sends an automatic reply to the patron and shows it to the
// librarians, marked as automatic. Automatic replies are counted apart from
// human ones and never use the HUMAN_AGENT tag.
func (b *Bridge) queueAuto(tx *store.Tx, cfg *config.Config, conv *Conversation, text, kind string) error {
	now := b.now()
	if now.Sub(conv.LastPatron) > responseWindow {
		return nil // Facebook would refuse it, and no human asked for it
	}
	targets := b.targets(cfg, conv)
	to := parseJID(cfg.QueueFor(conv.Page))
	if len(targets) > 0 {
		to = targets[0]
	}
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	for _, part := range messenger.SplitText(disclosed(cfg, text)) {
		rec := &Record{Time: now, Direction: Outbound, Kind: "auto_" + kind, Page: conv.Page, Guest: conv.Guest, State: StateQueued}
		if cfg.Privacy.Transcripts {
			rec.Text = part
		}
		key, err := tx.Ledger().Add(rec)
		if err != nil {
			return err
		}
		msg := messenger.OutgoingMessage{Recipient: recipientOf(conv.PSID), MessagingType: messenger.MessagingTypeResponse,
			Text: part, Metadata: metadataPrefix + encodeKey(key)}
		if err := b.fq.enqueue(tx, conv.PSID, &fbEntry{Page: conv.Page, Msg: msg, Ledger: key, Notify: to.String(), Patron: patron.String(), Queued: now}); err != nil {
			return err
		}
	}
	shown := xmpp.Message{ID: randomID("ab-"), From: patron, Type: "chat", Body: "[automatic reply sent to the patron] " + text}
	if len(targets) == 0 {
		hold(conv, shown)
	}
	for _, to := range targets {
		shown.To = to
		shown.ID = randomID("ab-")
		if err := b.enqueueXMPP(tx, shown, nil); err != nil {
			return err
		}
	}
	return countAuto(tx, conv)
}
