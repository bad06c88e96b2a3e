package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/prosody"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/xmpp"
)

const (
	e2ePage   = "510249619162304"
	e2eDomain = "fb.localhost"
	e2eAppID  = "1708188056130407"
	e2eSecret = "app-secret-for-tests"
	e2eToken  = "EAA-page-token"
	// e2eInstagram is the Page's linked Instagram professional account.
	e2eInstagram = "17841400000000000"
)

// world is a real Prosody, a running daemon on a real BoltDB file, the
// Facebook stand-in, and librarians logged in over c2s.
type world struct {
	t       *testing.T
	srv     *prosody.Server
	fb      *standin.Server
	fbURL   string
	cfg     *config.Config
	addr    string
	c2s     string // where users log in
	d       *Daemon
	stop    func()
	stopped chan error
	// log is the daemon's logger, for a restart.
	log *zap.Logger
}

func newWorld(t *testing.T, mutate ...func(*config.Config)) *world {
	t.Helper()
	return newWorldWith(t, nil, mutate...)
}

// newWorldWith is newWorld with the Prosody options changed by server
// (nil for none).
func newWorldWith(t *testing.T, server func(*prosody.Options), mutate ...func(*config.Config)) *world {
	t.Helper()
	w := &world{t: t}
	o := prosody.Options{
		Host:       "localhost",
		Components: []prosody.Component{{Domain: e2eDomain, Secret: "component-secret"}},
		Users: []prosody.User{
			{Name: "librarian", Password: "pw-librarian"},
			{Name: "mallory", Password: "pw-mallory"},
			{Name: "ya", Password: "pw-ya"},
		},
	}
	if server != nil {
		server(&o)
	}
	w.srv = prosody.StartTest(t, o)
	w.start(w.srv.ComponentAddr(), w.srv.C2SAddr(), mutate...)
	return w
}

// start runs the Facebook stand-in and a daemon attached to the Jabber
// server at componentAddr, whose users log in at c2sAddr, and waits until
// the daemon is ready. Every log line of the daemon also goes to a buffer
// that must never hold a secret or a PSID.
func (w *world) start(componentAddr, c2sAddr string, mutate ...func(*config.Config)) {
	t := w.t
	t.Helper()
	w.c2s = c2sAddr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = ln.Addr().String()
	w.fb = standin.New(standin.Config{
		AppID: e2eAppID, AppSecret: e2eSecret, WebhookURL: "http://" + w.addr + "/webhook",
		Pages: []standin.Page{{ID: e2ePage, Name: "Central Library", AccessToken: e2eToken, InstagramID: e2eInstagram}}, Echoes: true,
		Log: zaptest.NewLogger(t).Named("facebook"),
	})
	fbSrv := httptest.NewServer(w.fb.Handler())
	t.Cleanup(fbSrv.Close)
	t.Cleanup(w.fb.Close)
	w.fbURL = fbSrv.URL

	w.cfg = &config.Config{
		StateDir: t.TempDir(),
		Log:      config.Log{Level: "debug", Format: "console"},
		HTTP:     config.HTTP{Listen: w.addr},
		Messenger: config.Messenger{
			AppID: e2eAppID, AppSecret: e2eSecret, VerifyToken: "verify-me-webhook-token",
			GraphURL: fbSrv.URL, APIVersion: "v25.0",
			Pages: []config.Page{{ID: e2ePage, Name: "Central Library", AccessToken: e2eToken, InstagramID: e2eInstagram}},
		},
		XMPP: config.XMPP{
			Server: componentAddr, Domain: e2eDomain, Secret: "component-secret",
			Queue: "librarian@localhost", Operators: []string{"librarian@localhost"}, Routing: "queue",
		},
		Sessions: config.Sessions{Timezone: "UTC", IdleTimeout: 30 * time.Minute},
		Stats:    config.Stats{FiscalYearStart: 7},
		Privacy:  config.Privacy{TranscriptRetention: 720 * time.Hour},
	}
	for _, m := range mutate {
		m(w.cfg)
	}
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		for _, secret := range []string{e2eSecret, e2eToken, "component-secret", "verify-me-webhook-token"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret appears in the log: %q", secret)
			}
		}
		if logs.Len() == 0 {
			t.Error("the daemon logged nothing at debug level")
		}
		// Patron identity (PSIDs are 15–17 digits) never appears either,
		// not even in a patron JID.
		// A guest pseudonym is 16 hex digits, which may all be decimal
		// ones (about once in 2,000): those, logged as guests, are not
		// PSIDs.
		guests := map[string]bool{}
		for _, g := range guestField.FindAllStringSubmatch(logs.String(), -1) {
			guests[g[1]] = true
		}
		for _, m := range psidLike.FindAllString(logs.String(), -1) {
			if m != e2ePage && m != e2eAppID && m != e2eInstagram && !guests[m] {
				t.Errorf("a PSID-like number appears in the log: %s", m)
				break
			}
		}
	})
	bufCore := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.DebugLevel)
	w.log = zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), bufCore))
	t.Cleanup(func() {
		if w.stop != nil {
			w.stop()
		}
	})
	w.run(ln)
}

// run starts a daemon on w.cfg serving HTTP on ln, and waits until it is
// ready; w.stop stops it.
func (w *world) run(ln net.Listener) {
	t := w.t
	t.Helper()
	d, err := New(w.cfg, w.log, Options{Listener: ln, NoUpkeep: true,
		XMPP: xmpp.Config{PingInterval: time.Second, PingTimeout: 2 * time.Second, BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	w.d = d
	if err := d.working(context.Background()); err == nil {
		t.Error("the watchdog check passed before the HTTP server serves")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopped = make(chan error, 1)
	go func() { w.stopped <- d.Run(ctx) }()
	w.stop = func() {
		cancel()
		select {
		case err := <-w.stopped:
			if err != nil {
				t.Errorf("daemon Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop within 15s")
		}
	}
	w.waitReady()
}

// restart stops the daemon and starts another on the same state directory
// and HTTP address.
func (w *world) restart() {
	w.t.Helper()
	w.stop()
	w.stop = nil
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	w.run(ln)
}

func (w *world) waitReady() {
	w.t.Helper()
	var last string
	ready := func() bool {
		resp, err := http.Get("http://" + w.addr + "/readyz")
		if err != nil {
			last = err.Error()
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(body)
		return resp.StatusCode == 200
	}
	if !holds(15*time.Second, ready) {
		w.t.Fatalf("not ready: %s", last)
	}
}

// holds calls cond until it holds, for at most within, and reports
// whether it did: the package's one pause between polls, for what the
// daemon announces no other way (/readyz, /metrics, the store).
func holds(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func (w *world) login(user, password string) *jabberclient.Client {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, w.c2s, jid.MustParse(user+"@localhost"), password, zaptest.NewLogger(w.t).Named(user))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

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
	lib := w.login("librarian", "pw-librarian")
	psid := standin.NewPSID()
	ctx := context.Background()

	if _, err := w.fb.PatronSays(ctx, e2ePage, psid, "Do you have \"Dune\" in Spanish? äëï"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	patron := string(psid) + "@" + e2eDomain
	if m.Body != "Do you have \"Dune\" in Spanish? äëï" || !strings.HasPrefix(m.From, patron) {
		t.Fatalf("librarian got %+v", m)
	}
	if !strings.Contains(m.Raw, "Facebook patron ") {
		t.Errorf("no nickname in %s", m.Raw)
	}

	if _, err := lib.SendChat(patron, "Yes, two copies at Central."); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.fb, 1)
	if sent[0].Recipient != psid || sent[0].Text != "Yes, two copies at Central." || sent[0].MessagingType != "RESPONSE" {
		t.Fatalf("Send API got %+v", sent[0])
	}

	// The stand-in echoes our reply like Facebook does; the echo must not
	// come back to the librarian. A later message proves the order.
	if _, err := w.fb.PatronSays(ctx, e2ePage, psid, "thanks!"); err != nil {
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
	lib := w.login("librarian", "pw-librarian")
	body := []byte(`{"object":"page","entry":[{"id":"` + e2ePage + `","time":1700000000000,"messaging":[{"sender":{"id":"1066835436691078"},"recipient":{"id":"` + e2ePage + `"},"timestamp":1700000000000,"message":{"mid":"mid.dup-1","text":"only once"}}]}]}`)
	for i := 0; i < 3; i++ {
		status, err := w.fb.PostSigned(context.Background(), body)
		if err != nil || status != 200 {
			t.Fatalf("delivery %d: status %d, %v", i, status, err)
		}
	}
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, "1066835436691078", "marker"); err != nil {
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
	lib := w.login("librarian", "pw-librarian")
	body := []byte(`{"object":"page","entry":[{"id":"` + e2ePage + `","time":1700000000000,"messaging":[{"sender":{"id":"42"},"recipient":{"id":"` + e2ePage + `"},"timestamp":1700000000000,"message":{"mid":"mid.forged","text":"forged"}}]}]}`)
	for _, sig := range []string{"", "sha256=" + strings.Repeat("0", 64)} {
		req, _ := http.NewRequest("POST", "http://"+w.addr+"/webhook", bytes.NewReader(body))
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
	if status, err := w.fb.PostSigned(context.Background(), body); err != nil || status != 200 {
		t.Fatalf("signed: %d %v", status, err)
	}
	if m := nextChat(t, lib); m.Body != "forged" {
		t.Fatalf("got %q", m.Body)
	}
}

func TestReplyFromNonOperatorRefused(t *testing.T) {
	w := newWorld(t)
	lib := w.login("librarian", "pw-librarian")
	mallory := w.login("mallory", "pw-mallory")
	psid := standin.NewPSID()
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, psid, "hello"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	if _, err := mallory.SendChat(string(psid)+"@"+e2eDomain, "I am not staff"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, mallory)
	if m.Type != "error" || m.ErrorCondition != "forbidden" {
		t.Fatalf("mallory got %+v, want a forbidden error", m)
	}
	// The librarian's reply still works, and it is the only Send API call.
	if _, err := lib.SendChat(string(psid)+"@"+e2eDomain, "staff answer"); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, w.fb, 1)
	// Mallory's message, had the bridge queued it, would have gone first;
	// once nothing is left to relay, no call can come after.
	waitPending(t, w, 0)
	if all := w.fb.Sent(); len(all) != 1 || sent[0].Text != "staff answer" {
		t.Fatalf("Send API calls = %+v", all)
	}
}

// patronWrites makes a new Messenger patron write text, waits until the
// librarian's client has it, and returns the patron's JID.
func (w *world) patronWrites(lib *jabberclient.Client, text string) string {
	w.t.Helper()
	psid := standin.NewPSID()
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, psid, text); err != nil {
		w.t.Fatal(err)
	}
	nextChat(w.t, lib)
	return string(psid) + "@" + e2eDomain
}

func TestUndeliverableReplyComesBack(t *testing.T) {
	w := newWorld(t)
	lib := w.login("librarian", "pw-librarian")
	patron := w.patronWrites(lib, "hello")
	w.fb.FailNext(e2ePage, messenger.GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException",
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
		resp, err := http.Get("http://" + w.addr + path)
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
	if err := w.d.working(context.Background()); err != nil {
		t.Errorf("watchdog check while working: %v", err)
	}
	code, body := get("/readyz")
	var r readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || !r.Ready || r.Checks["xmpp"] != "ok" {
		t.Errorf("readyz: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "askbridge_outbox_depth") {
		t.Errorf("metrics: %d", code)
	}
	// Prosody goes away: not ready, and it says why.
	if err := w.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if !holds(10*time.Second, func() bool {
		code, body = get("/readyz")
		return code == 503 && strings.Contains(body, "xmpp")
	}) {
		t.Fatalf("readyz with Prosody down: %d %s", code, body)
	}
}

var psidLike = regexp.MustCompile(`\b[0-9]{15,17}\b`)

// guestField finds the guest pseudonyms in JSON log lines.
var guestField = regexp.MustCompile(`"guest":"([0-9a-f]{16})"`)

// lockedBuffer is a bytes.Buffer safe for concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// TestForbiddenXMLCharactersDoNotBreakTheStream: NUL and other C0
// controls in a patron's text are stripped; the stream stays up.
func TestForbiddenXMLCharactersDoNotBreakTheStream(t *testing.T) {
	w := newWorld(t)
	lib := w.login("librarian", "pw-librarian")
	body := []byte(`{"object":"page","entry":[{"id":"` + e2ePage + `","time":1700000000000,"messaging":[{"sender":{"id":"5100000000000001"},"recipient":{"id":"` + e2ePage + `"},"timestamp":1700000000000,"message":{"mid":"mid.ctl","text":"bell\u0007 nul\u0000 esc\u001b ok"}}]}]}`)
	if status, err := w.fb.PostSigned(context.Background(), body); err != nil || status != 200 {
		t.Fatalf("status %d, %v", status, err)
	}
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, "5100000000000001", "next"); err != nil {
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
	lib := w.login("librarian", "pw-librarian")
	psid := standin.NewPSID()
	if _, err := w.fb.PatronSays(context.Background(), e2ePage, psid, "hello"); err != nil {
		t.Fatal(err)
	}
	nextChat(t, lib)
	w.fb.FailNext(e2ePage, messenger.GraphError{HTTPStatus: 400, Code: 190, Type: "OAuthException", Message: "Error validating access token"})
	if _, err := lib.SendChat(string(psid)+"@"+e2eDomain, "answer"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); !strings.Contains(m.Body, "access token is no longer valid") {
		t.Fatalf("librarian got %q", m.Body)
	}
	body := w.waitReadyz(503)
	if !strings.Contains(body, `"facebook":"Facebook refused the access token (error 190) of Page(s) `+e2ePage) {
		t.Errorf("readyz: %s", body)
	}
}
