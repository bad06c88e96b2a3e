package bridge

import (
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

func TestTransfer(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Privacy.Transcripts = true
		c.XMPP.Operators = []string{"*@library.test", "ya@teen.library.test"}
	})
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "let me find someone"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	if e := h.reply("alice@library.test/x", "!transfer mallory@evil.example"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); !strings.HasPrefix(m.Body, "[askbridge] Cannot transfer to mallory@evil.example") {
		t.Fatalf("refusal = %q", m.Body)
	}
	if e := h.reply("alice@library.test/x", "!transfer ya@teen.library.test"); e != nil {
		t.Fatal(e)
	}
	var toYA, ack string
	for range 2 {
		m := h.link.next(t)
		switch m.To.String() {
		case "ya@teen.library.test":
			toYA = m.Body
		case "alice@library.test/x":
			ack = m.Body
		}
	}
	if ack != "[askbridge] Transferred to ya@teen.library.test (you will be told here if ya@teen.library.test cannot be reached)." {
		t.Errorf("ack = %q", ack)
	}
	if !strings.HasPrefix(toYA, "[transferred to you by alice@library.test]") ||
		!strings.Contains(toYA, "patron: question") || !strings.Contains(toYA, "alice@library.test: let me find someone") {
		t.Errorf("summary = %q", toYA)
	}
	h.accept(patronText("mid.after", "hello?", h.clock.Now()))
	if m := h.link.next(t); m.To.String() != "ya@teen.library.test" {
		t.Errorf("after transfer the patron's message went to %q", m.To)
	}
	if e := h.reply("alice@library.test/x", "!close"); e != nil {
		t.Fatal(e)
	}
	h.link.next(t)
	if s := h.sessions(); len(s) != 1 || s[0].Transfers != 1 {
		t.Errorf("sessions = %+v", s)
	}
}

func TestTransferWithoutTranscriptsSummarises(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "!transfer bob@library.test"); e != nil {
		t.Fatal(e)
	}
	for range 2 {
		m := h.link.next(t)
		if m.To.String() == "bob@library.test" && (!strings.Contains(m.Body, "1 message(s) from the patron") || strings.Contains(m.Body, "question")) {
			t.Errorf("summary = %q", m.Body)
		}
	}
}

func TestLibrarianSharesFile(t *testing.T) {
	cases := []struct {
		body, oob string
		want      *messenger.Attachment
	}{
		{"https://upload.library.test/abc/map.png", "", &messenger.Attachment{Type: "image", URL: "https://upload.library.test/abc/map.png"}},
		{"", "https://upload.library.test/x/guide.pdf", &messenger.Attachment{Type: "file", URL: "https://upload.library.test/x/guide.pdf"}},
		{"https://upload.library.test/x/clip.MP4", "https://upload.library.test/x/clip.MP4", &messenger.Attachment{Type: "video", URL: "https://upload.library.test/x/clip.MP4"}},
		{"see https://library.test/hours.png", "", nil},
		{"http://insecure.test/a.png", "", nil},
		{"https://library.test/catalog", "", nil},
	}
	for _, c := range cases {
		got := outgoingAttachment(c.body, c.oob)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("outgoingAttachment(%q, %q) = %+v, want %+v", c.body, c.oob, got, c.want)
		}
	}
	h := newHarness(t)
	h.run()
	h.start()
	if e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: "f1", From: jid.MustParse("alice@library.test/x"), To: jid.MustParse(testPSID + "@" + testDomain),
		Type: "chat", Body: "https://upload.library.test/abc/map.png", OOB: "https://upload.library.test/abc/map.png"}); e != nil {
		t.Fatal(e)
	}
	m := h.api.next(t)
	if m.Attachment == nil || m.Attachment.Type != "image" || m.Text != "" {
		t.Errorf("Send API got %+v", m)
	}
}

func TestTypingIndicators(t *testing.T) {
	h := newHarness(t)
	h.fakeTimers = true
	h.close()
	h.open() // with the bridge's timers on h.clock
	h.run()
	h.start()
	state := func(s string) {
		if e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: "cs", From: jid.MustParse("alice@library.test/x"), To: jid.MustParse(testPSID + "@" + testDomain),
			Type: "chat", ChatState: s}); e != nil {
			t.Fatal(e)
		}
	}
	state("composing")
	if m := h.api.next(t); m.SenderAction != "typing_on" {
		t.Fatalf("got %+v", m)
	}
	state("composing") // within the rate limit: nothing
	state("paused")
	h.lookWithin(t, typingOffAfter) // the typing_off, later
	h.clock.Advance(typingOffAfter)
	if m := h.api.next(t); m.SenderAction != "typing_off" {
		t.Fatalf("got %+v", m)
	}
	state("paused") // already off: nothing
	// A stranger's chat states never reach Facebook. Past typingGap, one
	// let through would start its typing_on at once.
	h.clock.Advance(typingGap)
	if e := h.b.HandleMessage(t.Context(), xmpp.Message{ID: "cs2", From: jid.MustParse("mallory@evil.example/x"), To: jid.MustParse(testPSID + "@" + testDomain),
		Type: "chat", ChatState: "composing"}); e != nil {
		t.Fatal(e)
	}
	h.settle(t)
	h.stop() // waits for every sender action started
	if n := h.api.callCount(); n != 2 {
		t.Errorf("Send API calls = %d, want 2", n)
	}
}

func TestReactionQuotesTheMessage(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Privacy.Transcripts = true })
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "We open at nine tomorrow."); e != nil {
		t.Fatal(e)
	}
	h.api.next(t) // accepted as m_1
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	h.accept(messenger.Event{Kind: messenger.KindReaction, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "m_1", Reaction: "❤", ReactionAction: "react"})
	if m := h.link.next(t); m.Body != "[reacted ❤ to: We open at nine tomorrow.]" {
		t.Errorf("got %q", m.Body)
	}
}
