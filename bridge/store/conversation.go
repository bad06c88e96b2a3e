package store

import (
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// Conversation is what the bridge keeps about one patron of one Page:
// enough to reply (the PSID is the key) and to route.
type Conversation struct {
	Page  string `json:"page"`
	PSID  string `json:"psid"`
	Guest string `json:"guest"`
	// LastPatron is the time of the patron's last message; Facebook allows
	// replies within 24 hours of it (7 days with the HUMAN_AGENT tag).
	LastPatron time.Time `json:"last_patron"`
	// LastActivity is the last message either way.
	LastActivity time.Time `json:"last_activity"`
	// Owner is the bare JID of the librarian who claimed the conversation
	// by answering first; empty while it waits in the queue.
	Owner string `json:"owner,omitempty"`
	// Session is the ID of the open session, empty between sessions;
	// LastSession is the latest one, open or not, which a follow-up or a
	// late answer reopens; Recent lists the latest sessions, oldest first,
	// LastSession last, for in-chat commands that classify a session
	// after it ended.
	Session     string   `json:"session,omitempty"`
	LastSession string   `json:"last_session,omitempty"`
	Recent      []string `json:"recent,omitempty"`
	// Unanswered is the session the unanswered reply was sent in.
	Unanswered string `json:"unanswered,omitempty"`
	// Offered lists the operators a conversation nobody has claimed was
	// offered to (broadcast routing); Held keeps its messages while no
	// operator is available.
	Offered []string       `json:"offered,omitempty"`
	Held    []xmpp.Message `json:"held,omitempty"`
	// Awaiting lists replies whose delivery or reading a librarian's
	// client asked to be told about.
	Awaiting []Awaited `json:"awaiting,omitempty"`
	// Transfer is the latest !transfer, until its summary is known to
	// have bounced (the conversation then goes back) or another replaces
	// it.
	Transfer *PendingTransfer `json:"transfer,omitempty"`
}

// PendingTransfer is a !transfer whose summary may still bounce.
type PendingTransfer struct {
	// ID is the summary stanza's id; To the address it went to.
	ID string `json:"id"`
	To string `json:"to"`
	// By is the full JID of the librarian who typed it; Prev the owner
	// before ("" for the queue).
	By   string `json:"by"`
	Prev string `json:"prev,omitempty"`
}

// recentSessions bounds Conversation.Recent.
const recentSessions = 8

// Remember makes id the conversation's latest session.
func (c *Conversation) Remember(id string) {
	if len(c.Recent) == 0 && c.LastSession != "" {
		c.Recent = []string{c.LastSession} // written before Recent existed
	}
	c.LastSession = id
	c.Recent = append(c.Recent, id)
	if len(c.Recent) > recentSessions {
		c.Recent = c.Recent[len(c.Recent)-recentSessions:]
	}
}

// LatestSessions lists the conversation's latest sessions, newest first.
func (c *Conversation) LatestSessions() []string {
	ids := slices.Clone(c.Recent)
	if len(ids) == 0 && c.LastSession != "" {
		ids = []string{c.LastSession} // written before Recent existed
	}
	slices.Reverse(ids)
	return ids
}

// Awaited is a reply whose delivery or reading the librarian wants to know.
type Awaited struct {
	MID       messenger.MID `json:"mid"`
	XMPPID    string        `json:"xid"`
	To        string        `json:"to"`
	At        time.Time     `json:"at"`
	Receipt   bool          `json:"receipt,omitempty"`
	Markable  bool          `json:"markable,omitempty"`
	Delivered bool          `json:"delivered,omitempty"`
}

// Conversations is the conversations bucket (BucketConversations, keyed
// by the patron's key) within one transaction. A conversation is sealed
// while it holds messages, plain otherwise. Its methods write only
// in a writable transaction.
type Conversations struct {
	b *bolt.Bucket
}

// Get reads the patron's conversation; nil if there is none.
func (cs Conversations) Get(patron string) (*Conversation, error) {
	v := cs.b.Get([]byte(patron))
	if v == nil {
		return nil, nil
	}
	return cs.Decode(v)
}

// Decode reads a stored conversation, as a sweep over the bucket sees it.
func (cs Conversations) Decode(v []byte) (*Conversation, error) {
	plain, err := OpenValue(cs.b.Tx(), v)
	if err != nil {
		return nil, fmt.Errorf("conversation record: %w", err)
	}
	var c Conversation
	if err := DecodeConversation(plain, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Put writes c under its PSID.
func (cs Conversations) Put(c *Conversation) error {
	rec := EncodeConversation(c)
	if len(c.Held) > 0 {
		if err := putSealedBytes(cs.b, []byte(c.PSID), rec); err != nil {
			return fmt.Errorf("conversation record: %w", err)
		}
		return nil
	}
	if err := cs.b.Put([]byte(c.PSID), rec); err != nil {
		return fmt.Errorf("writing conversation record: %w", err)
	}
	return nil
}

// Delete removes the patron's conversation.
func (cs Conversations) Delete(patron string) error {
	if err := cs.b.Delete([]byte(patron)); err != nil {
		return fmt.Errorf("removing conversation record: %w", err)
	}
	return nil
}
