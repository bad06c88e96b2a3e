package bridge

import (
	"slices"
	"sort"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/xmpp"
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

// hold keeps a message for operators who are not available yet.
func (c *Conversation) hold(m xmpp.Message) {
	c.Held = append(c.Held, m)
	if len(c.Held) > heldMax {
		c.Held = c.Held[len(c.Held)-heldMax:]
	}
}

// targets returns who gets the conversation's next stanza.
func (b *Bridge) targets(cfg *config.Config, conv *Conversation) []string {
	if conv.Owner != "" {
		return []string{conv.Owner}
	}
	if cfg.XMPP.Routing != "broadcast" {
		return []string{cfg.QueueFor(conv.Page)}
	}
	avail := b.presence.available(cfg.XMPP.Operators)
	for _, op := range avail {
		if !slices.Contains(conv.Offered, op) {
			conv.Offered = append(conv.Offered, op)
		}
	}
	return avail
}

// claim makes the first librarian who answers the conversation's owner. In
// broadcast routing the others who were offered it are told; a reply from
// someone else once it is claimed is refused with a notice.
func (b *Bridge) claim(tx *bolt.Tx, cfg *config.Config, conv *Conversation, sender string) (refusal string, err error) {
	queue := cfg.QueueFor(conv.Page)
	if conv.Owner != "" {
		return b.ownedByOther(cfg, conv, sender), nil
	}
	if strings.EqualFold(sender, queue) {
		return "", nil
	}
	conv.Owner = sender
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	for _, op := range conv.Offered {
		if strings.EqualFold(op, sender) {
			continue
		}
		note := xmpp.Message{ID: randomID("ab-"), From: patron, To: op, Type: "chat", NoStore: true,
			Body: "[answered by " + sender + "] You no longer need to answer " + conv.nick() + "."}
		if err := b.enqueueXMPP(tx, note, nil); err != nil {
			return "", err
		}
	}
	conv.Offered, conv.Held = nil, nil
	return "", nil
}

// ownedByOther returns a refusal when, in broadcast routing, another
// operator owns the conversation; "" otherwise.
func (b *Bridge) ownedByOther(cfg *config.Config, conv *Conversation, sender string) string {
	if cfg.XMPP.Routing != "broadcast" || conv.Owner == "" || strings.EqualFold(conv.Owner, sender) {
		return ""
	}
	return "Not sent: " + conv.Owner + " is answering this patron. Ask them to !transfer the conversation to you."
}

// presenceTable tracks which operators are available, from the presence
// their servers send to the component. It is rebuilt after each reconnect.
type presenceTable struct {
	mu  sync.Mutex
	res map[string]map[string]string // bare JID → resource → show
}

func newPresenceTable() *presenceTable {
	return &presenceTable{res: map[string]map[string]string{}}
}

// update records a presence; it reports whether the bare JID went from
// unavailable to available.
func (t *presenceTable) update(full, typ, show string) (bare string, cameOnline bool) {
	bare, resource := bareJID(full), resourcepart(full)
	t.mu.Lock()
	defer t.mu.Unlock()
	before := t.availableLocked(bare)
	switch typ {
	case "":
		if t.res[bare] == nil {
			t.res[bare] = map[string]string{}
		}
		t.res[bare][resource] = show
	case "unavailable", "error":
		delete(t.res[bare], resource)
		if typ == "error" || len(t.res[bare]) == 0 {
			delete(t.res, bare)
		}
	}
	return bare, !before && t.availableLocked(bare)
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
func (t *presenceTable) available(operators []string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, op := range operators {
		if !strings.HasPrefix(op, "*@") && t.availableLocked(strings.ToLower(op)) {
			out = append(out, strings.ToLower(op))
		}
	}
	sort.Strings(out)
	return out
}

// reset forgets everything (the link went down).
func (t *presenceTable) reset() {
	t.mu.Lock()
	t.res = map[string]map[string]string{}
	t.mu.Unlock()
}
