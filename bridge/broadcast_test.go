package bridge

import (
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

func broadcastConfig(c *config.Config) {
	c.XMPP.Routing = "broadcast"
	c.XMPP.Queue = ""
	c.XMPP.Operators = []string{"alice@library.test", "bob@library.test", "carol@library.test"}
}

func (h *harness) operatorPresence(full, typ, show string) {
	h.b.HandlePresence(h.t.Context(), xmpp.Presence{From: jid.MustParse(full), To: jid.MustParse(testDomain), Type: typ, Show: show})
}

func TestBroadcastFirstReplyWins(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.operatorPresence("alice@library.test/gajim", "", "")
	h.operatorPresence("bob@library.test/pidgin", "", "chat")
	h.operatorPresence("carol@library.test/x", "", "away") // away: not offered
	h.accept(patronText("mid.b1", "anyone?", h.clock.Now()))
	got := map[string]string{}
	for range 2 {
		m := h.link.next(t)
		got[m.To.String()] = m.Body
	}
	if got["alice@library.test"] != "anyone?" || got["bob@library.test"] != "anyone?" || len(got) != 2 {
		t.Fatalf("offered to %v", got)
	}
	if e := h.reply("bob@library.test/pidgin", "I'll take it"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	if m := h.link.next(t); m.To.String() != "alice@library.test" || !strings.HasPrefix(m.Body, "[answered by bob@library.test]") {
		t.Fatalf("alice was told %+v", m)
	}
	// Alice can no longer answer; the patron's next message goes to Bob only.
	if e := h.reply("alice@library.test/gajim", "me too"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); m.To.String() != "alice@library.test/gajim" || !strings.HasPrefix(m.Body, "[askbridge] Not sent: bob@library.test is answering") {
		t.Fatalf("alice got %+v", m)
	}
	h.accept(patronText("mid.b2", "thanks bob", h.clock.Now()))
	if m := h.link.next(t); m.To.String() != "bob@library.test" {
		t.Fatalf("follow-up went to %s", m.To)
	}
	h.quiet(t)
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d", n)
	}
}

func TestBroadcastNobodyAvailableThenOperatorComesOnline(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.operatorPresence("alice@library.test/gajim", "", "dnd")
	h.accept(patronText("mid.n1", "hello?", h.clock.Now()))
	if m := h.api.next(t); m.Text != noOperatorReply {
		t.Fatalf("patron got %q", m.Text)
	}
	h.quiet(t)
	// Alice becomes available: she is offered what waited.
	h.operatorPresence("alice@library.test/gajim", "", "")
	var bodies []string
	for range 2 {
		m := h.link.next(t)
		if m.To.String() != "alice@library.test" {
			t.Fatalf("offered to %s", m.To)
		}
		bodies = append(bodies, m.Body)
	}
	if bodies[0] != "hello?" || !strings.HasPrefix(bodies[1], "[automatic reply sent to the patron]") {
		t.Errorf("alice got %q", bodies)
	}
	// The patron's presence came with the offer.
	for p := h.link.nextPresence(t); ; p = h.link.nextPresence(t) {
		if p.To.String() == "alice@library.test" && p.Type == "" && strings.HasPrefix(p.Nick, "Facebook patron ") {
			break
		}
	}
}

func TestSubscriptionsAndProbes(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	patron := testPSID + "@" + testDomain
	h.b.HandlePresence(t.Context(), xmpp.Presence{From: jid.MustParse("alice@library.test/x"), To: jid.MustParse(patron), Type: "subscribe"})
	drain := func(want ...string) {
		t.Helper()
		for _, w := range want {
			for {
				p := h.link.nextPresence(t)
				if p.From.String() == patron && p.To.Bare().String() == "alice@library.test" {
					if p.Type != w {
						t.Fatalf("presence %+v, want type %q", p, w)
					}
					if w == "" && !strings.HasPrefix(p.Nick, "Facebook patron ") {
						t.Fatalf("no nickname in %+v", p)
					}
					break
				}
			}
		}
	}
	drain("subscribed", "")
	h.b.HandlePresence(t.Context(), xmpp.Presence{From: jid.MustParse("mallory@evil.example/x"), To: jid.MustParse(patron), Type: "subscribe"})
	for p := h.link.nextPresence(t); ; p = h.link.nextPresence(t) {
		if p.To.String() == "mallory@evil.example" {
			if p.Type != "unsubscribed" {
				t.Fatalf("stranger got %+v", p)
			}
			break
		}
	}
	if e := h.reply("alice@library.test/x", "!close"); e != nil {
		t.Fatal(e)
	}
	h.link.next(t)
	h.b.HandlePresence(t.Context(), xmpp.Presence{From: jid.MustParse("alice@library.test/x"), To: jid.MustParse(patron), Type: "probe"})
	drain("unavailable")
}

func TestHeldMessagesSurviveTheIdleTimeout(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.accept(patronText("mid.night", "anyone at night?", h.clock.Now()))
	h.api.next(t) // "no librarian is available"
	h.clock.Advance(2 * time.Hour)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	if s := h.sessions(); len(s) != 1 || !s[0].Open() {
		t.Fatalf("session closed while its messages wait: %+v", s)
	}
	h.operatorPresence("carol@library.test/morning", "", "")
	if m := h.link.next(t); m.To.String() != "carol@library.test" || m.Body != "anyone at night?" {
		t.Fatalf("carol got %+v", m)
	}
	// Once seen, the usual idle timeout applies again.
	h.clock.Advance(31 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	if s := h.sessions(); len(s) != 1 || s[0].Open() || s[0].Status != "missed" {
		t.Fatalf("session = %+v", s)
	}
}

func TestOnlyTheOwnerClassifiesInBroadcast(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.operatorPresence("alice@library.test/a", "", "")
	h.operatorPresence("bob@library.test/b", "", "")
	h.accept(patronText("mid.own", "q", h.clock.Now()))
	h.link.next(t)
	h.link.next(t)
	if e := h.reply("alice@library.test/a", "mine"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.link.next(t) // bob is told
	if e := h.reply("bob@library.test/b", "!close"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); !strings.HasPrefix(m.Body, "[askbridge] Not sent: alice@library.test is answering") {
		t.Fatalf("bob got %q", m.Body)
	}
	if s := h.sessions(); !s[0].Open() {
		t.Error("bob closed alice's session")
	}
}

// A patron's edit corrects every operator's copy of the message it edits,
// each by the id of that operator's copy.
func TestBroadcastEditCorrectsEachCopy(t *testing.T) {
	h := newHarness(t, broadcastConfig)
	h.run()
	h.operatorPresence("alice@library.test/gajim", "", "")
	h.operatorPresence("bob@library.test/pidgin", "", "")
	h.accept(patronText("mid.ed", "Do you have Dnue?", h.clock.Now()))
	copyOf := map[string]string{}
	for range 2 {
		m := h.link.next(t)
		copyOf[m.To.String()] = m.ID
	}
	if len(copyOf) != 2 || copyOf["alice@library.test"] == copyOf["bob@library.test"] {
		t.Fatalf("copies %v", copyOf)
	}
	h.accept(messenger.Event{Kind: messenger.KindEdit, Page: testPage, Patron: testPSID,
		Time: h.clock.Now().Add(time.Second), MID: "mid.ed", Text: "Do you have Dune?"})
	for range 2 {
		m := h.link.next(t)
		if m.Body != "Do you have Dune?" || m.Replace != copyOf[m.To.String()] {
			t.Errorf("%s got %+v; its copy was %s", m.To, m, copyOf[m.To.String()])
		}
	}
}
