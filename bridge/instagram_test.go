package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"
)

const (
	testInstagram = "17841400000000000"
	testIGSID     = "6045123456789012"
)

// instagramHarness is a harness whose Page has a linked Instagram account.
func instagramHarness(t *testing.T) *harness {
	return newHarness(t, func(c *config.Config) { c.Messenger.Pages[0].InstagramID = testInstagram })
}

func igEvent(kind messenger.Kind, mid, text string, at time.Time) messenger.Event {
	return messenger.Event{Kind: kind, Channel: messenger.ChannelInstagram, Page: testInstagram, Patron: testIGSID,
		Time: at, MID: messenger.MID(mid), Text: text}
}

// igReply sends a librarian's message to the Instagram patron.
func (h *harness) igReply(body string) *xmpp.StanzaError {
	return h.b.HandleMessage(h.t.Context(), xmpp.Message{ID: randomID("r"), From: jid.MustParse("alice@library.test/desk"),
		To: jid.MustParse("ig-" + testIGSID + "@" + testDomain), Type: "chat", Body: body})
}

// TestInstagramConversation checks that an Instagram patron is a chat
// guest like a Messenger one: own JID and nickname, replies to the IGSID,
// the session counted as instagram.
func TestInstagramConversation(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "is the zine workshop on?", h.clock.Now()))
	p := h.link.nextPresence(t)
	if p.From.String() != "ig-"+testIGSID+"@"+testDomain || p.Status != "Instagram" || !strings.HasPrefix(p.Nick, "Instagram patron ") {
		t.Errorf("presence %+v", p)
	}
	m := h.link.next(t)
	if m.From.String() != "ig-"+testIGSID+"@"+testDomain || m.Body != "is the zine workshop on?" || !strings.HasPrefix(m.Nick, "Instagram patron ") || m.To.String() != testQueue {
		t.Fatalf("librarian got %+v", m)
	}
	if e := h.igReply("Yes, Saturday at 2."); e != nil {
		t.Fatal(e)
	}
	sent := h.api.next(t)
	if sent.Recipient != testIGSID || sent.Text != "Yes, Saturday at 2." || sent.MessagingType != "RESPONSE" {
		t.Errorf("Send API got %+v", sent)
	}
	// Our own echo, as Instagram sends it (no app_id, no metadata), after
	// the Send API answered: dropped.
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	echo := messenger.Event{Kind: messenger.KindEcho, Channel: messenger.ChannelInstagram, Page: testInstagram, Patron: testIGSID,
		Time: h.clock.Now(), MID: "m_1", Text: "Yes, Saturday at 2."}
	h.accept(echo)
	// Someone answering in the Instagram app is shown, and counts.
	h.accept(messenger.Event{Kind: messenger.KindEcho, Channel: messenger.ChannelInstagram, Page: testInstagram, Patron: testIGSID,
		Time: h.clock.Now(), MID: "ig_from_app", Text: "Bring a friend!"})
	if m := h.link.next(t); m.Body != "[answered from the Instagram inbox] Bring a friend!" {
		t.Errorf("after the echoes the librarian got %q (our own echo relayed?)", m.Body)
	}
	if n := counterValue(t, h.b.metrics.ownEchoes); n != 1 {
		t.Errorf("own echoes dropped = %v, want 1", n)
	}
	if e := h.igReply("!close"); e != nil {
		t.Fatal(e)
	}
	waitFor(t, func() bool { s := h.sessions(); return len(s) == 1 && !s[0].Open() })
	s := h.sessions()[0]
	if s.Protocol != stats.ProtocolInstagram || s.Status != stats.StatusAnswered || s.MessagesOut != 2 || s.RepliesDelivered != 2 {
		t.Errorf("session %+v", s)
	}
	conv, err := h.store.Conversation("ig-" + testIGSID)
	if err != nil || conv == nil || conv.Guest == h.b.pseudo.Guest(testPage, testIGSID) {
		t.Errorf("conversation %+v, %v: want a key and pseudonym apart from a PSID's", conv, err)
	}
}

// TestInstagramEchoBeforeAnswer checks that an echo Instagram delivers
// while the Send API call is still out is recognised by its text.
func TestInstagramEchoBeforeAnswer(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hello", h.clock.Now()))
	h.link.next(t)
	h.echoWhileOut(func(m messenger.OutgoingMessage, mid messenger.MID) messenger.Event {
		return igEvent(messenger.KindEcho, string(mid), m.Text, h.clock.Now())
	})
	h.igReplyConfirmedByEcho("Hi! How can I help?")
}

// echoWhileOut makes the next Send API call go through with its answer
// lost, and Instagram's echo of it, made by echo, arrive while it is out.
func (h *harness) echoWhileOut(echo func(m messenger.OutgoingMessage, mid messenger.MID) messenger.Event) {
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	h.api.lose = 1
	h.api.echo = func(m messenger.OutgoingMessage, mid messenger.MID) {
		e := echo(m, mid)
		h.echoes.Go(func() {
			if err := h.b.Accept(context.Background(), []messenger.Event{e}); err != nil {
				h.t.Errorf("accepting the echo: %v", err)
			}
		})
	}
}

// igReplyConfirmedByEcho sends a librarian's reply whose Send API answer is
// lost, and checks that the echo confirmed it: one call, nothing relayed
// back to the librarian, one reply delivered in the session.
func (h *harness) igReplyConfirmedByEcho(body string) {
	t := h.t
	t.Helper()
	if e := h.igReply(body); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	h.echoes.Wait()
	h.quiet(t)
	if n := h.api.callCount(); n != 1 {
		t.Errorf("%d Send API calls, want 1", n)
	}
	if s := h.sessions(); len(s) != 1 || s[0].MessagesOut != 1 || s[0].RepliesDelivered != 1 {
		t.Errorf("sessions %+v", s)
	}
}

// TestUnknownInstagramAccount checks that events for an Instagram account
// no Page links are dropped and counted, like an unknown Page's.
func TestUnknownInstagramAccount(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	e := igEvent(messenger.KindMessage, "ig_x", "hi", h.clock.Now())
	e.Page = "17841499999999999"
	h.accept(e)
	if n := counterValue(t, h.b.metrics.unknownAccount.WithLabelValues("instagram")); n != 1 {
		t.Errorf("unknown accounts counted %v, want 1", n)
	}
	// A Page ID given as an Instagram account is not taken for one either.
	e.Page, e.MID = testPage, "ig_y"
	h.accept(e)
	if n := counterValue(t, h.b.metrics.unknownAccount.WithLabelValues("instagram")); n != 2 {
		t.Errorf("unknown accounts counted %v, want 2", n)
	}
	if s := h.sessions(); len(s) != 0 {
		t.Errorf("sessions %+v", s)
	}
}

// TestStandbyNeverAnsweredAutomatically checks that while another app owns
// the thread, the patron's messages reach the librarian marked, count, and
// get no automatic reply.
func TestStandbyNeverAnsweredAutomatically(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Sessions.Greeting = "Hi! A librarian will be with you shortly."
		c.Sessions.UnansweredReply, c.Sessions.UnansweredAfter = "Sorry for the wait.", time.Minute
	})
	h.run()
	e := patronText("mid.standby", "question for the bot", h.clock.Now())
	e.Standby = true
	h.accept(e)
	if m := h.link.next(t); m.Body != "(patron, while another app owns the conversation) question for the bot" {
		t.Errorf("librarian got %q", m.Body)
	}
	h.clock.Advance(2 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.quiet(t)
	if n := h.api.callCount(); n != 0 {
		t.Errorf("%d Send API calls (automatic replies) while another app owns the thread", n)
	}
	if s := h.sessions(); len(s) != 1 || s[0].MessagesIn != 1 {
		t.Errorf("sessions %+v", s)
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestInstagramSeen checks that messaging_seen, which names the message
// read instead of a watermark, shows in the librarian's client as read.
func TestInstagramSeen(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: "lib-1", From: jid.MustParse("alice@library.test/desk"),
		To: jid.MustParse("ig-" + testIGSID + "@" + testDomain), Type: "chat", Body: "Hello!", Markable: true})
	if e != nil {
		t.Fatal(e)
	}
	h.api.next(t) // accepted as m_1
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	h.clock.Advance(time.Minute)
	seen := igEvent(messenger.KindRead, "m_1", "", h.clock.Now())
	h.accept(seen)
	if m := h.link.next(t); m.DisplayedFor != "lib-1" || m.To.String() != "alice@library.test/desk" {
		t.Errorf("librarian got %+v, want a displayed marker for lib-1", m)
	}
}

// TestInstagramUnsend checks that a message the patron takes back is shown
// to the librarian (with its text when transcripts are kept), once.
func TestInstagramUnsend(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Messenger.Pages[0].InstagramID = testInstagram
		c.Privacy.Transcripts = true
	})
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "my library card number is 1234", h.clock.Now()))
	h.link.next(t)
	unsend := igEvent(messenger.KindMessage, "ig_1", "", h.clock.Now())
	unsend.Deleted = true
	h.accept(unsend)
	h.accept(unsend) // delivered twice
	if m := h.link.next(t); m.Body != "[unsent a message: my library card number is 1234]" {
		t.Errorf("librarian got %q", m.Body)
	}
	h.quiet(t)
	if s := h.sessions(); len(s) != 1 || s[0].MessagesIn != 1 {
		t.Errorf("sessions %+v: an unsend is no message", s)
	}
}

// TestForgetInstagramPatron checks that a deletion request names an
// Instagram patron by "ig-" and the IGSID, and removes them like a PSID.
func TestForgetInstagramPatron(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	guest := h.sessions()[0].Guest
	n, err := h.b.Forget("ig-" + testIGSID)
	if err != nil || n == 0 {
		t.Fatalf("Forget = %d, %v", n, err)
	}
	if conv, err := h.store.Conversation("ig-" + testIGSID); err != nil || conv != nil {
		t.Errorf("conversation after forget: %+v %v", conv, err)
	}
	if s := h.sessions(); len(s) != 1 || s[0].Guest == guest || s[0].Protocol != stats.ProtocolInstagram {
		t.Errorf("session after forget %+v (guest was %s)", s, guest)
	}
}

// TestNickname checks the vCard name of patron JIDs.
func TestNickname(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	if n, ok := h.b.Nickname("ig-" + testIGSID); !ok || !strings.HasPrefix(n, "Instagram patron ") {
		t.Errorf("Nickname = %q, %v", n, ok)
	}
	for _, who := range []string{testIGSID, "999", "not a key", ""} {
		if n, ok := h.b.Nickname(who); ok {
			t.Errorf("Nickname(%q) = %q", who, n)
		}
	}
}

// TestInstagramTypingAndWindow checks that a librarian's typing reaches an
// Instagram patron by the IGSID, and that Instagram keeps Messenger's
// 24-hour window (7 days with HUMAN_AGENT).
func TestInstagramTypingAndWindow(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Messenger.Pages[0].InstagramID = testInstagram
		c.Messenger.HumanAgent = true
	})
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	if e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: "cs", From: jid.MustParse("alice@library.test/x"), To: jid.MustParse("ig-" + testIGSID + "@" + testDomain),
		Type: "chat", ChatState: "composing"}); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.SenderAction != "typing_on" || m.Recipient != testIGSID {
		t.Errorf("typing sent as %+v", m)
	}
	h.clock.Advance(3 * 24 * time.Hour)
	if e := h.igReply("Sorry for the delay!"); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.Recipient != testIGSID || m.MessagingType != "MESSAGE_TAG" || m.Tag != "HUMAN_AGENT" {
		t.Errorf("a reply after 3 days sent as %+v", m)
	}
	h.clock.Advance(5 * 24 * time.Hour)
	if e := h.igReply("still there?"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.nextNotice(t, "[askbridge] Not delivered:"); !strings.Contains(m.Body, "24 hours") {
		t.Errorf("after 8 days the librarian got %q", m.Body)
	}
}
