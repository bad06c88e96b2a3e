package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

func next(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("%s: waiting for a message: %v", c.JID(), err)
	}
	return m
}

// nextChat skips chat states without a body.
func nextChat(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	for {
		m := next(t, c)
		if m.Body != "" || m.Type == "error" {
			return m
		}
	}
}

func waitSent(t *testing.T, fb *standin.Server, n int) []standin.SentMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent, err := fb.WaitSent(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d Send API calls: %v (got %d)", n, err, len(fb.Sent()))
	}
	return sent
}

// TestConversationCrossesBothWays is the foundation's promise: a patron's
// message reaches the librarian's Jabber client through a real Prosody, and
// the librarian's reply reaches the Send API.
func TestConversationCrossesBothWays(t *testing.T) {
	conversationCrossesBothWays(t, newWorld(t))
}

// conversationCrossesBothWays runs the foundation's promise on a world
// and returns the librarian's client.
func conversationCrossesBothWays(t *testing.T, w *world) *jabberclient.Client {
	t.Helper()
	lib := w.LoginLibrarian()
	psid := standin.NewPSID()
	ctx := context.Background()

	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, psid, "Do you have \"Dune\" in Spanish? äëï"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	patron := string(psid) + "@" + testenv.ComponentDomain
	if m.Body != "Do you have \"Dune\" in Spanish? äëï" || !strings.HasPrefix(m.From, patron) {
		t.Fatalf("librarian got %+v", m)
	}
	if !strings.Contains(m.Raw, "Facebook patron ") {
		t.Errorf("no nickname in %s", m.Raw)
	}

	if _, err := lib.SendChat(patron, "Yes, two copies at Central."); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.Facebook, 1)
	if sent[0].Recipient != psid || sent[0].Text != "Yes, two copies at Central." || sent[0].MessagingType != "RESPONSE" {
		t.Fatalf("Send API got %+v", sent[0])
	}

	// The stand-in echoes our reply like Facebook does; the echo must not
	// come back to the librarian. A later message proves the order.
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, psid, "thanks!"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "thanks!" {
		t.Fatalf("after the echo the librarian got %q", m.Body)
	}
	return lib
}

func TestDuplicateDeliveryRelayedOnce(t *testing.T) {
	duplicateDeliveryRelayedOnce(t, newWorld(t))
}

// duplicateDeliveryRelayedOnce posts one webhook three times, as Facebook
// may, and checks that the librarian sees the message once.
func duplicateDeliveryRelayedOnce(t *testing.T, w *world) {
	t.Helper()
	lib := w.LoginLibrarian()
	body := []byte(`{"object":"page","entry":[{"id":"` + testenv.PageID + `","time":1700000000000,"messaging":[{"sender":{"id":"1066835436691078"},"recipient":{"id":"` + testenv.PageID + `"},"timestamp":1700000000000,"message":{"mid":"mid.dup-1","text":"only once"}}]}]}`)
	for i := 0; i < 3; i++ {
		status, err := w.Facebook.PostSigned(context.Background(), body)
		if err != nil || status != 200 {
			t.Fatalf("delivery %d: status %d, %v", i, status, err)
		}
	}
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, "1066835436691078", "marker"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "only once" {
		t.Fatalf("first = %q", m.Body)
	}
	if m := nextChat(t, lib); m.Body != "marker" {
		t.Fatalf("second = %q (a duplicate was relayed?)", m.Body)
	}
}

func TestBadSignatureRelaysNothing(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	body := []byte(`{"object":"page","entry":[{"id":"` + testenv.PageID + `","time":1700000000000,"messaging":[{"sender":{"id":"42"},"recipient":{"id":"` + testenv.PageID + `"},"timestamp":1700000000000,"message":{"mid":"mid.forged","text":"forged"}}]}]}`)
	for _, sig := range []string{"", "sha256=" + strings.Repeat("0", 64)} {
		req, _ := http.NewRequest("POST", w.URL("/webhook"), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("signature %q: status %d, want 403", sig, resp.StatusCode)
		}
	}
	// The same body, signed, gets through; the forged copies did not even
	// mark its mid as seen.
	if status, err := w.Facebook.PostSigned(context.Background(), body); err != nil || status != 200 {
		t.Fatalf("signed: %d %v", status, err)
	}
	if m := nextChat(t, lib); m.Body != "forged" {
		t.Fatalf("got %q", m.Body)
	}
}

func TestReplyFromNonOperatorRefused(t *testing.T) {
	w := newWorld(t)
	lib, psid := replyFromNonOperatorRefused(t, w)
	// The librarian's reply still works, and it is the only Send API call.
	if _, err := lib.SendChat(string(psid)+"@"+testenv.ComponentDomain, "staff answer"); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.Facebook, 1)
	// Mallory's message, had the bridge queued it, would have gone first;
	// once nothing is left to relay, no call can come after.
	waitPending(t, w, 0)
	if all := w.Facebook.Sent(); len(all) != 1 || sent[0].Text != "staff answer" {
		t.Fatalf("Send API calls = %+v", all)
	}
}

// replyFromNonOperatorRefused has a patron write to the librarian and
// mallory, who is no operator, answer: the component's forbidden error
// travels back through the server to her. It returns the librarian's
// client and the patron.
func replyFromNonOperatorRefused(t *testing.T, w *world) (*jabberclient.Client, messenger.PSID) {
	t.Helper()
	lib := w.LoginLibrarian()
	mallory := w.Login("mallory", "pw-mallory")
	psid := standin.NewPSID()
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, "hello"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	if _, err := mallory.SendChat(string(psid)+"@"+testenv.ComponentDomain, "I am not staff"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, mallory); m.Type != "error" || m.ErrorCondition != "forbidden" {
		t.Fatalf("mallory got %+v, want a forbidden error", m)
	}
	return lib, psid
}

// patronWrites makes a new Messenger patron write text, waits until the
// librarian's client has it, and returns the patron's JID.
func (w *world) patronWrites(lib *jabberclient.Client, text string) string {
	w.t.Helper()
	psid := standin.NewPSID()
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, text); err != nil {
		w.t.Fatal(err)
	}
	nextChat(w.t, lib)
	return string(psid) + "@" + testenv.ComponentDomain
}

func TestUndeliverableReplyComesBack(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	patron := w.patronWrites(lib, "hello")
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException",
		Message: "(#10) This message is sent outside of allowed window."})
	if _, err := lib.SendChat(patron, "too late"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	if !strings.HasPrefix(m.Body, "[askbridge] Not delivered: Facebook allows replies only within 24 hours") {
		t.Fatalf("librarian got %q", m.Body)
	}
}

func TestWebhookVerificationAndHealth(t *testing.T) {
	w := newWorld(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(w.URL(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/webhook?hub.mode=subscribe&hub.verify_token=verify-me-webhook-token&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Errorf("verification: %d %q", code, body)
	}
	if code, _ := get("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); code != 403 {
		t.Errorf("wrong verify token: %d", code)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if err := w.Daemon.Working(context.Background()); err != nil {
		t.Errorf("watchdog check while working: %v", err)
	}
	code, body := get("/readyz")
	var r daemon.Readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || !r.Ready || r.Checks["xmpp"] != "ok" {
		t.Errorf("readyz: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "askbridge_outbox_depth") {
		t.Errorf("metrics: %d", code)
	}
	// Prosody goes away: not ready, and it says why.
	if err := w.Server.Stop(); err != nil {
		t.Fatal(err)
	}
	if !testenv.Holds(10*time.Second, func() bool {
		code, body = get("/readyz")
		return code == 503 && strings.Contains(body, "xmpp")
	}) {
		t.Fatalf("readyz with Prosody down: %d %s", code, body)
	}
}

// TestForbiddenXMLCharactersDoNotBreakTheStream: NUL and other C0
// controls in a patron's text are stripped; the stream stays up.
func TestForbiddenXMLCharactersDoNotBreakTheStream(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	body := []byte(`{"object":"page","entry":[{"id":"` + testenv.PageID + `","time":1700000000000,"messaging":[{"sender":{"id":"5100000000000001"},"recipient":{"id":"` + testenv.PageID + `"},"timestamp":1700000000000,"message":{"mid":"mid.ctl","text":"bell\u0007 nul\u0000 esc\u001b ok"}}]}]}`)
	if status, err := w.Facebook.PostSigned(context.Background(), body); err != nil || status != 200 {
		t.Fatalf("status %d, %v", status, err)
	}
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, "5100000000000001", "next"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "bell nul esc ok" {
		t.Errorf("got %q", m.Body)
	}
	if m := nextChat(t, lib); m.Body != "next" {
		t.Errorf("got %q", m.Body)
	}
}

// TestRefusedPageTokenShowsInReadiness: after Facebook answers 190 the
// librarian is told, and /readyz names the Page.
func TestRefusedPageTokenShowsInReadiness(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	psid := standin.NewPSID()
	if _, err := w.Facebook.PatronSays(context.Background(), testenv.PageID, psid, "hello"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 190, Type: "OAuthException", Message: "Error validating access token"})
	if _, err := lib.SendChat(string(psid)+"@"+testenv.ComponentDomain, "answer"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); !strings.Contains(m.Body, "access token is no longer valid") {
		t.Fatalf("librarian got %q", m.Body)
	}
	body := w.waitReadyz(503)
	if !strings.Contains(body, `"facebook":"Facebook refused the access token (error 190) of Page(s) `+testenv.PageID) {
		t.Errorf("readyz: %s", body)
	}
}
