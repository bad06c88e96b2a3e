package bridge

import (
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"
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
	err := b.store.update(func(tx *bolt.Tx) error {
		moved = 0
		psids, err := openPSIDs(tx)
		if err != nil {
			return err
		}
		for _, psid := range psids {
			conv, err := getConversation(tx, psid)
			if err != nil {
				return err
			}
			if conv == nil {
				continue
			}
			changed, err := b.releaseConversation(tx, cfg, conv)
			if err != nil {
				return fmt.Errorf("handing back %s's conversation: %w", conv.nick(), err)
			}
			if changed {
				moved++
				if err := putConversation(tx, conv); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if moved > 0 {
		signal(b.xmppReady)
	}
	return moved, err
}

// releaseConversation applies the rule to one conversation; it reports
// whether conv changed.
func (b *Bridge) releaseConversation(tx *bolt.Tx, cfg *config.Config, conv *Conversation) (bool, error) {
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	gone := func(to string) error {
		return enqueuePresence(tx, xmpp.Presence{From: patron, To: to, Type: "unavailable"})
	}
	changed := false
	offered := conv.Offered[:0:0]
	for _, op := range conv.Offered {
		if mayAnswer(cfg, bareJID(op), conv.Page) {
			offered = append(offered, op)
			continue
		}
		changed = true
		if err := gone(op); err != nil {
			return false, err
		}
	}
	conv.Offered = offered
	former := conv.Owner
	if former == "" || mayAnswer(cfg, bareJID(former), conv.Page) {
		return changed, nil
	}
	conv.Owner = ""
	if !containsFold(offered, former) {
		if err := gone(former); err != nil {
			return false, err
		}
	}
	for _, to := range b.targets(cfg, conv) {
		if err := enqueuePresence(tx, xmpp.Presence{From: patron, To: to, Nick: conv.nick(), Status: channelName(conv.PSID)}); err != nil {
			return false, err
		}
		note := xmpp.Message{ID: randomID("ab-"), From: patron, To: to, Type: "chat",
			Body: "[" + conv.nick() + " was being answered by " + former + ", who may no longer answer patrons; reply to answer]"}
		if err := b.enqueueXMPP(tx, note, nil); err != nil {
			return false, err
		}
	}
	b.log.Info("conversation handed back: its librarian may no longer answer patrons",
		zap.String("former", former), zap.String("guest", conv.Guest),
		zap.String("to", strings.Join(b.targets(cfg, conv), ",")))
	return true, nil
}
