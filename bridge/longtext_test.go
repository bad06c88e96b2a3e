package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestPoisonTextIsSplit: a patron text longer than xmpp.max_stanza_bytes
// reaches the librarian as several messages, in order, cut between words,
// before the patron's next message; every part's id finds the message's
// ledger record.
func TestPoisonTextIsSplit(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.XMPP.MaxStanzaBytes = 8192 })
	var b strings.Builder
	for i := 0; b.Len() < 100_000; i++ {
		b.WriteString("interlibrary loan & <renewal> request ")
	}
	long := strings.TrimSpace(b.String())
	at := time.Now()
	h.accept(patronText("mid.long", long, at), patronText("mid.next", "and also: hours?", at.Add(time.Second)))
	h.run()
	var bodies, ids []string
	for {
		m := h.link.next(t)
		if m.Body == "" {
			continue // presence-like notices and chat states
		}
		if m.Body == "and also: hours?" {
			break
		}
		if len(m.Body) > 8192 {
			t.Fatalf("part %d has %d bytes of text", len(bodies), len(m.Body))
		}
		bodies = append(bodies, m.Body)
		ids = append(ids, m.ID)
	}
	if len(bodies) < 13 {
		t.Fatalf("%d parts", len(bodies))
	}
	if strings.Join(bodies, " ") != long {
		t.Fatal("the parts do not add up to the patron's text")
	}
	for i, id := range ids[1:] {
		if !strings.HasPrefix(id, ids[0]+"-p") {
			t.Errorf("part %d has id %q, not derived from %q", i+2, id, ids[0])
		}
	}
	err := h.store.view(func(tx *store.Tx) error {
		first := tx.Ledger().ByRef(store.StanzaRef(ids[0]))
		for _, id := range ids {
			if k := tx.Ledger().ByRef(store.StanzaRef(id)); k == nil || string(k) != string(first) {
				t.Errorf("part %s refers to ledger key %x, want %x", id, k, first)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
