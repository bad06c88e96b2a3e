package bridge

import (
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"
)

func TestHumanDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0 s"}, {0, "0 s"}, {29*time.Second + 900*time.Millisecond, "29 s"}, {time.Minute, "1 min"},
		{80 * time.Second, "1 min 20 s"}, {9*time.Minute + 59*time.Second, "9 min 59 s"}, {10*time.Minute + 30*time.Second, "10 min"},
		{59 * time.Minute, "59 min"}, {time.Hour, "1 h"}, {2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{24 * time.Hour, "1 d"}, {76 * time.Hour, "3 d 4 h"},
	} {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestBangEscape checks that "!!" sends the patron a message starting
// with "!", and that the answers to commands say so.
func TestBangEscape(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.bang", "open monday?", h.clock.Now()))
	h.link.next(t)
	if e := h.reply("alice@library.test/desk", "!!! Closed Monday"); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.Text != "!! Closed Monday" {
		t.Errorf("patron got %q", m.Text)
	}
	if e := h.reply("alice@library.test/desk", "!nonsense"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); !strings.Contains(m.Body, `start it with "!!"`) {
		t.Errorf("unknown command answer %q", m.Body)
	}
	if e := h.reply("alice@library.test/desk", "!help"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); !strings.Contains(m.Body, `"!!! Closed Monday" sends "!! Closed Monday"`) {
		t.Errorf("help %q", m.Body)
	}
	if n := h.api.callCount(); n != 1 {
		t.Errorf("%d Send API calls, want 1", n)
	}
}

// TestTransferToNobody checks that a transfer whose summary bounces for
// good is undone: the librarian who typed it is told why, the conversation
// stays with them, and the summary does not come back to them as if
// transferred to them.
func TestTransferToNobody(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.tr", "question", h.clock.Now()))
	h.link.next(t)
	if e := h.reply("alice@library.test/desk", "let me check"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	if e := h.reply("alice@library.test/desk", "!transfer nobody@library.test"); e != nil {
		t.Fatal(e)
	}
	var summary xmpp.Message
	for acked := false; summary.To.String() == "" || !acked; {
		switch m := h.link.next(t); {
		case m.To.String() == "nobody@library.test":
			summary = m
		case strings.HasPrefix(m.Body, "[askbridge] Transferred to nobody@library.test"):
			acked = true
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	h.b.HandleBounce(t.Context(), xmpp.Bounce{ID: summary.ID, From: jid.MustParse("nobody@library.test"), To: summary.From,
		Error: xmpp.StanzaError{Type: "cancel", Condition: "service-unavailable"}})
	m := h.link.next(t)
	if m.To.String() != "alice@library.test/desk" || m.Body != "[askbridge] Transfer to nobody@library.test failed (service-unavailable); the conversation stays with you." {
		t.Errorf("after the bounce %+v", m)
	}
	h.quiet(t)
	conv, err := h.store.Conversation(testPSID)
	if err != nil || conv.Owner != "alice@library.test" || conv.Transfer != nil {
		t.Errorf("conversation %+v %v", conv, err)
	}
	if s := h.sessions(); len(s) != 1 || s[0].Transfers != 0 {
		t.Errorf("sessions %+v", s)
	}
}
