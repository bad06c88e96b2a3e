package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger/standin"
)

// TestMessengerPlatform2026 runs, against the real daemon, Prosody and the
// stand-in, what the Messenger Platform sends and expects in 2026: a
// sticker in both of its forms reaches the librarian once; a conversation
// another app owns (standby) reaches the librarian marked and gets no
// automatic reply; an automatic reply tells the patron it is automatic.
func TestMessengerPlatform2026(t *testing.T) {
	w := newWorld(t, func(c *config.Config) {
		c.Sessions.Greeting = "Hi! A librarian will be with you shortly."
		c.Sessions.DiscloseAutomatic = true // the default of a configuration file
	})
	lib := w.LoginLibrarian()
	ctx := context.Background()
	post := func(body string) {
		t.Helper()
		if status, err := w.Facebook.PostSigned(ctx, []byte(body)); err != nil || status != 200 {
			t.Fatalf("webhook: %d %v", status, err)
		}
	}
	now := time.Now().UnixMilli()

	// Standby first: no greeting may go out for it.
	owned := standin.NewPSID()
	post(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"standby":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_standby_1","text":"question for the bot"}}]}]}`,
		testenv.PageID, now, owned, testenv.PageID, now))
	if m := chatUntil(t, lib, "(patron"); m.Body != "(patron, while another app owns the conversation) question for the bot" {
		t.Errorf("standby message shown as %q", m.Body)
	}

	// A sticker sent as "sticker" and as "image" at once.
	sticker := standin.NewPSID()
	post(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_sticker_2026","attachments":[`+
		`{"type":"sticker","payload":{"sticker_id":369239263222822,"url":"https://scontent.xx.fbcdn.net/s.png"}},`+
		`{"type":"image","payload":{"sticker_id":369239263222822,"url":"https://scontent.xx.fbcdn.net/s.png"}}]}}]}]}`,
		testenv.PageID, now, sticker, testenv.PageID, now))
	if m := chatUntil(t, lib, "[sticker]"); m.Body != "[sticker]" {
		t.Errorf("sticker shown as %q", m.Body)
	}
	// The greeting of that new conversation is the first Send API call:
	// none went to the standby patron, and it says it is automatic.
	sent := waitSent(t, w.Facebook, 1)
	if sent[0].Recipient != sticker || sent[0].Text != "(Automatic reply) Hi! A librarian will be with you shortly." {
		t.Errorf("first Send API call %+v", sent[0])
	}
	if m := nextChat(t, lib); !strings.HasPrefix(m.Body, "[automatic reply sent to the patron] Hi!") {
		t.Errorf("after the sticker the librarian got %q (the sticker twice?)", m.Body)
	}
	// A later message of the sticker patron proves nothing else came.
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, sticker, "marker"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "marker" {
		t.Errorf("then the librarian got %q", m.Body)
	}
	for _, s := range w.Facebook.Sent() {
		if s.Recipient == owned {
			t.Errorf("a Send API call went to the patron another app answers: %+v", s)
		}
	}
}
