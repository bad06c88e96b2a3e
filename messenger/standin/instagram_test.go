package standin

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/messenger"
)

// TestInstagramPatron checks the stand-in's Instagram Direct: the patron's
// message and read state as Instagram webhooks, the reply through the
// same Send API with the Page token, and its echo as Instagram sends it.
func TestInstagramPatron(t *testing.T) {
	r := newRig(t, true)
	ctx := context.Background()
	mid, err := r.st.PatronSays(ctx, pageA, igPatron, "is the zine workshop on?")
	if err != nil {
		t.Fatal(err)
	}
	ev := r.sink.wait(t, 1)[0]
	if ev.Channel != messenger.ChannelInstagram || ev.Page != instagramA || ev.Patron != "6045123456789012" || ev.MID != mid || ev.Kind != messenger.KindMessage {
		t.Errorf("event %+v", ev)
	}
	if raw := r.rawBodies()[0]; !bytes.HasPrefix(raw, []byte(`{"object":"instagram","entry":[{"id":"17841400000000000"`)) {
		t.Errorf("body %s", raw)
	}
	res, err := r.client.Send(ctx, tokenA, pageA, messenger.OutgoingMessage{Recipient: "6045123456789012", Text: "Yes, Saturday!", Metadata: "askbridge:01"})
	if err != nil {
		t.Fatal(err)
	}
	echo := r.sink.wait(t, 2)[1]
	if echo.Kind != messenger.KindEcho || echo.Channel != messenger.ChannelInstagram || echo.Patron != "6045123456789012" ||
		echo.MID != res.MessageID || echo.AppID != "" || echo.Metadata != "" || echo.Text != "Yes, Saturday!" {
		t.Errorf("echo %+v", echo)
	}
	if err := r.st.PatronRead(ctx, pageA, igPatron); err != nil {
		t.Fatal(err)
	}
	seen := r.sink.wait(t, 3)[2]
	if seen.Kind != messenger.KindRead || seen.MID != res.MessageID || !seen.Watermark.IsZero() {
		t.Errorf("seen %+v", seen)
	}
	// The reply is in the Instagram conversation, not a Messenger one.
	entries := r.st.entriesAfter(ctx, pageA, igPatron, 0, 0)
	if len(entries) != 2 || entries[1].From != fromPage || entries[1].Text != "Yes, Saturday!" {
		t.Errorf("conversation %+v", entries)
	}
	if _, err := r.st.PatronSays(ctx, pageB, "ig-1", "hi"); err == nil || !strings.Contains(err.Error(), "no Instagram account") {
		t.Errorf("a Page without Instagram: %v", err)
	}
}
