package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/internal/boltgroup"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"
)

// The baseline store uses the bridge's bucket names and BoltDB settings
// (commits shared by concurrent writers with boltgroup, fsync on every
// commit).
var boltBuckets = []string{"seen", "inbox", "conversations", "sessions", "open_sessions", "ledger", "ledger_ref", "out_xmpp"}

// boltOutboxEntry has the shape of the bridge's XMPP outbox entry.
type boltOutboxEntry struct {
	Msg    xmpp.Message `json:"msg"`
	Ledger []byte       `json:"ledger,omitempty"`
}

// boltLoad writes, for every event, the records the bridge creates for a
// patron message — deduplication mark, inbox event, conversation, session,
// open-session index, ledger record with its two references, XMPP outbox
// entry — with one transaction per POST, grouped as the bridge groups them (boltgroup) and fsynced as
// the bridge's are. It is a lower bound of the bridge's storage work (the
// bridge spreads it over three commits and also deletes the inbox and
// outbox entries), so its rate is an upper bound of what BoltDB allows the
// bridge.
func boltLoad(ctx context.Context, dir, tag string, l load, pats *patrons, tl *timeline) (*postStats, error) {
	path := filepath.Join(dir, "baseline.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("loadgen: bolt baseline: %w", err)
	}
	defer os.Remove(path)
	defer db.Close()
	var group boltgroup.Group
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range boltBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("loadgen: bolt baseline: %w", err)
	}

	st := &postStats{errs: map[string]int{}, acked: make([]bool, l.Events)}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	pace := newPacer(l.Rate / float64(l.EventsPerPost))
	sq := &seqs{total: int64(l.Events)}
	var seq atomic.Uint64
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		own := pats.owned(w)
		wg.Go(func() {
			j := 0
			for {
				at, ok := pace.next(ctx)
				if !ok {
					return
				}
				from, to := sq.take(l.EventsPerPost)
				if from == to {
					return
				}
				recs := make([][8][]byte, 0, to-from)
				for s := from; s < to; s++ {
					recs = append(recs, boltRecords(tag, s, own[j%len(own)], at))
					j++
					tl.sent(s, at)
				}
				st.posts.Add(1)
				st.events.Add(to - from)
				err := group.Do(db, func(tx *bolt.Tx) error { return writeBoltRecords(tx, recs, &seq, at) })
				now := time.Now()
				if err != nil {
					st.fail("commit")
					continue
				}
				st.ack(tl, from, to, at, now)
			}
		})
	}
	wg.Wait()
	return st, nil
}

// boltRecords encodes the values one patron message creates: seen key,
// event, conversation, session, psid, record, mid, stanza.
func boltRecords(tag string, seq int64, psid string, at time.Time) [8][]byte {
	mid := fmt.Sprintf("m_lg.%s.%d", tag, seq)
	guest := fmt.Sprintf("%016x", uint64(seq)*2654435761)
	id := fmt.Sprintf("fb-%020d", seq)
	ev, _ := json.Marshal(messenger.Event{Kind: messenger.KindMessage, Page: messenger.PageID(pageID), Patron: messenger.PSID(psid),
		Time: at.UTC().Truncate(time.Millisecond), MID: messenger.MID(mid), Text: fmt.Sprintf("lg %s %d", tag, seq)})
	conv, _ := json.Marshal(bridge.Conversation{Page: pageID, PSID: psid, Guest: guest, LastPatron: at, LastActivity: at,
		Session: "1234567890abcdef1234567890abcdef", LastSession: "1234567890abcdef1234567890abcdef"})
	sess, _ := json.Marshal(stats.Session{ID: "1234567890abcdef1234567890abcdef", Guest: guest, Page: pageID,
		Queue: "librarian@localhost", Started: at, MessagesIn: 1})
	rec, _ := json.Marshal(bridge.Record{Time: at, Direction: bridge.Inbound, Kind: "message", Page: pageID, Guest: guest,
		MID: mid, XMPPID: id, State: bridge.StateQueued})
	out, _ := json.Marshal(boltOutboxEntry{Msg: xmpp.Message{ID: id, From: psid + "@fb.localhost", To: "librarian@localhost",
		Type: "chat", Body: fmt.Sprintf("lg %s %d", tag, seq), Nick: bridge.Nick(messenger.ChannelMessenger, guest)}, Ledger: make([]byte, 16)})
	return [8][]byte{[]byte("m:" + mid), ev, conv, sess, []byte(psid), rec, []byte(mid), out}
}

// writeBoltRecords puts the records of one POST.
func writeBoltRecords(tx *bolt.Tx, recs [][8][]byte, seq *atomic.Uint64, at time.Time) error {
	key := func() []byte {
		k := make([]byte, 16)
		binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
		binary.BigEndian.PutUint64(k[8:], seq.Add(1))
		return k
	}
	b := func(name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }
	for _, r := range recs {
		seen, ev, conv, sess, psid, rec, mid, out := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		lk := key()
		for _, p := range []struct {
			bucket string
			k, v   []byte
		}{
			{"seen", seen, lk[:8]},
			{"inbox", key()[8:], ev},
			{"conversations", psid, conv},
			{"sessions", lk, sess},
			{"open_sessions", psid, nil},
			{"ledger", lk, rec},
			{"ledger_ref", append([]byte("m:"), mid...), lk},
			{"ledger_ref", append([]byte("x:"), mid...), lk},
			{"out_xmpp", key()[8:], out},
		} {
			if err := b(p.bucket).Put(p.k, p.v); err != nil {
				return fmt.Errorf("put %s: %w", p.bucket, err)
			}
		}
	}
	return nil
}
