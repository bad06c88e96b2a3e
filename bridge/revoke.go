package bridge

import (
	"bytes"
	"fmt"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// A librarian removed from xmpp.operators (or a queue no longer
// configured) must stop receiving patrons at once, also for the
// conversations they had claimed: when the configuration changes, and at
// start for changes made while the daemon was stopped, such conversations
// go back to their queue — in broadcast routing, to the operators who are
// available — whose librarians are told where the conversation comes
// from. The former owner's client sees the patron go offline.

// releaseRevoked hands back every open conversation owned by, or offered
// to, someone cfg no longer allows to answer its patrons. It returns how
// many conversations changed hands.
func (b *Bridge) releaseRevoked(cfg *config.Config) (int, error) {
	moved := 0
	err := b.store.update(func(tx *store.Tx) error {
		moved = 0
		stale, err := staleEntries(tx, cfg)
		if err != nil {
			return err
		}
		return eachOpenConversation(tx, func(conv *Conversation) error {
			changed, err := b.releaseConversation(tx, cfg, conv, stale[conv.PSID])
			if err != nil {
				return fmt.Errorf("handing back %s's conversation: %w", nickOf(conv), err)
			}
			if !changed {
				return nil
			}
			moved++
			return putConversation(tx, conv)
		})
	})
	if moved > 0 {
		signal(b.xmppReady)
	}
	return moved, err
}

// releaseConversation applies the rule to one conversation; it reports
// whether conv changed.
func (b *Bridge) releaseConversation(tx *store.Tx, cfg *config.Config, conv *Conversation, queued []queuedEntry) (bool, error) {
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	var revoked []string
	offered := conv.Offered[:0:0]
	for _, op := range conv.Offered {
		if mayAnswer(cfg, parseJID(op), conv.Page) {
			offered = append(offered, op)
		} else {
			revoked = append(revoked, op)
		}
	}
	conv.Offered = offered
	former := conv.Owner
	handBack := former != "" && !mayAnswer(cfg, parseJID(former), conv.Page)
	if handBack {
		conv.Owner = ""
		if !listed(revoked, parseJID(former)) {
			revoked = append(revoked, former)
		}
	}
	// What waits in the outbox for those who may no longer answer goes
	// to those who do now; then they are told.
	moved, err := b.retargetQueued(tx, cfg, conv, queued)
	if err != nil {
		return false, err
	}
	for _, to := range revoked {
		if err := b.enqueuePresence(tx, xmpp.Presence{From: patron, To: parseJID(to), Type: "unavailable"}); err != nil {
			return false, err
		}
	}
	if !handBack {
		return moved || len(revoked) > 0, nil
	}
	for _, to := range b.targets(cfg, conv) {
		if err := b.enqueuePresence(tx, xmpp.Presence{From: patron, To: to, Nick: nickOf(conv), Status: channelName(conv.PSID)}); err != nil {
			return false, err
		}
		note := xmpp.Message{ID: randomID("ab-"), From: patron, To: to, Type: "chat",
			Body: "[" + nickOf(conv) + " was being answered by " + former + ", who may no longer answer patrons; reply to answer]"}
		if err := b.enqueueXMPP(tx, note, nil); err != nil {
			return false, err
		}
	}
	b.log.Info("conversation handed back: its librarian may no longer answer patrons",
		zap.String("former", former), zap.String("guest", conv.Guest),
		zap.Stringers("to", b.targets(cfg, conv)))
	return true, nil
}

// queuedEntry is an XMPP outbox entry and its key.
type queuedEntry struct {
	k []byte
	e xmppEntry
}

// staleEntries returns, by patron, the XMPP outbox entries from a patron's
// JID to an address cfg lets answer no Page's patrons: one walk over the
// outbox for all conversations.
func staleEntries(tx *store.Tx, cfg *config.Config) (map[string][]queuedEntry, error) {
	stale := map[string][]queuedEntry{}
	err := tx.XMPPOutbox().Scan(func(k []byte, e *xmppEntry, err error) (bool, error) {
		if err != nil {
			return true, nil // the writer deals with an entry it cannot read
		}
		to, from := e.Msg.To, e.Msg.From
		if e.Presence != nil {
			to, from = e.Presence.To, e.Presence.From
		}
		if psid := from.Localpart(); psid != "" && !mayAnswer(cfg, to, "") {
			stale[psid] = append(stale[psid], queuedEntry{bytes.Clone(k), *e})
		}
		return true, nil
	})
	return stale, err
}

// retargetQueued sends the patron's messages still waiting in the XMPP
// outbox for someone cfg no longer allows to answer (queued, from
// staleEntries) to whoever answers the conversation now (its owner, its
// queue, or in broadcast routing the available operators; held for an
// operator when none is), and drops the presence waiting for them. It
// reports whether anything changed.
func (b *Bridge) retargetQueued(tx *store.Tx, cfg *config.Config, conv *Conversation, queued []queuedEntry) (bool, error) {
	if len(queued) == 0 {
		return false, nil
	}
	out := tx.XMPPOutbox()
	b.xq.changed(tx)
	targets := b.targets(cfg, conv)
	for _, f := range queued {
		if f.e.Presence != nil || len(targets) == 0 {
			if err := out.Remove(f.k); err != nil {
				return false, err
			}
			if f.e.Presence == nil && f.e.Msg.Body != "" {
				conv.Held = append(conv.Held, f.e.Msg)
			}
			continue
		}
		// The first target takes the entry's place, keeping its order;
		// any other operator gets a copy at the end.
		for i, to := range targets {
			e := f.e
			e.Msg.To = to
			if i == 0 {
				if err := out.Put(f.k, &e); err != nil {
					return false, err
				}
				continue
			}
			e.Msg.ID = randomID("fb-")
			if err := b.xq.enqueue(tx, e); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}
