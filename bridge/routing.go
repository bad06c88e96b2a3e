package bridge

import (
	"slices"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// Routing decides who sees a conversation.
//
//   - queue: everything goes to the Page's queue (xmpp.queue or the Page's
//     own), or to the librarian who claimed the conversation by answering.
//   - broadcast: a new conversation is offered to every operator who is
//     available (available or chat, not away, xa or dnd); the first to
//     answer claims it and the others are told. With nobody available, the
//     patron's messages are held and offered when an operator comes online.

// heldMax bounds how many messages a conversation holds while nobody is
// available.
const heldMax = 50

// hold keeps a message of c for operators who are not available yet.
func hold(c *Conversation, m xmpp.Message) {
	c.Held = append(c.Held, m)
	if len(c.Held) > heldMax {
		c.Held = c.Held[len(c.Held)-heldMax:]
	}
}

// targets returns who gets the conversation's next stanza.
func (b *Bridge) targets(cfg *config.Config, conv *Conversation) []jid.JID {
	if conv.Owner != "" {
		return []jid.JID{parseJID(conv.Owner)}
	}
	if cfg.XMPP.Routing != "broadcast" {
		return []jid.JID{parseJID(cfg.QueueFor(conv.Page))}
	}
	avail := b.presence.available(cfg.XMPP.Operators)
	for _, op := range avail {
		if !listed(conv.Offered, op) {
			conv.Offered = append(conv.Offered, op.String())
		}
	}
	return avail
}

// claim makes the first librarian who answers the conversation's owner. In
// broadcast routing the others who were offered it are told; a reply from
// someone else once it is claimed is refused with a notice.
func (b *Bridge) claim(tx *store.Tx, cfg *config.Config, conv *Conversation, sender jid.JID) (refusal string, err error) {
	if conv.Owner != "" {
		return b.ownedByOther(cfg, conv, sender), nil
	}
	if parseJID(cfg.QueueFor(conv.Page)).Equal(sender) {
		return "", nil
	}
	conv.Owner = sender.String()
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	for _, op := range conv.Offered {
		to := parseJID(op)
		if to.Equal(sender) {
			continue
		}
		note := xmpp.Message{ID: randomID("ab-"), From: patron, To: to, Type: "chat", NoStore: true,
			Body: "[answered by " + sender.String() + "] You no longer need to answer " + nickOf(conv) + "."}
		if err := b.enqueueXMPP(tx, note, nil); err != nil {
			return "", err
		}
	}
	conv.Offered, conv.Held = nil, nil
	return "", nil
}

// ownedByOther returns a refusal when, in broadcast routing, another
// operator owns the conversation; "" otherwise.
func (b *Bridge) ownedByOther(cfg *config.Config, conv *Conversation, sender jid.JID) string {
	if cfg.XMPP.Routing != "broadcast" || conv.Owner == "" || parseJID(conv.Owner).Equal(sender) {
		return ""
	}
	return "Not sent: " + conv.Owner + " is answering this patron. Ask them to !transfer the conversation to you."
}

// presenceTable tracks which operators are available, from the presence
// their servers send to the component. It is rebuilt after each reconnect.
type presenceTable struct {
	mu  sync.Mutex
	res map[string]map[string]string // bare JID (as a string) → resource → show
}

func newPresenceTable() *presenceTable {
	return &presenceTable{res: map[string]map[string]string{}}
}

// update records a presence from full; it reports whether its bare JID
// went from unavailable to available.
func (t *presenceTable) update(full jid.JID, typ, show string) (bare jid.JID, cameOnline bool) {
	bare = full.Bare()
	key, resource := bare.String(), full.Resourcepart()
	t.mu.Lock()
	defer t.mu.Unlock()
	before := t.availableLocked(key)
	switch typ {
	case "":
		if t.res[key] == nil {
			t.res[key] = map[string]string{}
		}
		t.res[key][resource] = show
	case "unavailable", "error":
		delete(t.res[key], resource)
		if typ == "error" || len(t.res[key]) == 0 {
			delete(t.res, key)
		}
	}
	return bare, !before && t.availableLocked(key)
}

func (t *presenceTable) availableLocked(bare string) bool {
	for _, show := range t.res[bare] {
		if show == "" || show == "chat" {
			return true
		}
	}
	return false
}

// available lists the operators (exact JIDs of xmpp.operators) who are
// available, sorted.
func (t *presenceTable) available(operators []string) []jid.JID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []jid.JID
	for _, op := range operators {
		if strings.HasPrefix(op, "*@") {
			continue
		}
		if j := parseJID(op); t.availableLocked(j.String()) {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// reset forgets everything (the link went down).
func (t *presenceTable) reset() {
	t.mu.Lock()
	t.res = map[string]map[string]string{}
	t.mu.Unlock()
}
