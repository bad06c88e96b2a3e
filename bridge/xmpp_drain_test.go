package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// Stanzas the Jabber server did not confirm are written again, all of
// them, in order, with the same ids; once confirmed they leave the outbox.
func TestUnconfirmedStanzasWrittenAgainInOrder(t *testing.T) {
	h := newHarness(t)
	h.link.setUp(false)
	h.run()
	now := h.clock.Now()
	for i, text := range []string{"a", "b", "c"} {
		h.accept(patronText("mid."+text, text, now.Add(time.Duration(i)*time.Millisecond)))
	}
	h.link.syncFails.Store(1)
	h.link.setUp(true)
	h.b.LinkChanged(true)
	var bodies []string
	ids := map[string]string{}
	for range 6 {
		m := h.link.next(t)
		bodies = append(bodies, m.Body)
		if id, ok := ids[m.Body]; ok && id != m.ID {
			t.Errorf("%q written again as %s, first as %s", m.Body, m.ID, id)
		}
		ids[m.Body] = m.ID
	}
	if got := strings.Join(bodies, ""); got != "abcabc" {
		t.Errorf("written %q, want abcabc", got)
	}
	h.quiet(t)
	waitFor(t, func() bool {
		n := 0
		for _, r := range h.records() {
			if r.State == StateSent {
				n++
			}
		}
		return n == 3 && bucketLen(t, h, store.BucketToXMPP) == 0
	})
}

// While a backlog waits in the inbox (left from before a restart), new
// events join it instead of being routed at once, so that they cannot
// overtake it.
func TestBacklogKeepsOrder(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	old := patronText("mid.old", "old", now)
	err := h.b.store.update(func(tx *store.Tx) error {
		data, err := json.Marshal(old)
		if err != nil {
			return err
		}
		inbox := tx.Bolt().Bucket(store.BucketInbox)
		k, err := store.SeqKey(inbox)
		if err != nil {
			return err
		}
		return inbox.Put(k, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.accept(patronText("mid.new", "new", now.Add(time.Millisecond)))
	if n := bucketLen(t, h, store.BucketInbox); n != 2 {
		t.Fatalf("inbox holds %d events, want 2 (the new one behind the backlog)", n)
	}
	if n := bucketLen(t, h, store.BucketToXMPP); n != 0 {
		t.Fatalf("%d stanzas queued before the backlog was routed", n)
	}
	h.run()
	if a, b := h.link.next(t), h.link.next(t); a.Body != "old" || b.Body != "new" {
		t.Errorf("relayed %q then %q", a.Body, b.Body)
	}
	// With the backlog gone, events are routed in the webhook's own commit.
	h.accept(patronText("mid.next", "next", now.Add(2*time.Millisecond)))
	if n := bucketLen(t, h, store.BucketInbox); n != 0 {
		t.Errorf("inbox holds %d events after the backlog was routed", n)
	}
	if m := h.link.next(t); m.Body != "next" {
		t.Errorf("relayed %q", m.Body)
	}
}

// TestHandOverPerTransaction: what one transaction queues reaches the
// owner in one event, so that it is written in one batch and removed in
// one commit (a new session's presence and its first message are not
// split by a removal commit a crash could follow); a transaction that
// rolled back hands nothing over.
func TestHandOverPerTransaction(t *testing.T) {
	h := newHarness(t)
	entry := func(id string) xmppEntry {
		return xmppEntry{Msg: xmpp.Message{ID: id, To: jid.MustParse("ask@chat.library.test"), Body: id}, Queued: time.Now()}
	}
	queue := func(fail bool, ids ...string) error {
		return h.store.update(func(tx *store.Tx) error {
			for _, id := range ids {
				if err := h.b.xq.enqueue(tx, entry(id)); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("rolled back")
			}
			return nil
		})
	}
	if err := queue(false, "a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	if err := queue(true, "lost"); err == nil {
		t.Fatal("the failing transaction committed")
	}
	if err := queue(false, "d"); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, ev := range h.b.xq.take() {
		if ev.kind != evCommitted {
			t.Fatalf("event of kind %d", ev.kind)
		}
		var ids []string
		for _, it := range ev.items {
			ids = append(ids, it.entry.Msg.ID)
		}
		got = append(got, ids)
	}
	if fmt.Sprint(got) != "[[a b c] [d]]" {
		t.Errorf("hand-overs %v, want [[a b c] [d]]", got)
	}
}
