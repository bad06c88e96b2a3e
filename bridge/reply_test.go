package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

// start opens a conversation with one patron message and consumes it.
func (h *harness) start() {
	h.t.Helper()
	h.accept(patronText("mid.start", "question", h.clock.Now()))
	h.link.next(h.t)
}

func TestReplyReachesSendAPIAndClaims(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	if e := h.reply("alice@library.test/gajim", "We open at 9."); e != nil {
		t.Fatalf("reply refused: %v", e)
	}
	m := h.api.next(t)
	if m.Recipient != testPSID || m.Text != "We open at 9." || m.MessagingType != "RESPONSE" || m.Tag != "" {
		t.Errorf("Send API call = %+v", m)
	}
	if !strings.HasPrefix(m.Metadata, "askbridge:") {
		t.Errorf("metadata = %q", m.Metadata)
	}
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.Direction == Outbound && r.State == StateAccepted && r.MID == "m_1" && r.Operator == "alice@library.test" {
				return true
			}
		}
		return false
	})
	// The librarian who answered now gets the patron's messages.
	h.accept(patronText("mid.next", "thanks", h.clock.Now()))
	if next := h.link.next(t); next.To.String() != "alice@library.test" {
		t.Errorf("follow-up went to %q", next.To)
	}
	// After the idle timeout the conversation returns to the queue.
	h.clock.Advance(31 * time.Minute)
	h.accept(patronText("mid.later", "another question", h.clock.Now()))
	if later := h.link.next(t); later.To.String() != testQueue {
		t.Errorf("after idle timeout went to %q", later.To)
	}
}

func TestReplyFromNonOperatorRefused(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	e := h.reply("mallory@elsewhere.example/x", "click this link")
	if e == nil || e.Condition != "forbidden" {
		t.Fatalf("refusal = %v, want forbidden", e)
	}
	h.settle(t) // a reply HandleMessage accepted would be in the outbox
	if n := h.api.callCount(); n != 0 {
		t.Errorf("Send API called %d times", n)
	}
}

func TestReplyToUnknownPatron(t *testing.T) {
	h := newHarness(t)
	h.run()
	e := h.reply("alice@library.test/x", "hello?")
	if e == nil || e.Condition != "item-not-found" {
		t.Fatalf("got %v, want item-not-found", e)
	}
	if e := h.b.HandleMessage(t.Context(), xmppMsg("mallory@evil.example/x", "hello?")); e == nil || e.Condition != "forbidden" {
		t.Fatalf("stranger to unknown patron got %v, want forbidden", e)
	}
}

func TestCommandsNeverReachFacebook(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	for _, cmd := range []string{"!help", "!nonsense 1 2"} {
		if e := h.reply("alice@library.test/x", cmd); e != nil {
			t.Fatal(e)
		}
		m := h.link.next(t)
		if m.To.String() != "alice@library.test/x" || !strings.Contains(m.Body, "!help") {
			t.Errorf("%s answered with %+v", cmd, m)
		}
	}
	h.settle(t) // a reply HandleMessage accepted would be in the outbox
	if n := h.api.callCount(); n != 0 {
		t.Errorf("Send API called %d times", n)
	}
}

func TestLongReplySplit(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	long := strings.Repeat("word ", 900) // 4500 characters
	if e := h.reply("alice@library.test/x", long); e != nil {
		t.Fatal(e)
	}
	total := 0
	for range 3 {
		m := h.api.next(t)
		if n := len([]rune(m.Text)); n >= messenger.MaxTextLength {
			t.Errorf("part of %d characters", n)
		}
		total += len(strings.Fields(m.Text))
	}
	if total != 900 {
		t.Errorf("words delivered = %d, want 900", total)
	}
}

func TestMessagingWindow(t *testing.T) {
	cases := []struct {
		name       string
		age        time.Duration
		humanAgent bool
		wantType   string // "" means refused without an API call
	}{
		{"within 24h", 23 * time.Hour, false, "RESPONSE"},
		{"after 24h without human agent", 25 * time.Hour, false, ""},
		{"after 24h with human agent", 3 * 24 * time.Hour, true, "MESSAGE_TAG"},
		{"after 7 days even with human agent", 8 * 24 * time.Hour, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *config.Config) {
				cfg.Messenger.HumanAgent = c.humanAgent
				cfg.Sessions.IdleTimeout = 365 * 24 * time.Hour
			})
			h.run()
			h.start()
			h.clock.Advance(c.age)
			if e := h.reply("alice@library.test/x", "late answer"); e != nil {
				t.Fatal(e)
			}
			if c.wantType == "" {
				m := h.link.next(t)
				if !strings.HasPrefix(m.Body, "[askbridge] Not delivered: Facebook allows replies only within 24 hours") {
					t.Errorf("notice = %q", m.Body)
				}
				h.settle(t)
				if h.api.callCount() != 0 {
					t.Error("Send API was called")
				}
				return
			}
			m := h.api.next(t)
			if m.MessagingType != c.wantType {
				t.Errorf("messaging_type = %q, want %q", m.MessagingType, c.wantType)
			}
			if c.wantType == "MESSAGE_TAG" && m.Tag != "HUMAN_AGENT" {
				t.Errorf("tag = %q", m.Tag)
			}
		})
	}
}

func TestPermanentGraphErrorTellsLibrarian(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	h.api.failWith(&messenger.GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException"})
	if e := h.reply("alice@library.test/x", "answer"); e != nil {
		t.Fatal(e)
	}
	m := h.link.next(t)
	if m.To.String() != "alice@library.test/x" || m.From.String() != testPSID+"@"+testDomain ||
		m.Body != "[askbridge] Not delivered: "+reasonWindow {
		t.Errorf("notice = %+v", m)
	}
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.Direction == Outbound && r.State == StateFailed && r.Error == "graph 10/2018278" {
				return true
			}
		}
		return false
	})
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API called %d times, want 1 (no retry)", n)
	}
}

func TestRetryableGraphErrorRetried(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	h.api.failWith(&messenger.GraphError{HTTPStatus: 500, Code: 2, Type: "OAuthException"})
	if e := h.reply("alice@library.test/x", "answer"); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.Text != "answer" {
		t.Errorf("retried call = %+v", m)
	}
	if n := h.api.callCount(); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
}

func TestRepliesSurviveRestart(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	h.stop() // the loops stop; a reply arrives while nothing drains
	if e := h.reply("alice@library.test/x", "stored before restart"); e != nil {
		t.Fatal(e)
	}
	h.restart()
	if m := h.api.next(t); m.Text != "stored before restart" {
		t.Errorf("got %+v", m)
	}
}

func TestRepliesOfOnePatronStayInOrderWhileAnotherRetries(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	other := patronText("mid.o", "hi", h.clock.Now())
	other.Patron = "2222"
	h.accept(other)
	h.link.next(t)
	// The first call (to whoever comes first) fails temporarily; both
	// patrons still get every reply, each in order.
	h.api.failWith(&messenger.GraphError{HTTPStatus: 503})
	for _, text := range []string{"1", "2", "3"} {
		if e := h.reply("alice@library.test/x", text); e != nil {
			t.Fatal(e)
		}
		if e := h.b.HandleMessage(t.Context(), xmppMsgTo("alice@library.test/x", "2222", "o"+text)); e != nil {
			t.Fatal(e)
		}
	}
	got := map[string]string{}
	for range 6 {
		m := h.api.next(t)
		got[string(m.Recipient)] += m.Text
	}
	if got[testPSID] != "123" || got["2222"] != "o1o2o3" {
		t.Errorf("delivered = %v", got)
	}
}
