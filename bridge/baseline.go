package bridge

import (
	"encoding/hex"
	"fmt"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// BaselineMessage is one patron message for WriteBaseline.
type BaselineMessage struct {
	Event messenger.Event
	// Guest is the patron's pseudonym, Queue the queue the message goes
	// to, Domain the component's.
	Guest, Queue, Domain string
}

// WriteBaseline writes, in one commit shared with concurrent callers as
// the bridge shares its webhook commits, the records the bridge makes for
// each patron message that opens a session and goes to the queue:
// deduplication mark, inbox event, conversation, session, open-session
// index, ledger record with its references, XMPP outbox entry — in the
// store's own encodings and sealing. It is the "BoltDB alone" baseline
// of cmd/loadgen (what the store allows, without the bridge's logic or
// its later commits), never for a store a bridge runs on.
func (s *Store) WriteBaseline(msgs []BaselineMessage) error {
	err := s.batch(func(tx *store.Tx) error {
		for i := range msgs {
			if err := writeBaseline(tx, &msgs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bridge: baseline records: %w", err)
	}
	return nil
}

func writeBaseline(tx *store.Tx, m *BaselineMessage) error {
	e := &m.Event
	at := e.Time
	psid := string(e.Patron)
	if err := tx.Seen().Mark(dedupKey(e), at); err != nil {
		return err
	}
	if _, err := tx.Inbox().Add(e); err != nil {
		return err
	}
	sessions := tx.Sessions()
	sk, err := sessions.NewKey(at)
	if err != nil {
		return err
	}
	sid := hex.EncodeToString(sk)
	if err := sessions.Put(sk, &stats.Session{ID: sid, Guest: m.Guest, Page: string(e.Page), Queue: m.Queue,
		Started: at, MessagesIn: 1}); err != nil {
		return err
	}
	if err := sessions.SetOpen(psid, true); err != nil {
		return err
	}
	conv := &Conversation{Page: string(e.Page), PSID: psid, Guest: m.Guest, LastPatron: at, LastActivity: at,
		Session: sid, LastSession: sid}
	if err := putConversation(tx, conv); err != nil {
		return err
	}
	msg := xmpp.Message{ID: stanzaID(e), From: patronJID(psid, m.Domain), To: parseJID(m.Queue), Type: "chat",
		Body: e.Text, Nick: nickOf(conv), Markable: true}
	lk, err := tx.Ledger().Add(&Record{Time: at, Direction: Inbound, Kind: "message", Page: string(e.Page), Guest: m.Guest,
		MID: string(e.MID), XMPPID: msg.ID, State: StateQueued})
	if err != nil {
		return err
	}
	return (*xmppQueue)(nil).enqueue(tx, xmppEntry{Msg: msg, Ledger: lk, Queued: at})
}
