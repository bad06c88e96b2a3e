package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge/store"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"
	"mellium.im/xmpp/jid"
	"slices"
)

// nextNotice reads the link until a message whose body starts with prefix.
func (l *fakeLink) nextNotice(t *testing.T, prefix string) xmpp.Message {
	t.Helper()
	for {
		if m := l.next(t); strings.HasPrefix(m.Body, prefix) {
			return m
		}
	}
}

// TestLaterReplyToAnsweredSession: a reply hours after an answered session
// ended counts in it without reopening it or stretching its duration; a
// split reply counts once.
func TestLaterReplyToAnsweredSession(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Sessions.FollowupGrace = 15 * time.Minute })
	start := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	ps := "PS: the book is back. " + strings.Repeat("x", 2500)
	runSessionSteps(t, h, "ps", start, []step{
		{patron: "q"}, {after: time.Minute, reply: "a"}, {after: 4 * time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
		{after: 8 * time.Hour, reply: ps},
	})
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	s := h.sessions()
	if len(s) != 1 || s[0].Open() || !s[0].Ended.Equal(start.Add(5*time.Minute)) || s[0].MessagesOut != 2 ||
		s[0].RepliesDelivered != 2 || s[0].Status != stats.StatusAnswered {
		t.Errorf("sessions %+v", s)
	}
	if parts := len(messenger.SplitText(ps)); parts < 2 || h.api.callCount() != 1+parts {
		t.Errorf("%d Send API calls, want 1 + the PS's %d parts", h.api.callCount(), parts)
	}
}

// TestClassifyAfterTransfer: a librarian who answered after a transfer
// classifies the session after closing it.
func TestClassifyAfterTransfer(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.ct", "q", h.clock.Now()))
	h.link.next(t)
	for _, r := range []struct{ from, body, ack string }{
		{"alice@library.test/desk", "let me see", ""},
		{"alice@library.test/desk", "!transfer bob@library.test", "[askbridge] Transferred to bob@library.test"},
		{"bob@library.test/desk", "here is the answer", ""},
		{"bob@library.test/desk", "!close", "[askbridge] Session closed: answered"},
		{"bob@library.test/desk", "!read 3", "[askbridge] READ level 3 recorded for the session that started"},
	} {
		if e := h.reply(r.from, r.body); e != nil {
			t.Fatal(e)
		}
		if r.ack != "" {
			h.link.nextNotice(t, r.ack)
		}
	}
	if s := h.sessions(); len(s) != 1 || s[0].ReadLevel != 3 || s[0].Operator != "alice@library.test" {
		t.Errorf("sessions %+v", s)
	}
}

// TestInstagramStandbyEchoNotCounted: on Instagram another app's echo
// carries no app_id either; in standby it is shown, not counted.
func TestInstagramStandbyEchoNotCounted(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	echo := igEvent(messenger.KindEcho, "ig_bot_1", "I am a bot", h.clock.Now())
	echo.Standby = true
	h.accept(echo)
	if m := h.link.next(t); m.Body != "[answered in another app] I am a bot" {
		t.Errorf("librarian got %q", m.Body)
	}
	if s := h.sessions(); len(s) != 1 || !s[0].Accepted.IsZero() || s[0].MessagesOut != 0 {
		t.Errorf("sessions %+v", s)
	}
}

// TestInstagramAttachmentEcho: an attachment's echo comes from
// Instagram's CDN, not from the address sent; while the call is out it is
// still recognised, so nothing is shown or sent twice.
func TestInstagramAttachmentEcho(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "where is it?", h.clock.Now()))
	h.link.next(t)
	h.echoWhileOut(func(m messenger.OutgoingMessage, mid messenger.MID) messenger.Event {
		e := igEvent(messenger.KindEcho, string(mid), "", h.clock.Now())
		e.Attachments = []messenger.Attachment{{Type: "image", URL: "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}}
		return e
	})
	h.igReplyConfirmedByEcho("https://library.test/map.png")
}

// TestInstagramEchoOutsideWindow: an echo of the same text long after the
// bridge's call is someone else's message, shown and counted.
func TestInstagramEchoOutsideWindow(t *testing.T) {
	h := instagramHarness(t)
	h.run()
	h.accept(igEvent(messenger.KindMessage, "ig_1", "hi", h.clock.Now()))
	h.link.next(t)
	h.api.failWith(&messenger.GraphError{HTTPStatus: 500, Code: 2, IsTransient: true}) // the reply waits for a retry
	if e := h.igReply("Thank you!"); e != nil {
		t.Fatal(e)
	}
	waitFor(t, func() bool { return h.api.callCount() == 1 })
	h.accept(igEvent(messenger.KindEcho, "ig_person", "Thank you!", h.clock.Now().Add(10*time.Minute)))
	if m := h.link.nextNotice(t, "[answered from the Instagram inbox]"); m.Body != "[answered from the Instagram inbox] Thank you!" {
		t.Errorf("librarian got %q", m.Body)
	}
}

// TestForgetInstagramInboxBacklog: a deletion request removes the
// Instagram patron's events still in the inbox, which name the bare IGSID,
// and the stanzas queued from and to the patron, and nothing of a
// Messenger patron with the same number or of a patron whose number
// merely contains it.
func TestForgetInstagramInboxBacklog(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	mine := igEvent(messenger.KindMessage, "ig_1", "hi", now)
	sameNumber := patronText("m1", "same number, Messenger", now)
	sameNumber.Patron = testIGSID
	longer := igEvent(messenger.KindMessage, "ig_2", "a longer number", now)
	longer.Patron = "9" + testIGSID
	me, other := patronJID("ig-"+testIGSID, testDomain), patronJID("ig-9"+testIGSID, testDomain)
	queue := jid.MustParse(testQueue)
	entries := []xmppEntry{
		{Msg: xmpp.Message{ID: "x-mine", From: me, To: queue, Type: "chat", Body: "mine"}},
		{Presence: &xmpp.Presence{ID: "p-mine", From: me, To: queue}, Msg: xmpp.Message{ID: "p-mine"}},
		{Msg: xmpp.Message{ID: "x-other", From: other, To: queue, Type: "chat", Body: "another patron's"}},
		{Msg: xmpp.Message{ID: "x-m", From: patronJID(testIGSID, testDomain), To: queue, Type: "chat", Body: "a Messenger patron's"}},
		{Msg: xmpp.Message{ID: "x-m9", From: patronJID("9"+testIGSID, testDomain), To: queue, Type: "chat", Body: "whose number ends with it"}},
	}
	err := h.store.update(func(tx *store.Tx) error {
		for _, e := range []*messenger.Event{&mine, &sameNumber, &longer} {
			if _, err := tx.Inbox().Add(e); err != nil {
				return err
			}
		}
		for i := range entries {
			if _, err := tx.XMPPOutbox().Add(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.b.Forget("ig-" + testIGSID); err != nil || n != 3 {
		t.Fatalf("Forget: %d removed, %v; want the event and the 2 stanzas", n, err)
	}
	// The Messenger patron of that number: their event and stanza go, not
	// those of a longer number ending with it.
	if n, err := h.b.Forget(testIGSID); err != nil || n != 2 {
		t.Fatalf("Forget: %d removed, %v; want the Messenger event and stanza", n, err)
	}
	var texts, ids []string
	err = h.store.view(func(tx *store.Tx) error {
		err := tx.Inbox().Scan(func(_ []byte, e *messenger.Event, err error) (bool, error) {
			texts = append(texts, e.Text)
			return true, err
		})
		if err != nil {
			return err
		}
		return tx.XMPPOutbox().Scan(func(_ []byte, e *xmppEntry, err error) (bool, error) {
			ids = append(ids, e.Msg.ID)
			return true, err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(texts, []string{"a longer number"}) {
		t.Errorf("inbox after the forget: %q", texts)
	}
	if !slices.Equal(ids, []string{"x-other", "x-m9"}) {
		t.Errorf("XMPP outbox after the forget: %q", ids)
	}
}
