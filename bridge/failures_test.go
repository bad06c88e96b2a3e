package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

func TestTokenInvalidStopsSendingForPage(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.start()
	h.api.failWith(&messenger.GraphError{HTTPStatus: 400, Code: 190, Type: "OAuthException"})
	if e := h.reply("alice@library.test/x", "first"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); m.Body != "[askbridge] Not delivered: "+reasonToken {
		t.Fatalf("notice = %q", m.Body)
	}
	if got := h.b.InvalidTokens(); len(got) != 1 || got[0] != testPage {
		t.Fatalf("InvalidTokens = %v", got)
	}
	// The next reply fails at once, without calling Facebook.
	if e := h.reply("alice@library.test/x", "second"); e != nil {
		t.Fatal(e)
	}
	if m := h.link.next(t); m.Body != "[askbridge] Not delivered: "+reasonToken {
		t.Fatalf("notice = %q", m.Body)
	}
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d, want 1", n)
	}
	// A new token (configuration reload) lifts the block.
	cfg := *h.cfg
	cfg.Messenger.Pages = []config.Page{{ID: testPage, Name: "Central", AccessToken: "new-token"}}
	h.b.SetConfig(&cfg)
	if got := h.b.InvalidTokens(); len(got) != 0 {
		t.Fatalf("InvalidTokens after new token = %v", got)
	}
	if e := h.reply("alice@library.test/x", "third"); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.Text != "third" {
		t.Errorf("got %q", m.Text)
	}
	if tok := h.api.tokens[len(h.api.tokens)-1]; tok != "new-token" {
		t.Errorf("token used = %q", tok)
	}
}

// TestTimeoutThatWentThroughIsNotSentTwice: the Send API call times out
// although Facebook accepted it; its echo (with our metadata) shows that it
// went through, so the bridge does not send it again.
func TestTimeoutThatWentThroughIsNotSentTwice(t *testing.T) {
	h := newHarness(t)
	h.api.lose = 1
	h.api.echo = func(m messenger.OutgoingMessage, mid messenger.MID) {
		e := messenger.Event{Kind: messenger.KindEcho, Page: testPage, Patron: m.Recipient,
			Time: time.Now(), MID: mid, Text: m.Text, AppID: testAppID, Metadata: m.Metadata}
		h.echoes.Go(func() {
			if err := h.b.Accept(context.Background(), []messenger.Event{e}); err != nil {
				h.t.Errorf("accepting the echo: %v", err)
			}
		})
	}
	h.run()
	h.start()
	if e := h.reply("alice@library.test/x", "only once please"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)
	waitFor(t, func() bool {
		for _, r := range h.records() {
			if r.Direction == Outbound && r.State == StateAccepted && r.MID == "m_1" {
				return true
			}
		}
		return false
	})
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	if n := h.api.callCount(); n != 1 {
		t.Errorf("Send API calls = %d, want 1", n)
	}
}

// TestTimeoutWithoutEchoIsRetried: no echo came, so the call did not go
// through and is made again.
func TestTimeoutWithoutEchoIsRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the echo grace period")
	}
	h := newHarness(t)
	h.run()
	h.start()
	h.api.failWith(errTransport)
	if e := h.reply("alice@library.test/x", "again"); e != nil {
		t.Fatal(e)
	}
	if m := h.api.next(t); m.Text != "again" {
		t.Errorf("got %q", m.Text)
	}
	if n := h.api.callCount(); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
	for _, r := range h.records() {
		if r.Direction == Outbound && r.Kind == "reply" && r.Attempts != 2 {
			t.Errorf("attempts = %d, want 2", r.Attempts)
		}
	}
}

var errTransport = &transportError{}

type transportError struct{}

func (*transportError) Error() string { return "connection reset by peer" }

func TestDescribeNeverSilent(t *testing.T) {
	cases := []struct {
		e    messenger.Event
		want string
	}{
		{messenger.Event{Kind: messenger.KindMessage, Attachments: []messenger.Attachment{{Type: "fallback", Title: "A post", URL: "https://fb.example/p"}}}, "[shared link] A post https://fb.example/p"},
		{messenger.Event{Kind: messenger.KindMessage, Attachments: []messenger.Attachment{{Type: "location", Lat: 43.65, Long: -79.38}}}, "[location] 43.650000,-79.380000"},
		{messenger.Event{Kind: messenger.KindMessage}, "[sent something Messenger cannot show here]"},
		{messenger.Event{Kind: messenger.KindReaction, Reaction: "❤"}, "[reacted ❤ to a message]"},
		{messenger.Event{Kind: messenger.KindEdit, Text: "new"}, "[edited a message] new"},
		{messenger.Event{Kind: messenger.KindMessage, Text: "hi", Standby: true}, "(patron, while another app owns the conversation) hi"},
		{messenger.Event{Kind: messenger.KindMessage, Standby: true}, "(patron, while another app owns the conversation) [sent something Messenger cannot show here]"},
		{messenger.Event{Kind: messenger.KindEcho, Text: "done", Standby: true}, "[answered in another app] done"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Deleted: true}, "[unsent a message]"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Unsupported: true}, "[sent something Instagram does not pass on"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Text: "love it", StoryURL: "https://cdn.example/s"}, "[replied to the library's story https://cdn.example/s] love it"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Attachments: []messenger.Attachment{{Type: "story_mention", URL: "https://cdn.example/m"}}}, "[mentioned the library in their story] https://cdn.example/m"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Attachments: []messenger.Attachment{{Type: "share", URL: "https://www.instagram.com/p/abc/"}}}, "[shared a post] https://www.instagram.com/p/abc/"},
		{messenger.Event{Kind: messenger.KindMessage, Channel: messenger.ChannelInstagram, Attachments: []messenger.Attachment{{Type: "ig_reel", Title: "Book haul", URL: "https://www.instagram.com/reel/x/"}}}, "[shared a reel] Book haul https://www.instagram.com/reel/x/"},
		{messenger.Event{Kind: messenger.KindEcho, Channel: messenger.ChannelInstagram, Text: "see you"}, "[answered from the Instagram inbox] see you"},
	}
	for _, c := range cases {
		ch := c.e.Channel
		if ch == "" {
			ch = messenger.ChannelMessenger
		}
		body, _ := describe(&c.e, ch)
		if !strings.HasPrefix(body, c.want) {
			t.Errorf("describe(%+v) = %q, want prefix %q", c.e, body, c.want)
		}
	}
}
