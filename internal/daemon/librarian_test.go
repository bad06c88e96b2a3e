package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger/standin"
)

func nextPresence(t *testing.T, c *jabberclient.Client, match func(jabberclient.Received) bool) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		p, err := c.NextPresence(ctx)
		if err != nil {
			t.Fatalf("%s: waiting for a presence: %v", c.JID(), err)
		}
		if match(p) {
			return p
		}
	}
}

// approve accepts the component's subscription request, as an operator's
// client asks its user to.
func approve(t *testing.T, c *jabberclient.Client) {
	t.Helper()
	nextPresence(t, c, func(p jabberclient.Received) bool { return p.From == testenv.ComponentDomain && p.Type == "subscribe" })
	if err := c.SendRaw(`<presence to='` + testenv.ComponentDomain + `' type='subscribed'/>`); err != nil {
		t.Fatal(err)
	}
}

// TestBroadcastWithTwoOperators: in broadcast routing a conversation is
// offered to the available operators; an operator who comes back from
// away is offered it too; the first reply wins and the other is told.
func TestBroadcastWithTwoOperators(t *testing.T) {
	w := newWorld(t, func(c *config.Config) {
		c.XMPP.Routing = "broadcast"
		c.XMPP.Operators = []string{"librarian@localhost", "ya@localhost"}
	})
	lib := w.LoginLibrarian()
	ya := w.Login("ya", "pw-ya")
	approve(t, lib)
	approve(t, ya)
	if err := ya.SendRaw(`<presence><show>away</show></presence>`); err != nil {
		t.Fatal(err)
	}
	// The component handles stanzas in the order Prosody routes them, and
	// Prosody routes each sender's stanzas in order: once the component
	// answers an operator's IQ, her earlier presence (the librarian's
	// available one, ya's away status) has reached the bridge.
	for who, c := range map[string]*jabberclient.Client{"librarian": lib, "ya": ya} {
		if err := c.SendRaw(`<iq type='get' id='after-presence' to='` + testenv.ComponentDomain + `'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
			t.Fatal(err)
		}
		iqCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err := c.NextIQ(iqCtx)
		cancel()
		if err != nil || r.ID != "after-presence" {
			t.Fatalf("%s's ping to the component: %+v, %v", who, r, err)
		}
	}

	psid := standin.NewPSID()
	patron := string(psid) + "@" + testenv.ComponentDomain
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, "Is there a teen book club?"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "Is there a teen book club?" {
		t.Fatalf("librarian got %q", m.Body)
	}
	p := nextPresence(t, lib, func(p jabberclient.Received) bool { return strings.HasPrefix(p.From, patron) })
	if p.Type != "" || !strings.Contains(p.Raw, "Facebook patron ") {
		t.Errorf("patron presence = %s", p.Raw)
	}
	// Ya comes back: the unclaimed conversation is offered to her as well.
	if err := ya.SendRaw(`<presence/>`); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, ya); !strings.Contains(m.Body, "is waiting for a librarian") || !strings.HasPrefix(m.From, patron) {
		t.Fatalf("ya got %q from %s", m.Body, m.From)
	}
	if _, err := ya.SendChat(patron, "Yes! Thursdays at 4."); err != nil {
		t.Fatal(err)
	}
	if sent := waitSent(t, w.Facebook, 1); sent[0].Text != "Yes! Thursdays at 4." {
		t.Fatalf("Send API got %q", sent[0].Text)
	}
	if m := nextChat(t, lib); !strings.HasPrefix(m.Body, "[answered by ya@localhost]") {
		t.Fatalf("librarian was told %q", m.Body)
	}
	if _, err := lib.SendChat(patron, "me too"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); !strings.HasPrefix(m.Body, "[askbridge] Not sent: ya@localhost is answering") {
		t.Fatalf("librarian got %q", m.Body)
	}
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, "thanks"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, ya); m.Body != "thanks" {
		t.Fatalf("ya got %q", m.Body)
	}
	if n := len(w.Facebook.Sent()); n != 1 {
		t.Errorf("Send API calls = %d", n)
	}
}

// TestLibrarianChatFeatures covers what a librarian's client sees and
// sends in queue routing: the patron's presence and nickname, subscription
// approval, attachments both ways, typing, receipts and read markers,
// corrections, the gateway's identity and the ad-hoc commands.
func TestLibrarianChatFeatures(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	psid := standin.NewPSID()
	patron := string(psid) + "@" + testenv.ComponentDomain
	ctx := context.Background()
	post := func(body string) {
		t.Helper()
		if status, err := w.Facebook.PostSigned(ctx, []byte(body)); err != nil || status != 200 {
			t.Fatalf("webhook: %d %v", status, err)
		}
	}
	now := time.Now().UnixMilli()
	post(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"mid.photo","attachments":[{"type":"image","payload":{"url":"https://scontent.example/cover.jpg"}}]}}]}]}`,
		testenv.PageID, now, psid, testenv.PageID, now))
	m := nextChat(t, lib)
	if !strings.Contains(m.Body, "https://scontent.example/cover.jpg") || !strings.Contains(m.Raw, `<x xmlns="jabber:x:oob"><url>https://scontent.example/cover.jpg</url>`) {
		t.Errorf("image: %s", m.Raw)
	}
	// XEP-0359: the stable id also as origin-id, for clients that
	// deduplicate a message sent again after a crash.
	if !strings.Contains(m.Raw, `<origin-id xmlns="urn:xmpp:sid:0" id="`+m.ID+`">`) {
		t.Errorf("no origin-id through the server: %s", m.Raw)
	}
	nextPresence(t, lib, func(p jabberclient.Received) bool {
		return strings.HasPrefix(p.From, patron) && p.Type == "" && strings.Contains(p.Raw, "Facebook patron ")
	})

	// Subscribing to the patron is approved.
	if err := lib.SendRaw(`<presence to='` + patron + `' type='subscribe'/>`); err != nil {
		t.Fatal(err)
	}
	nextPresence(t, lib, func(p jabberclient.Received) bool { return strings.HasPrefix(p.From, patron) && p.Type == "subscribed" })

	// Typing, then a reply asking for a receipt and a read marker.
	if err := lib.SendRaw(`<message to='` + patron + `' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`); err != nil {
		t.Fatal(err)
	}
	if err := lib.SendRaw(`<message id='r1' to='` + patron + `' type='chat'><body>Here it is.</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>`); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.Facebook, 2)
	if sent[0].SenderAction != "typing_on" || sent[1].Text != "Here it is." {
		t.Fatalf("Send API got %+v", sent)
	}
	// A file shared by link goes as an attachment.
	if err := lib.SendRaw(`<message id='f1' to='` + patron + `' type='chat'><body>https://upload.localhost/x/hours.pdf</body><x xmlns='jabber:x:oob'><url>https://upload.localhost/x/hours.pdf</url></x></message>`); err != nil {
		t.Fatal(err)
	}
	if sent := waitSent(t, w.Facebook, 3); sent[2].Attachment == nil || sent[2].Attachment.Type != "file" {
		t.Errorf("file share: %+v", sent[2])
	}
	// The patron reads: the librarian gets a receipt and a displayed marker.
	// The bridge notes what awaits a receipt when it records the call's
	// outcome; Facebook's read watermark counts whole milliseconds, so the
	// read comes in a millisecond after that.
	waitPending(t, w, 0)
	recorded := time.Now().UnixMilli()
	if !testenv.Holds(time.Second, func() bool { return time.Now().UnixMilli() > recorded }) {
		t.Fatal("the clock stands still")
	}
	if err := w.Facebook.PatronRead(ctx, testenv.PageID, psid); err != nil {
		t.Fatal(err)
	}
	var receipt, displayed bool
	for !(receipt && displayed) {
		m := next(t, lib)
		receipt = receipt || strings.Contains(m.Raw, `<received xmlns="urn:xmpp:receipts" id="r1">`)
		displayed = displayed || strings.Contains(m.Raw, `<displayed xmlns="urn:xmpp:chat-markers:0" id="r1">`)
	}
	// The librarian's own displayed marker becomes mark_seen.
	if err := lib.SendRaw(`<message to='` + patron + `' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='whatever'/></message>`); err != nil {
		t.Fatal(err)
	}
	if sent := waitSent(t, w.Facebook, 4); sent[3].SenderAction != "mark_seen" {
		t.Errorf("marker: %+v", sent[3])
	}

	// The patron edits a message: an XEP-0308 correction of the original.
	post(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"mid.q","text":"Do you hve Dune?"}}]}]}`,
		testenv.PageID, now+10, psid, testenv.PageID, now+10))
	orig := nextChat(t, lib)
	post(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message_edit":{"mid":"mid.q","text":"Do you have Dune?","num_edit":1}}]}]}`,
		testenv.PageID, now+20, psid, testenv.PageID, now+20))
	fix := nextChat(t, lib)
	if fix.Body != "Do you have Dune?" || !strings.Contains(fix.Raw, `<replace xmlns="urn:xmpp:message-correct:0" id="`+orig.ID+`">`) {
		t.Errorf("correction: %s (original id %s)", fix.Raw, orig.ID)
	}

	// The gateway's identity, and the ad-hoc commands.
	if err := lib.SendRaw(`<iq type='get' id='d1' to='` + testenv.ComponentDomain + `'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); err != nil {
		t.Fatal(err)
	}
	iqctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := lib.NextIQ(iqctx)
	if err != nil || !strings.Contains(info.Raw, `category="gateway"`) || !strings.Contains(info.Raw, `type="facebook"`) ||
		!strings.Contains(info.Raw, `http://jabber.org/protocol/commands`) {
		t.Errorf("disco#info: %s %v", info.Raw, err)
	}
	if err := lib.SendRaw(`<iq type='set' id='c1' to='` + testenv.ComponentDomain + `'><command xmlns='http://jabber.org/protocol/commands' node='askbridge/open' action='execute'/></iq>`); err != nil {
		t.Fatal(err)
	}
	open, err := lib.NextIQ(iqctx)
	if err != nil || !strings.Contains(open.Raw, `status="completed"`) || !strings.Contains(open.Raw, "1 open") {
		t.Errorf("open conversations: %s %v", open.Raw, err)
	}
	// When the session ends, the patron goes offline.
	if _, err := lib.SendChat(patron, "!close"); err != nil {
		t.Fatal(err)
	}
	nextPresence(t, lib, func(p jabberclient.Received) bool {
		return strings.HasPrefix(p.From, patron) && p.Type == "unavailable"
	})
}
