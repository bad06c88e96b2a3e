package bridge

import (
	"fmt"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestWriteBaseline: the load generator's baseline writes records the
// bridge itself reads back (it keeps no copy of the store's schema).
func TestWriteBaseline(t *testing.T) {
	st, err := OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var msgs []BaselineMessage
	for i := range 3 {
		msgs = append(msgs, BaselineMessage{
			Event: messenger.Event{Kind: messenger.KindMessage, Page: testPage, Patron: messenger.PSID(fmt.Sprint(1066835436691070 + i)),
				Time: at, MID: messenger.MID(fmt.Sprintf("m_base.%d", i)), Text: fmt.Sprintf("question %d", i)},
			Guest: fmt.Sprintf("%016x", i), Queue: testQueue, Domain: testDomain,
		})
	}
	if err := st.WriteBaseline(msgs); err != nil {
		t.Fatal(err)
	}
	err = st.view(func(tx *store.Tx) error {
		for i, m := range msgs {
			conv, err := getConversation(tx, string(m.Event.Patron))
			if err != nil || conv == nil || conv.Session == "" {
				t.Errorf("conversation %d: %+v, %v", i, conv, err)
				continue
			}
			s, _, err := getSession(tx, conv.Session)
			if err != nil || s == nil || s.Guest != m.Guest || s.MessagesIn != 1 {
				t.Errorf("session %d: %+v, %v", i, s, err)
			}
			if tx.Ledger().ByRef(store.MessageRef(string(m.Event.MID))) == nil {
				t.Errorf("no ledger record for %s", m.Event.MID)
			}
		}
		var bodies []string
		err := tx.Bolt().Bucket(store.BucketToXMPP).ForEach(func(_, v []byte) error {
			e, err := tx.XMPPOutbox().Decode(v)
			if err != nil {
				return err
			}
			bodies = append(bodies, e.Msg.Body)
			return nil
		})
		if fmt.Sprint(bodies) != "[question 0 question 1 question 2]" {
			t.Errorf("outbox %q", bodies)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
