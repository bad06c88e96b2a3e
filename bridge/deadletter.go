package bridge

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// The dead-letter bucket holds XMPP outbox entries the bridge gave up
// writing, so that one patron's message cannot hold everyone else's up:
// an entry too large to send (xmpp.ErrTooLarge: queued by an older
// askbridge, or a message that cannot be split), and a poison entry after
// which the Jabber server closed the stream each time (poison.go). The
// librarian it was for is told; the administrator sees it in a metric and
// in /readyz's warnings, and lists, drops or requeues it with `askbridge
// deadletter`.

// Why an entry was parked.
const (
	reasonTooLarge     = "too_large"
	reasonStreamClosed = "stream_closed"
)

// parkedEntry is a value of the dead-letter bucket (store.ParkedEntry).
type parkedEntry = store.ParkedEntry

// parkNoticeText tells a librarian that a message for them was set aside.
const parkNoticeText = "[not delivered] A message from this patron could not be delivered to you: the Jabber server " +
	"refused it (it may be too long). It is set aside; ask the askbridge administrator (askbridge deadletter list)."

// park moves the item's entry, if still in the outbox, to the dead-letter
// bucket, marks its ledger record parked and queues a notice to the
// librarian it was for.
func (b *Bridge) park(tx *store.Tx, it *xmppItem) error {
	p := parkedEntry{Entry: it.entry, Parked: b.now(), Reason: it.park, Failures: it.failures}
	if ok, err := tx.XMPPOutbox().Park(it.key, &p); err != nil || !ok {
		return err // !ok: forgotten meanwhile
	}
	parked := *it
	tx.OnCommit(func() { b.parked(&parked) })
	if err := tx.Ledger().Update(it.entry.Ledger, func(r *Record) { r.State, r.Error = StateParked, it.park }); err != nil {
		return err
	}
	if it.entry.Presence != nil || it.entry.ParkNotice || it.entry.Msg.Body == "" {
		return nil // nothing a librarian would miss, or already a notice of this
	}
	notice := xmpp.Message{ID: randomID("ab-"), From: it.entry.Msg.From, To: it.entry.Msg.To, Type: "chat", Body: parkNoticeText}
	return b.xq.enqueue(tx, xmppEntry{Msg: notice, Queued: time.Now(), ParkNotice: true})
}

// parked reports an entry just parked: a metric and a log line.
func (b *Bridge) parked(it *xmppItem) {
	b.metrics.parked.WithLabelValues(it.park).Inc()
	b.log.Error("XMPP outbox entry parked in the dead-letter bucket; see `askbridge deadletter list`",
		zap.Uint64("entry", binary.BigEndian.Uint64(it.key)), zap.String("id", it.entry.Msg.ID),
		zap.Stringer("to", it.entry.Msg.To), zap.String("reason", it.park), zap.Int("failures", it.failures))
}

// ParkedEntry describes an entry of the dead-letter bucket, without its
// text or the patron's identity.
type ParkedEntry struct {
	// ID names the entry to DropParked and RequeueParked.
	ID     uint64    `json:"id"`
	Parked time.Time `json:"parked"`
	Queued time.Time `json:"queued"`
	// Kind is "message" or "presence".
	Kind     string `json:"kind"`
	StanzaID string `json:"stanza_id"`
	// To is the librarian or queue it was for; Guest the patron's
	// pseudonym, when the ledger knows it.
	To    string `json:"to"`
	Guest string `json:"guest,omitempty"`
	// Bytes is the length of the message's text.
	Bytes int `json:"bytes"`
	// Reason is "too_large" or "stream_closed"; Failures counts the link
	// failures that followed writing it.
	Reason   string `json:"reason"`
	Failures int    `json:"failures,omitempty"`
}

// Parked lists the dead-letter bucket, oldest first.
func (s *Store) Parked() ([]ParkedEntry, error) {
	var out []ParkedEntry
	err := s.view(func(tx *store.Tx) error {
		return tx.XMPPOutbox().ScanParked(func(k []byte, p *parkedEntry) error {
			e := ParkedEntry{ID: binary.BigEndian.Uint64(k), Parked: p.Parked, Queued: p.Entry.Queued, Kind: "message",
				StanzaID: p.Entry.Msg.ID, To: p.Entry.Msg.To.String(), Bytes: len(p.Entry.Msg.Body), Reason: p.Reason, Failures: p.Failures}
			if p.Entry.Presence != nil {
				e.Kind, e.To = "presence", p.Entry.Presence.To.String()
			}
			if r, err := tx.Ledger().Get(p.Entry.Ledger); err == nil && r != nil {
				e.Guest = r.Guest
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading the dead-letter bucket: %w", err)
	}
	return out, nil
}

// parkedCount counts the dead-letter bucket.
func (s *Store) parkedCount() (int, error) {
	n := 0
	err := s.view(func(tx *store.Tx) error {
		n = tx.XMPPOutbox().ParkedCount()
		return nil
	})
	return n, err
}

// ParkedCount counts the entries in the dead-letter bucket.
func (b *Bridge) ParkedCount() (int, error) { return b.store.parkedCount() }

// eachParked applies fn to the parked entries with the given ids (all of
// them when ids is empty) and removes them from the bucket; it returns how
// many it found.
func (s *Store) eachParked(ids []uint64, fn func(tx *store.Tx, p parkedEntry) error) (int, error) {
	n := 0
	err := s.update(func(tx *store.Tx) error {
		n = 0
		out := tx.XMPPOutbox()
		var keys [][]byte
		if len(ids) == 0 {
			keys = out.ParkedKeys()
		}
		for _, id := range ids {
			keys = append(keys, store.U64(id))
		}
		for _, k := range keys {
			p, err := out.Parked(k)
			if err != nil {
				return err
			}
			if p == nil {
				continue
			}
			if err := fn(tx, *p); err != nil {
				return err
			}
			if err := out.DropParked(k); err != nil {
				return err
			}
			n++
		}
		return noteRemoval(tx, n, nil)
	})
	return n, err
}

// DropParked removes parked entries for good (all of them when ids is
// empty); their ledger records are marked failed. It returns how many it
// removed.
func (s *Store) DropParked(ids []uint64) (int, error) {
	n, err := s.eachParked(ids, func(tx *store.Tx, p parkedEntry) error {
		return tx.Ledger().Update(p.Entry.Ledger, func(r *Record) { r.State, r.Error = StateFailed, "dropped from the dead-letter bucket" })
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: dropping parked entries: %w", err)
	}
	return n, nil
}

// RequeueParked puts parked entries (all of them when ids is empty) back
// at the end of the XMPP outbox, a message split again to fit
// xmpp.max_stanza_bytes. One that still closes the stream is parked again,
// after a whole series of failures: it is a new entry (parking cleared
// the suspicion of the old one).
// It returns how many it requeued.
func (b *Bridge) RequeueParked(ids []uint64) (int, error) {
	n, err := b.store.eachParked(ids, func(tx *store.Tx, p parkedEntry) error {
		if err := tx.Ledger().Update(p.Entry.Ledger, func(r *Record) { r.State = StateQueued }); err != nil {
			return err
		}
		e := p.Entry
		e.Queued, e.NotBefore, e.Tries = time.Now(), time.Time{}, 0
		if e.Presence != nil {
			return b.xq.enqueue(tx, e)
		}
		return b.enqueueXMPP(tx, e.Msg, e.Ledger)
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: requeueing parked entries: %w", err)
	}
	signal(b.xmppReady)
	return n, nil
}
