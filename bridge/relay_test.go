package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

func TestPatronMessageReachesQueue(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.accept(patronText("mid.1", "When do you open?", h.clock.Now()))
	m := h.link.next(t)
	if m.From.String() != testPSID+"@"+testDomain || m.To.String() != testQueue || m.Body != "When do you open?" || m.Type != "chat" {
		t.Fatalf("stanza = %+v", m)
	}
	if !strings.HasPrefix(m.Nick, "Facebook patron ") || strings.Contains(m.Nick, testPSID) {
		t.Errorf("nick = %q", m.Nick)
	}
	if m.ID == "" {
		t.Error("stanza has no id")
	}
	waitFor(t, func() bool {
		rs := h.records()
		return len(rs) == 1 && rs[0].State == StateSent
	})
	r := h.records()[0]
	if r.Direction != Inbound || r.MID != "mid.1" || r.XMPPID != m.ID || r.Text != "" || r.Guest == "" || strings.Contains(r.Guest, testPSID) {
		t.Errorf("ledger record = %+v", r)
	}
}

func TestDuplicateDeliveryRelayedOnce(t *testing.T) {
	h := newHarness(t)
	h.run()
	e := patronText("mid.dup", "hello", h.clock.Now())
	h.accept(e)
	h.accept(e, e) // Facebook redelivers, even twice in one POST
	redelivered := e
	redelivered.Time = e.Time.Add(time.Second) // with another timestamp
	h.accept(redelivered)
	h.link.next(t)
	h.quiet(t)
}

func TestPatronEventsOrderedByTimestamp(t *testing.T) {
	h := newHarness(t)
	h.run()
	now := h.clock.Now()
	other := patronText("mid.o", "other patron", now)
	other.Patron = "2222"
	h.accept(
		patronText("mid.3", "three", now.Add(3*time.Millisecond)),
		other,
		patronText("mid.1", "one", now.Add(1*time.Millisecond)),
		patronText("mid.2", "two", now.Add(2*time.Millisecond)),
	)
	var mine []string
	for i := 0; i < 4; i++ {
		m := h.link.next(t)
		if strings.HasPrefix(m.From.String(), testPSID) {
			mine = append(mine, m.Body)
		}
	}
	if strings.Join(mine, ",") != "one,two,three" {
		t.Errorf("order = %v", mine)
	}
}

func TestEchoes(t *testing.T) {
	h := newHarness(t)
	h.run()
	own := messenger.Event{Kind: messenger.KindEcho, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "m_own", Text: "our reply", AppID: testAppID}
	inbox := messenger.Event{Kind: messenger.KindEcho, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "m_inbox", Text: "answered in the Page inbox", AppID: "263902037430900"}
	h.accept(own, inbox)
	m := h.link.next(t)
	if !strings.Contains(m.Body, "Facebook Page inbox") || !strings.Contains(m.Body, "answered in the Page inbox") {
		t.Errorf("other app's echo = %q", m.Body)
	}
	h.quiet(t)
}

func TestAttachmentsAndPostbacksAreReadable(t *testing.T) {
	h := newHarness(t)
	h.run()
	img := patronText("mid.img", "", h.clock.Now())
	img.Attachments = []messenger.Attachment{{Type: "image", URL: "https://scontent.example/x.jpg"}}
	sticker := patronText("mid.st", "", h.clock.Now().Add(time.Millisecond))
	sticker.Attachments = []messenger.Attachment{{Type: "image", URL: "https://scontent.example/s.png", StickerID: "369239263222822"}}
	pb := messenger.Event{Kind: messenger.KindPostback, Page: testPage, Patron: testPSID, Time: h.clock.Now().Add(2 * time.Millisecond), Text: "Opening hours", Payload: "HOURS"}
	h.accept(img, sticker, pb)
	if m := h.link.next(t); m.OOB != "https://scontent.example/x.jpg" || !strings.Contains(m.Body, "https://scontent.example/x.jpg") {
		t.Errorf("image = %+v", m)
	}
	if m := h.link.next(t); m.Body != "[sticker]" {
		t.Errorf("sticker = %q", m.Body)
	}
	if m := h.link.next(t); m.Body != "[pressed button] Opening hours" {
		t.Errorf("postback = %q", m.Body)
	}
}

func TestUnknownPageAndBadPSIDDropped(t *testing.T) {
	h := newHarness(t)
	h.run()
	e := patronText("mid.x", "x", h.clock.Now())
	e.Page = "999"
	bad := patronText("mid.y", "y", h.clock.Now())
	bad.Patron = "12<script>"
	good := patronText("mid.z", "z", h.clock.Now())
	h.accept(e, bad, good)
	if m := h.link.next(t); m.Body != "z" {
		t.Errorf("got %q", m.Body)
	}
	h.quiet(t)
}

func TestLinkDownMessagesWaitInOrder(t *testing.T) {
	h := newHarness(t)
	h.link.setUp(false)
	h.run()
	now := h.clock.Now()
	for i, text := range []string{"a", "b", "c"} {
		h.accept(patronText("mid."+text, text, now.Add(time.Duration(i)*time.Millisecond)))
	}
	// Accept queued them in its own commit; with the link down they stay
	// queued: none written, none given up.
	rs := h.records()
	if len(rs) != 3 {
		t.Fatalf("%d ledger records, want 3", len(rs))
	}
	for _, r := range rs {
		if r.State != StateQueued {
			t.Errorf("while the link is down, record %+v", r)
		}
	}
	h.link.none(t)
	h.link.setUp(true)
	h.b.LinkChanged(true)
	var got []string
	for range 3 {
		got = append(got, h.link.next(t).Body)
	}
	if strings.Join(got, "") != "abc" {
		t.Errorf("order after link up = %v", got)
	}
}

func TestInboxSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	// Accepted but never dispatched: the daemon died right after the 200.
	h.accept(patronText("mid.r1", "before restart", h.clock.Now()))
	h.close()
	h.open()
	h.run()
	if m := h.link.next(t); m.Body != "before restart" {
		t.Errorf("got %q", m.Body)
	}
	// The mid is still known after the restart.
	h.accept(patronText("mid.r1", "before restart", h.clock.Now()))
	h.quiet(t)
}

func TestAcceptFailsWhenStoreFails(t *testing.T) {
	h := newHarness(t)
	h.store.Close()
	err := h.b.Accept(context.Background(), []messenger.Event{patronText("mid.f", "x", time.Now())})
	if err == nil {
		t.Fatal("Accept on a closed store succeeded")
	}
	h.store = nil
}

func TestTranscriptsOnlyWhenEnabled(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Privacy.Transcripts = true })
	h.run()
	h.accept(patronText("mid.t", "kept text", h.clock.Now()))
	h.link.next(t)
	waitFor(t, func() bool { rs := h.records(); return len(rs) == 1 && rs[0].Text == "kept text" })
}

// waitFor polls cond until it holds, for at most 10s: the package's one
// pause between polls, for conditions that no event announces (the store,
// a counter, the fake clock's timers).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
