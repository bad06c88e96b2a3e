package daemon

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/ejabberd"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/xmpp"
)

// ejabberdWorld is newWorld's world on Debian's ejabberd instead of
// Prosody: the basic relay must work against both servers.
type ejabberdWorld struct {
	*world
	ej *ejabberd.Server
}

func newEjabberdWorld(t *testing.T) *ejabberdWorld {
	t.Helper()
	w := &ejabberdWorld{world: &world{t: t}}
	w.ej = ejabberd.StartTest(t, ejabberd.Options{
		Host:       "localhost",
		Components: []ejabberd.Component{{Domain: e2eDomain, Secret: "component-secret"}},
		Users: []ejabberd.User{
			{Name: "librarian", Password: "pw-librarian"},
			{Name: "mallory", Password: "pw-mallory"},
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = ln.Addr().String()
	w.fb = standin.New(standin.Config{
		AppID: e2eAppID, AppSecret: e2eSecret, WebhookURL: "http://" + w.addr + "/webhook",
		Pages: []standin.Page{{ID: e2ePage, Name: "Central Library", AccessToken: e2eToken}}, Echoes: true,
		Log: zaptest.NewLogger(t).Named("facebook"),
	})
	fbSrv := httptest.NewServer(w.fb.Handler())
	t.Cleanup(fbSrv.Close)
	w.fbURL = fbSrv.URL

	w.cfg = &config.Config{
		StateDir: t.TempDir(),
		Log:      config.Log{Level: "debug", Format: "console"},
		HTTP:     config.HTTP{Listen: w.addr},
		Messenger: config.Messenger{
			AppID: e2eAppID, AppSecret: e2eSecret, VerifyToken: "verify-me",
			GraphURL: fbSrv.URL, APIVersion: "v21.0",
			Pages: []config.Page{{ID: e2ePage, Name: "Central Library", AccessToken: e2eToken}},
		},
		XMPP: config.XMPP{
			Server: w.ej.ComponentAddr, Domain: e2eDomain, Secret: "component-secret",
			Queue: "librarian@localhost", Operators: []string{"librarian@localhost"}, Routing: "queue",
		},
		Sessions: config.Sessions{Timezone: "UTC", IdleTimeout: 30 * time.Minute},
		Privacy:  config.Privacy{TranscriptRetention: 720 * time.Hour},
	}
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		for _, secret := range []string{e2eSecret, e2eToken, "component-secret", "verify-me"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret appears in the log: %q", secret)
			}
		}
	})
	bufCore := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.DebugLevel)
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), bufCore))
	d, err := New(w.cfg, log, Options{Listener: ln,
		XMPP: xmpp.Config{PingInterval: time.Second, PingTimeout: 2 * time.Second, BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second}})
	if err != nil {
		t.Fatal(err)
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
	t.Cleanup(func() {
		if w.stop != nil {
			w.stop()
		}
	})
	// Ready means the component is connected and its keepalive pings,
	// which ejabberd routes back to the component, are answered.
	w.waitReady()
	return w
}

// login logs a user in over ejabberd's c2s listener.
func (w *ejabberdWorld) login(user, password string) *jabberclient.Client {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, w.ej.C2SAddr, jid.MustParse(user+"@localhost"), password, zaptest.NewLogger(w.t).Named(user))
	if err != nil {
		w.t.Fatalf("%v%s", err, w.ej.LogTail())
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

// TestEjabberdConversationCrossesBothWays is TestConversationCrossesBothWays
// on ejabberd: patron → librarian through ejabberd, the reply → Send API,
// our own echo not relayed; and ejabberd routes a librarian's disco query
// to the component.
func TestEjabberdConversationCrossesBothWays(t *testing.T) {
	w := newEjabberdWorld(t)
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
	if _, err := w.fb.PatronSays(ctx, e2ePage, psid, "thanks!"); err != nil {
		t.Fatal(err)
	}
	if m := nextChat(t, lib); m.Body != "thanks!" {
		t.Fatalf("after the echo the librarian got %q", m.Body)
	}

	if err := lib.SendRaw(`<iq type="get" id="disco-1" to="` + e2eDomain + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	iq, err := lib.NextIQ(qctx)
	if err != nil {
		t.Fatal(err)
	}
	if iq.ID != "disco-1" || iq.Type != "result" || !strings.Contains(iq.Raw, "<identity") {
		t.Errorf("disco#info of the component through ejabberd: %+v", iq)
	}
}

func TestEjabberdDuplicateDeliveryRelayedOnce(t *testing.T) {
	w := newEjabberdWorld(t)
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

// TestEjabberdReplyFromNonOperatorRefused: the component's forbidden error
// travels back through ejabberd to the sender.
func TestEjabberdReplyFromNonOperatorRefused(t *testing.T) {
	w := newEjabberdWorld(t)
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
	if m := nextChat(t, mallory); m.Type != "error" || m.ErrorCondition != "forbidden" {
		t.Fatalf("mallory got %+v, want a forbidden error", m)
	}
}

// TestEjabberdReplyWhileComponentAway: unlike Prosody, ejabberd knows a
// component domain only while the component is connected; a librarian
// writing to a patron meanwhile must still get an error, never silence.
// (With s2s enabled, ejabberd would first try the domain as a remote
// server; see docs/deploy.md.)
func TestEjabberdReplyWhileComponentAway(t *testing.T) {
	w := newEjabberdWorld(t)
	lib := w.login("librarian", "pw-librarian")
	w.stop()
	w.stop = nil
	if _, err := lib.SendChat("4100000000000003@"+e2eDomain, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	if m.Type != "error" || m.ErrorCondition == "" {
		t.Fatalf("librarian got %+v, want an error stanza", m)
	}
	t.Logf("ejabberd answered %s: %s", m.ErrorCondition, m.Raw)
}
