package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/stats"
)

// TestInstagramCrossesBothWays runs an Instagram Direct conversation
// through the real daemon, Prosody and the stand-in: the patron's message
// reaches the librarian from ig-<IGSID>@…, the reply goes to the Send API
// for the IGSID with the Page token, Instagram's echo of it (no app_id, no
// metadata) is not shown back, the patron's "seen" reaches the librarian's
// client, and the session counts as instagram.
func TestInstagramCrossesBothWays(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	ctx := context.Background()
	igsid := standin.NewPSID()
	patron := messenger.PSID("ig-" + string(igsid))
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, patron, "is the teen zine workshop still on saturday?"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	jid := "ig-" + string(igsid) + "@" + testenv.ComponentDomain
	if !strings.HasPrefix(m.From, jid) || m.Body != "is the teen zine workshop still on saturday?" || !strings.Contains(m.Raw, "Instagram patron ") {
		t.Fatalf("librarian got %+v", m)
	}
	if err := lib.SendRaw(`<message type="chat" id="ig-r1" to="` + jid + `"><body>Yes! 2 pm.</body><markable xmlns="urn:xmpp:chat-markers:0"/></message>`); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.Facebook, 1)
	if sent[0].Recipient != igsid || sent[0].Text != "Yes! 2 pm." || sent[0].Page != testenv.PageID {
		t.Fatalf("Send API got %+v", sent[0])
	}
	// The echo comes back as Instagram sends it; a later message proves
	// it was not relayed.
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, patron, "cool, thanks"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "cool, thanks" {
		t.Fatalf("after the echo the librarian got %q", m.Body)
	}
	if err := w.Facebook.PatronRead(ctx, testenv.PageID, patron); err != nil {
		t.Fatal(err)
	}
	for {
		m := next(t, lib)
		if strings.Contains(m.Raw, `<displayed xmlns="urn:xmpp:chat-markers:0" id="ig-r1">`) {
			break
		}
	}
	if _, err := lib.SendChat(jid, "!close"); err != nil {
		t.Fatal(err)
	}
	s := w.waitSessions(messenger.PSID(patron), "the close", func(s []stats.Session) bool { return len(s) == 1 && !s[0].Open() })[0]
	if s.Protocol != stats.ProtocolInstagram || s.Status != stats.StatusAnswered || s.MessagesIn != 2 || s.MessagesOut != 1 {
		t.Errorf("session %+v", s)
	}
	day := time.Now().UTC().Format("2006-01-02")
	if csv := exportBody(t, w, "sessions", "csv", day); !strings.Contains(csv, ",instagram,librarian@localhost,") {
		t.Errorf("export lacks the Instagram session:\n%s", csv)
	}
}
