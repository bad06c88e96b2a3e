package testenv

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/xmpp"
)

// The world's Facebook app and Page, the bridge's component and the
// librarian whose account is the queue: fixed, so that tests can name them.
const (
	AppID       = "1708188056130407"
	AppSecret   = "app-secret-for-tests"
	VerifyToken = "verify-me-webhook-token"
	PageID      = "510249619162304"
	PageName    = "Central Library"
	PageToken   = "EAA-page-token"
	// InstagramID is the Page's linked Instagram professional account.
	InstagramID       = "17841400000000000"
	ComponentDomain   = "fb.localhost"
	ComponentSecret   = "component-secret"
	Librarian         = "librarian"
	LibrarianPassword = "pw-librarian"
)

// Options change a World.
type Options struct {
	// Server is the Jabber server; Prosody if empty.
	Server Kind
	// Users are accounts to register besides the librarian's.
	Users []User
	// ComponentStanzaLimit is the server's (see ServerOptions).
	ComponentStanzaLimit int
	// Config, if set, changes the daemon's configuration before it is
	// checked and used.
	Config func(*config.Config)
	// NoDaemon leaves the daemon to the test (the askbridge binary, run on
	// Config's values, listening at Addr).
	NoDaemon bool
	// Log, if set, receives the in-process daemon's log besides the test's
	// log.
	Log zapcore.Core
	// BeforeRun, if set, sees each in-process daemon after it is built and
	// before it runs.
	BeforeRun func(*daemon.Daemon)
}

// World is a private Jabber server with the librarian's account, the
// Facebook stand-in, a daemon configuration and, unless Options.NoDaemon,
// a daemon running in-process on them.
type World struct {
	// Server is the Jabber server; the bridge connects to it as
	// ComponentDomain.
	Server Server
	// Facebook is the stand-in: it serves the Graph API at GraphURL and
	// posts webhooks to Addr.
	Facebook *standin.Server
	GraphURL string
	// Addr is the daemon's HTTP host:port.
	Addr string
	// Config is the daemon's configuration.
	Config *config.Config
	// Daemon is the in-process daemon while it runs, else nil.
	Daemon *daemon.Daemon

	tb   TB
	o    Options
	log  *zap.Logger
	stop func()
}

// New starts a world for the test and ends it when the test does: the
// server (skipping the test when it is missing), the stand-in and, unless
// o.NoDaemon, the daemon, once it reports ready.
func New(tb TB, o Options) *World {
	tb.Helper()
	if o.Server == "" {
		o.Server = Prosody
	}
	w := &World{tb: tb, o: o}
	w.Server = NewServer(tb, o.Server, ServerOptions{
		Host:                 "localhost",
		Components:           []Component{{Domain: ComponentDomain, Secret: ComponentSecret}},
		Users:                append([]User{{Name: Librarian, Password: LibrarianPassword}}, o.Users...),
		ComponentStanzaLimit: o.ComponentStanzaLimit,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: the daemon's HTTP listener: %v", err)
	}
	w.Addr = ln.Addr().String()
	if o.NoDaemon {
		ln.Close() // the test's daemon listens here
	} else {
		tb.Cleanup(func() { ln.Close() }) // in case the daemon never took it
	}
	w.Facebook = standin.New(standin.Config{
		AppID: AppID, AppSecret: AppSecret, WebhookURL: w.URL("/webhook"),
		Pages:  []standin.Page{{ID: PageID, Name: PageName, AccessToken: PageToken, InstagramID: InstagramID}},
		Echoes: true, Log: zaptest.NewLogger(tb).Named("facebook"),
	})
	graph := httptest.NewServer(w.Facebook.Handler())
	tb.Cleanup(graph.Close)
	tb.Cleanup(w.Facebook.Close)
	w.GraphURL = graph.URL

	w.Config = w.newConfig()
	if o.Config != nil {
		o.Config(w.Config)
	}
	if err := w.Config.Validate(); err != nil {
		tb.Fatalf("testenv: the daemon's configuration: %v", err)
	}
	if o.NoDaemon {
		return w
	}
	w.log = zaptest.NewLogger(tb).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		if o.Log == nil {
			return c
		}
		return zapcore.NewTee(c, o.Log)
	}))
	tb.Cleanup(w.StopDaemon)
	w.run(ln)
	return w
}

// newConfig is the daemon's configuration in this world.
func (w *World) newConfig() *config.Config {
	librarian := Librarian + "@" + w.Server.Domain()
	return &config.Config{
		StateDir: w.tb.TempDir(),
		Log:      config.Log{Level: "debug", Format: "console"},
		HTTP:     config.HTTP{Listen: w.Addr},
		Messenger: config.Messenger{
			AppID: AppID, AppSecret: AppSecret, VerifyToken: VerifyToken,
			GraphURL: w.GraphURL, APIVersion: "v25.0",
			Pages: []config.Page{{ID: PageID, Name: PageName, AccessToken: PageToken, InstagramID: InstagramID}},
		},
		XMPP: config.XMPP{
			Server: w.Server.ComponentAddr(), Domain: ComponentDomain, Secret: ComponentSecret,
			Queue: librarian, Operators: []string{librarian}, Routing: "queue",
		},
		Sessions: config.Sessions{Timezone: "UTC", IdleTimeout: 30 * time.Minute},
		Stats:    config.Stats{FiscalYearStart: 7},
		Privacy:  config.Privacy{TranscriptRetention: 720 * time.Hour},
	}
}

// run starts a daemon on w.Config serving HTTP on ln, with short XMPP
// keepalive and backoff and no periodic Facebook checks, and waits until
// it is ready.
func (w *World) run(ln net.Listener) {
	w.tb.Helper()
	d, err := daemon.New(w.Config, w.log, daemon.Options{Listener: ln, NoUpkeep: true,
		XMPP: xmpp.Config{PingInterval: time.Second, PingTimeout: 2 * time.Second, BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second}})
	if err != nil {
		w.tb.Fatalf("testenv: daemon: %v", err)
	}
	if w.o.BeforeRun != nil {
		w.o.BeforeRun(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(ctx) }()
	w.Daemon = d
	w.stop = func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				w.tb.Errorf("daemon Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			w.tb.Errorf("daemon did not stop within 15s")
		}
	}
	w.waitReady()
}

// waitReady waits until the daemon's /readyz answers 200.
func (w *World) waitReady() {
	w.tb.Helper()
	var last string
	ready := func() bool {
		resp, err := http.Get(w.URL("/readyz"))
		if err != nil {
			last = err.Error()
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(body)
		return resp.StatusCode == 200
	}
	if !Holds(15*time.Second, ready) {
		w.tb.Fatalf("not ready: %s", last)
	}
}

// StopDaemon stops the in-process daemon, if it runs, and checks that it
// stopped cleanly.
func (w *World) StopDaemon() {
	if w.stop != nil {
		w.stop()
		w.stop, w.Daemon = nil, nil
	}
}

// RestartDaemon stops the in-process daemon and starts another on the same
// state directory and HTTP address.
func (w *World) RestartDaemon() {
	w.tb.Helper()
	w.StopDaemon()
	ln, err := net.Listen("tcp", w.Addr)
	if err != nil {
		w.tb.Fatalf("testenv: the daemon's HTTP listener: %v", err)
	}
	w.run(ln)
}

// URL is the daemon's address for path ("/readyz").
func (w *World) URL(path string) string { return "http://" + w.Addr + path }

// Login logs user (a local part) in to the server with password, and logs
// the client out when the test ends.
func (w *World) Login(user, password string) *jabberclient.Client {
	w.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, w.Server.C2SAddr(), jid.MustParse(user+"@"+w.Server.Domain()), password, zaptest.NewLogger(w.tb).Named(user))
	if err != nil {
		w.tb.Fatalf("testenv: %s logs in: %v", user, err)
	}
	w.tb.Cleanup(func() { c.Close() })
	return c
}

// LoginLibrarian logs the librarian, the queue, in (see Login).
func (w *World) LoginLibrarian() *jabberclient.Client {
	w.tb.Helper()
	return w.Login(Librarian, LibrarianPassword)
}

// Holds calls cond until it holds, for at most within, and reports whether
// it did: the tests' one pause between polls, for what the daemon
// announces no other way (/readyz, /metrics, its store, its log).
func Holds(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
