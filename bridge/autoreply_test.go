package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
)

func autoConfig(c *config.Config) {
	c.Sessions.Timezone = "America/Toronto"
	c.Sessions.OfficeHours = map[string]string{"mon-fri": "09:00-21:00"}
	c.Sessions.Greeting = "Hi! A librarian will be with you shortly."
	c.Sessions.AfterHoursReply = "We're closed now; we open at 9."
	c.Sessions.UnansweredAfter = 90 * time.Second
	c.Sessions.UnansweredReply = "Sorry for the wait, we're busy."
}

func toronto(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("America/Toronto")
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestGreetingOnNewSessionOnly(t *testing.T) {
	h := newHarness(t, autoConfig)
	h.clock.t = toronto(t, "2026-11-23 10:00")
	h.run()
	h.accept(patronText("mid.g1", "hello", h.clock.Now()))
	if m := h.link.next(t); m.Body != "hello" {
		t.Fatalf("first = %q", m.Body)
	}
	if m := h.link.next(t); m.Body != "[automatic reply sent to the patron] Hi! A librarian will be with you shortly." || m.To.String() != testQueue {
		t.Fatalf("librarians saw %+v", m)
	}
	if m := h.api.next(t); m.Text != "Hi! A librarian will be with you shortly." || m.MessagingType != "RESPONSE" || m.Tag != "" {
		t.Fatalf("Send API got %+v", m)
	}
	h.accept(patronText("mid.g2", "are you there", h.clock.Now().Add(time.Second)))
	h.link.next(t)
	h.quiet(t)
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d, want the one greeting", n)
	}
}

func TestAfterHoursReplyInsteadOfGreeting(t *testing.T) {
	h := newHarness(t, autoConfig)
	h.clock.t = toronto(t, "2026-11-24 23:30")
	h.run()
	h.accept(patronText("mid.ah", "open?", h.clock.Now()))
	h.link.next(t)
	if m := h.api.next(t); m.Text != "We're closed now; we open at 9." {
		t.Fatalf("Send API got %q", m.Text)
	}
	h.clock.Advance(31 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	s := h.sessions()
	if len(s) != 1 || s[0].Status != stats.StatusAfterHours || s[0].AutoReplies != 1 {
		t.Errorf("session = %+v", s)
	}
}

func TestUnansweredReplyOncePerSession(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		autoConfig(c)
		c.Sessions.Greeting = ""
	})
	h.clock.t = toronto(t, "2026-11-23 10:00")
	h.run()
	h.accept(patronText("mid.u1", "question", h.clock.Now()))
	h.link.next(t)
	h.clock.Advance(60 * time.Second)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.quiet(t)
	h.clock.Advance(31 * time.Second)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	if m := h.api.next(t); m.Text != "Sorry for the wait, we're busy." {
		t.Fatalf("Send API got %q", m.Text)
	}
	if m := h.link.next(t); !strings.HasPrefix(m.Body, "[automatic reply sent to the patron] Sorry") {
		t.Fatalf("librarians saw %q", m.Body)
	}
	h.clock.Advance(5 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.quiet(t)
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d, want 1", n)
	}
	// A human answer after the automatic one: answered, one automatic reply.
	if e := h.reply("alice@library.test/x", "here now"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.clock.Advance(31 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	s := h.sessions()
	if len(s) != 1 || s[0].Status != stats.StatusAnswered || s[0].AutoReplies != 1 || s[0].MessagesOut != 1 {
		t.Errorf("session = %+v", s)
	}
}

func TestButtonOnlySessionIsAutoOnly(t *testing.T) {
	h := newHarness(t, autoConfig)
	h.clock.t = toronto(t, "2026-11-23 10:00")
	h.run()
	h.accept(messenger.Event{Kind: messenger.KindPostback, Page: testPage, Patron: testPSID, Time: h.clock.Now(), Text: "Get Started", Payload: "GET_STARTED"})
	h.link.next(t)
	h.api.next(t) // the greeting
	h.clock.Advance(31 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	s := h.sessions()
	if len(s) != 1 || s[0].Status != stats.StatusAutoOnly || s[0].MessagesIn != 0 || s[0].AutoReplies != 1 {
		t.Errorf("session = %+v", s)
	}
}

func (h *harness) sessions() []stats.Session {
	h.t.Helper()
	s, err := h.store.Sessions(time.Time{}, h.clock.Now().Add(time.Hour))
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func TestNoUnansweredReplyAfterTheAfterHoursReply(t *testing.T) {
	h := newHarness(t, autoConfig)
	h.clock.t = toronto(t, "2026-11-24 23:30")
	h.run()
	h.accept(patronText("mid.late", "open?", h.clock.Now()))
	h.link.next(t)
	h.api.next(t) // the after-hours reply
	h.clock.Advance(5 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.settle(t) // an unanswered reply would be queued by closeIdle
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d, want only the after-hours reply", n)
	}
}

func TestEchoesOfOtherAppsAreNotHumanAnswers(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	h.accept(messenger.Event{Kind: messenger.KindEcho, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "m_auto", Text: "Thanks for your message! (instant reply)", AppID: "263902037430900"})
	h.link.next(t)
	if s := h.sessions(); !s[0].Accepted.IsZero() {
		t.Fatalf("another app's echo accepted the session: %+v", s[0])
	}
	h.accept(messenger.Event{Kind: messenger.KindEcho, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "m_person", Text: "Hi, this is Sam at the desk"})
	h.link.next(t)
	if s := h.sessions(); s[0].Accepted.IsZero() || s[0].Operator != pageInboxOperator {
		t.Fatalf("a person's answer in the Page inbox not counted: %+v", s[0])
	}
}

// TestAutomaticRepliesDisclosed checks that with sessions.disclose_automatic
// the patron reads that a reply is automatic, once, while the librarians'
// copy stays as written.
func TestAutomaticRepliesDisclosed(t *testing.T) {
	h := newHarness(t, autoConfig, func(c *config.Config) {
		c.Sessions.DiscloseAutomatic = true
		c.Sessions.AfterHoursReply = "(Automatic reply) We open at 9."
	})
	h.clock.t = toronto(t, "2026-11-23 10:00")
	h.run()
	h.accept(patronText("mid.d1", "hello", h.clock.Now()))
	h.link.next(t)
	if m := h.link.next(t); m.Body != "[automatic reply sent to the patron] Hi! A librarian will be with you shortly." {
		t.Errorf("librarians saw %q", m.Body)
	}
	if m := h.api.next(t); m.Text != "(Automatic reply) Hi! A librarian will be with you shortly." {
		t.Errorf("patron reads %q", m.Text)
	}
	if got := disclosed(h.cfg, h.cfg.Sessions.AfterHoursReply); got != "(Automatic reply) We open at 9." {
		t.Errorf("an already labelled text became %q", got)
	}
}
