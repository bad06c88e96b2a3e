package bridge

import (
	"context"
	"slices"
	"strings"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// A patron's contact is available, with an XEP-0172 nickname made from the
// pseudonym, while a session is open, and unavailable afterwards. The
// presence goes to whoever sees the conversation, through the durable XMPP
// outbox so it keeps its place among the messages.

// announce sends the patron's available presence when a session opens.
func (b *Bridge) announce(tx *store.Tx, cfg *config.Config, conv *Conversation) error {
	for _, to := range b.presenceTargets(cfg, conv) {
		p := xmpp.Presence{From: patronJID(conv.PSID, cfg.XMPP.Domain), To: to, Nick: nickOf(conv), Status: channelName(conv.PSID)}
		if err := b.enqueuePresence(tx, p); err != nil {
			return err
		}
	}
	return nil
}

// farewell sends the patron's unavailable presence when a session ends.
func (b *Bridge) farewell(tx *store.Tx, cfg *config.Config, conv *Conversation) error {
	for _, to := range b.presenceTargets(cfg, conv) {
		p := xmpp.Presence{From: patronJID(conv.PSID, cfg.XMPP.Domain), To: to, Type: "unavailable"}
		if err := b.enqueuePresence(tx, p); err != nil {
			return err
		}
	}
	return nil
}

// presenceTargets returns who sees the patron's presence: whoever sees
// the conversation, each once.
func (b *Bridge) presenceTargets(cfg *config.Config, conv *Conversation) []jid.JID {
	var out []jid.JID
	add := func(j jid.JID) {
		if j.Domainpart() != "" && !slices.ContainsFunc(out, j.Equal) {
			out = append(out, j)
		}
	}
	add(parseJID(conv.Owner))
	if cfg.XMPP.Routing == "broadcast" {
		for _, op := range conv.Offered {
			add(parseJID(op))
		}
		for _, op := range b.presence.available(cfg.XMPP.Operators) {
			add(op)
		}
	} else {
		add(parseJID(cfg.QueueFor(conv.Page)))
	}
	return out
}

// HandlePresence answers presence sent to the component or to a patron's
// JID: operators' subscription requests are approved, probes answered,
// and operators' availability tracked for broadcast routing (an operator
// coming online is offered the conversations waiting for one).
func (b *Bridge) HandlePresence(ctx context.Context, p xmpp.Presence) {
	cfg := b.config()
	sender := p.From.Bare()
	allowed := mayAnswer(cfg, sender, "")
	psid := p.To.Localpart()
	send := func(q xmpp.Presence) {
		link := b.link.Load()
		if link == nil {
			return
		}
		if err := (*link).SendPresence(q); err != nil {
			b.log.Debug("presence not sent", zap.Error(err))
		}
	}
	from := p.To
	if psid == "" {
		from = p.To.Domain()
	}
	switch p.Type {
	case "subscribe":
		if !allowed {
			send(xmpp.Presence{From: from, To: sender, Type: "unsubscribed"})
			return
		}
		send(xmpp.Presence{From: from, To: sender, Type: "subscribed"})
		send(b.currentPresence(cfg, from, psid, sender))
	case "probe":
		// Each new resource of a subscribed operator probes from its full JID.
		if allowed {
			send(b.currentPresence(cfg, from, psid, p.From))
		} else {
			send(xmpp.Presence{From: from, To: p.From, Type: "unsubscribed"})
		}
	case "", "unavailable", "error":
		if psid != "" || !allowed || cfg.XMPP.Routing != "broadcast" {
			return // directed presence to a patron, not an operator, or not needed
		}
		bare, online := b.presence.update(p.From, p.Type, p.Show)
		if online && cfg.XMPP.Routing == "broadcast" {
			if err := b.offerWaiting(cfg, bare); err != nil {
				b.log.Error("offering waiting conversations", zap.Error(err))
			}
		}
	}
}

// currentPresence is the presence of the component or of a patron now.
func (b *Bridge) currentPresence(cfg *config.Config, from jid.JID, psid string, to jid.JID) xmpp.Presence {
	if psid == "" {
		return xmpp.Presence{From: from, To: to, Nick: "askbridge", Status: "Facebook Messenger bridge"}
	}
	conv, err := b.store.Conversation(psid)
	if err != nil || conv == nil || conv.Session == "" {
		return xmpp.Presence{From: from, To: to, Type: "unavailable"}
	}
	return xmpp.Presence{From: from, To: to, Nick: nickOf(conv), Status: channelName(conv.PSID)}
}

// reannounce sends the available presence of every open session again
// after a reconnect: the Jabber server keeps none for a component.
func (b *Bridge) reannounce() error {
	cfg := b.config()
	err := b.store.update(func(tx *store.Tx) error {
		return eachOpenConversation(tx, func(conv *Conversation) error {
			if conv.Session == "" {
				return nil
			}
			return b.announce(tx, cfg, conv)
		})
	})
	signal(b.xmppReady)
	return err
}

// subscribeOperators asks each operator named in xmpp.operators for their
// presence, as the link comes up in broadcast routing.
func (b *Bridge) subscribeOperators(link Link) {
	cfg := b.config()
	if cfg.XMPP.Routing != "broadcast" {
		return
	}
	domain := parseJID(cfg.XMPP.Domain)
	for _, op := range cfg.XMPP.Operators {
		if strings.HasPrefix(op, "*@") {
			continue
		}
		// Probe first: a probe to an operator who has not approved yet is
		// answered "unsubscribed", which would cancel a subscription
		// request sent before it.
		for _, typ := range []string{"probe", "subscribe"} {
			p := xmpp.Presence{From: domain, To: parseJID(op), Type: typ}
			if typ == "subscribe" {
				p.Nick = "askbridge"
			}
			if err := link.SendPresence(p); err != nil {
				b.log.Debug("presence not sent", zap.Error(err))
			}
		}
	}
}

// offerWaiting offers each open conversation nobody has claimed to an
// operator who just came online: the held messages (or a short note).
func (b *Bridge) offerWaiting(cfg *config.Config, op jid.JID) error {
	err := b.store.update(func(tx *store.Tx) error {
		return eachOpenConversation(tx, func(conv *Conversation) error {
			if conv.Owner != "" || listed(conv.Offered, op) {
				return nil
			}
			conv.Offered = append(conv.Offered, op.String())
			conv.LastActivity = b.now() // the idle timer starts now that someone saw it
			patron := patronJID(conv.PSID, cfg.XMPP.Domain)
			if err := b.enqueuePresence(tx, xmpp.Presence{From: patron, To: op, Nick: nickOf(conv), Status: channelName(conv.PSID)}); err != nil {
				return err
			}
			held := conv.Held
			if len(held) == 0 {
				held = []xmpp.Message{{Type: "chat", Body: "[" + nickOf(conv) + " is waiting for a librarian; reply to answer]"}}
			}
			for _, m := range held {
				m.From, m.To, m.ID = patron, op, randomID("fb-")
				if err := b.enqueueXMPP(tx, m, nil); err != nil {
					return err
				}
			}
			// Delivered to someone: operators who come later get the note.
			conv.Held = nil
			return putConversation(tx, conv)
		})
	})
	signal(b.xmppReady)
	return err
}
