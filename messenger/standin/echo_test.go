package standin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

func TestEchoes(t *testing.T) {
	r := newRig(t, true)
	ctx := context.Background()
	msgs := []messenger.OutgoingMessage{
		{Recipient: patron, Text: "Bonjour, ça va ?", Metadata: "askbridge:out:1"},
		{Recipient: patron, SenderAction: messenger.SenderActionTypingOn}, // never echoed
		{Recipient: patron, Attachment: &messenger.Attachment{Type: "image", URL: "https://library.example.org/map.png"}},
		{Recipient: patron, Text: "third", Metadata: "askbridge:out:3"},
	}
	var mids []messenger.MID
	for _, m := range msgs {
		res, err := r.client.Send(ctx, tokenA, pageA, m)
		if err != nil {
			t.Fatal(err)
		}
		if res.MessageID != "" {
			mids = append(mids, res.MessageID)
		}
	}
	events := r.sink.wait(t, 3)
	want := []messenger.Event{
		{Kind: messenger.KindEcho, Page: pageA, Patron: patron, MID: mids[0], Text: "Bonjour, ça va ?", AppID: testAppID, Metadata: "askbridge:out:1"},
		{Kind: messenger.KindEcho, Page: pageA, Patron: patron, MID: mids[1], AppID: testAppID,
			Attachments: []messenger.Attachment{{Type: "image", URL: "https://library.example.org/map.png"}}},
		{Kind: messenger.KindEcho, Page: pageA, Patron: patron, MID: mids[2], Text: "third", AppID: testAppID, Metadata: "askbridge:out:3"},
	}
	for i, w := range want {
		got := events[i]
		if got.Time.IsZero() {
			t.Errorf("echo %d has no time", i)
		}
		got.Time = time.Time{}
		if got.Kind != w.Kind || got.Page != w.Page || got.Patron != w.Patron || got.MID != w.MID || got.Text != w.Text ||
			got.AppID != w.AppID || got.Metadata != w.Metadata || len(got.Attachments) != len(w.Attachments) {
			t.Errorf("echo %d\n got %+v\nwant %+v", i, got, w)
			continue
		}
		for j := range w.Attachments {
			if got.Attachments[j] != w.Attachments[j] {
				t.Errorf("echo %d attachment %+v, want %+v", i, got.Attachments[j], w.Attachments[j])
			}
		}
	}
	// app_id travels as a JSON number, as Facebook sends it.
	raw := r.rawBodies()[0]
	if want := `"app_id":` + testAppID + `,`; !strings.Contains(string(raw), want) {
		t.Errorf("echo body %s lacks %s", raw, want)
	}
	r.echoesPosted(t)
	if n := len(r.sink.snapshot()); n != 3 {
		t.Errorf("bridge got %d events, want 3 (no echo for sender actions)", n)
	}
}

func TestNoEchoesWhenOff(t *testing.T) {
	r := newRig(t, false)
	if _, err := r.client.Send(context.Background(), tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	r.echoesPosted(t)
	if n := len(r.rawBodies()); n != 0 {
		t.Errorf("bridge got %d webhook POSTs with echoes off", n)
	}
}
