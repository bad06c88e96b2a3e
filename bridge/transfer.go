package bridge

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// recentShown bounds how many recent messages a transfer shows the new
// owner (when transcripts are kept).
const recentShown = 10

// transfer hands the conversation to another queue or operator: the
// patron's next messages go there, the session counts a transfer, and the
// new owner gets a summary (and the recent messages, if transcripts are
// kept) from the patron's JID so it shows in the right chat. sender is
// the bare JID of by, the full JID the command came from.
func (b *Bridge) transfer(tx *store.Tx, cfg *config.Config, conv *Conversation, sender, by jid.JID, target string) (string, error) {
	to, err := jid.Parse(strings.TrimSpace(target))
	if err != nil || to.Localpart() == "" {
		return fmt.Sprintf("%q is not a JID such as ya@chat.library.example.org.", target), nil
	}
	to = to.Bare()
	if !mayAnswer(cfg, to, conv.Page) {
		return "Cannot transfer to " + to.String() + ": only the queue and the operators in xmpp.operators can answer patrons.", nil
	}
	s, key, err := getSession(tx, conv.Session)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "No open session to transfer; it starts again when the patron writes.", nil
	}
	s.Transfers++
	if err := putSession(tx, key, s); err != nil {
		return "", err
	}
	prev := conv.Owner
	if parseJID(cfg.QueueFor(conv.Page)).Equal(to) {
		conv.Owner = ""
	} else {
		conv.Owner = to.String()
	}
	conv.LastActivity = b.now()
	summary, err := b.transferSummary(tx, cfg, conv, s.Started, s.MessagesIn, s.MessagesOut, s.ReadLevel, s.Tags, sender)
	if err != nil {
		return "", err
	}
	msg := xmpp.Message{ID: randomID("ab-"), From: patronJID(conv.PSID, cfg.XMPP.Domain), To: to, Type: "chat",
		Body: summary, Nick: nickOf(conv)}
	if err := b.enqueueXMPP(tx, msg, nil); err != nil {
		return "", err
	}
	conv.Transfer = &PendingTransfer{ID: msg.ID, To: to.String(), By: by.String(), Prev: prev}
	return "Transferred to " + to.String() + " (you will be told here if " + to.String() + " cannot be reached).", nil
}

// transferBounced undoes a transfer whose summary the Jabber server
// refused for good (no such address, or nobody allowed to receive it):
// the conversation goes back to whom it was with, the librarian who typed
// !transfer is told why, and the session counts no transfer. It reports
// whether the bounce was that summary's.
func (b *Bridge) transferBounced(tx *store.Tx, cfg *config.Config, conv *Conversation, bounce xmpp.Bounce) (bool, error) {
	t := conv.Transfer
	if t == nil || t.ID != bounce.ID {
		return false, nil
	}
	conv.Transfer = nil
	conv.Owner = t.Prev
	if s, key, err := getSession(tx, conv.Session); err != nil {
		return true, err
	} else if s != nil && s.Transfers > 0 {
		s.Transfers--
		if err := putSession(tx, key, s); err != nil {
			return true, err
		}
	}
	why := bounce.Error.Condition
	if bounce.Error.Text != "" {
		why += ": " + bounce.Error.Text
	}
	stays := "with you"
	if t.Prev == "" {
		stays = "in its queue"
	} else if prev := parseJID(t.Prev).Bare(); !prev.Equal(parseJID(t.By).Bare()) {
		stays = "with " + prev.String()
	}
	notice := xmpp.Message{ID: randomID("ab-"), From: patronJID(conv.PSID, cfg.XMPP.Domain), To: parseJID(t.By), Type: "chat",
		Body: bridgeSays("Transfer to " + t.To + " failed (" + why + "); the conversation stays " + stays + ".")}
	return true, errors.Join(b.enqueueXMPP(tx, notice, nil), putConversation(tx, conv))
}

func (b *Bridge) transferSummary(tx *store.Tx, cfg *config.Config, conv *Conversation, started time.Time,
	in, out, read int, tags []string, sender jid.JID) (string, error) {
	loc := location(cfg)
	var sb strings.Builder
	fmt.Fprintf(&sb, "[transferred to you by %s] %s, session started %s (%s ago): %d message(s) from the patron, %d reply(ies).",
		sender, nickOf(conv), started.In(loc).Format("15:04"), humanDuration(b.now().Sub(started)), in, out)
	if read > 0 {
		fmt.Fprintf(&sb, " READ %d.", read)
	}
	if len(tags) > 0 {
		fmt.Fprintf(&sb, " Tags: %s.", strings.Join(tags, ", "))
	}
	if !cfg.Privacy.Transcripts {
		sb.WriteString(" (Transcripts are off: ask the patron to repeat what you need.)")
		return sb.String(), nil
	}
	var lines []string
	err := tx.Ledger().Scan(started, time.Time{}, func(_ []byte, r *Record) (bool, error) {
		if r.Guest != conv.Guest || r.Text == "" {
			return true, nil
		}
		who := "patron"
		if r.Direction == Outbound {
			who = r.Operator
			if who == "" {
				who = "automatic"
			}
		}
		lines = append(lines, who+": "+r.Text)
		return true, nil
	})
	if err != nil {
		return "", err
	}
	if len(lines) > recentShown {
		lines = lines[len(lines)-recentShown:]
	}
	if len(lines) > 0 {
		sb.WriteString("\nRecent messages:\n" + strings.Join(lines, "\n"))
	}
	return sb.String(), nil
}
