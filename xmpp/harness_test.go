package xmpp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/prosody"
	"github.com/askbridge/askbridge/xmpp"
)

const (
	domain   = "fb.test"
	secret   = "component-secret"
	patron   = "12345@fb.test"
	waitLong = 10 * time.Second
)

// recorder is a Handler that records everything, in channels large enough
// never to block the reading goroutine in these tests.
type recorder struct {
	msgs    chan xmpp.Message
	bounces chan xmpp.Bounce
	links   chan bool

	mu    sync.Mutex
	reply *xmpp.StanzaError // returned by HandleMessage
}

var _ xmpp.Handler = (*recorder)(nil)

func newRecorder() *recorder {
	return &recorder{
		msgs:    make(chan xmpp.Message, 1000),
		bounces: make(chan xmpp.Bounce, 1000),
		links:   make(chan bool, 1000),
	}
}

func (r *recorder) HandleMessage(_ context.Context, m xmpp.Message) *xmpp.StanzaError {
	r.mu.Lock()
	reply := r.reply // read before the test can see m and change it
	r.mu.Unlock()
	r.msgs <- m
	return reply
}

func (r *recorder) HandleBounce(_ context.Context, b xmpp.Bounce) { r.bounces <- b }

func (r *recorder) LinkChanged(up bool) { r.links <- up }

func (r *recorder) setReply(e *xmpp.StanzaError) {
	r.mu.Lock()
	r.reply = e
	r.mu.Unlock()
}

// wantLink waits for LinkChanged(up).
func (r *recorder) wantLink(t *testing.T, up bool, within time.Duration) {
	t.Helper()
	select {
	case got := <-r.links:
		if got != up {
			t.Fatalf("LinkChanged(%v), want LinkChanged(%v)", got, up)
		}
	case <-time.After(within):
		t.Fatalf("no LinkChanged(%v) within %v", up, within)
	}
}

func (r *recorder) nextMessage(t *testing.T) xmpp.Message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(waitLong):
		t.Fatal("no message reached the handler")
		return xmpp.Message{}
	}
}

func (r *recorder) nextBounce(t *testing.T) xmpp.Bounce {
	t.Helper()
	select {
	case b := <-r.bounces:
		return b
	case <-time.After(waitLong):
		t.Fatal("no bounce reached the handler")
		return xmpp.Bounce{}
	}
}

// env is a Prosody with the component domain and a librarian account.
type env struct {
	srv  *prosody.Server
	logs *observer.ObservedLogs
	log  *zap.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := prosody.StartTest(t, prosody.Options{
		Components: []prosody.Component{{Domain: domain, Secret: secret}},
		Users:      []prosody.User{{Name: "librarian", Password: "pw"}, {Name: "visitor", Password: "pw"}},
	})
	// Logs go to the observer for assertions and to the test log, shown
	// with -v or when the test fails.
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
	return &env{srv: srv, logs: logs, log: log}
}

// config is a test configuration with short intervals.
func (e *env) config() xmpp.Config {
	return xmpp.Config{
		Server:       e.srv.ComponentAddr(),
		Domain:       domain,
		Secret:       secret,
		Name:         "askbridge-test",
		Version:      "1.2.3",
		PingInterval: 2 * time.Second,
		PingTimeout:  2 * time.Second,
		BackoffMin:   50 * time.Millisecond,
		BackoffMax:   500 * time.Millisecond,
		WriteTimeout: 2 * time.Second,
	}
}

// run starts a component with cfg and a recorder and stops it when the
// test ends, checking that Run returns nil.
func (e *env) run(t *testing.T, cfg xmpp.Config) (*xmpp.Component, *recorder) {
	t.Helper()
	rec := newRecorder()
	return e.runWith(t, cfg, rec), rec
}

// runWith is run with any Handler.
func (e *env) runWith(t *testing.T, cfg xmpp.Config, h xmpp.Handler) *xmpp.Component {
	t.Helper()
	c, err := xmpp.New(cfg, h, e.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return c
}

// librarian logs in the librarian account.
func (e *env) librarian(t *testing.T) *jabberclient.Client {
	t.Helper()
	return e.login(t, "librarian")
}

// login logs in an account (all have the password "pw") with a new
// resource.
func (e *env) login(t *testing.T, user string) *jabberclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	c, err := jabberclient.Dial(ctx, e.srv.C2SAddr(), jid.MustParse(user+"@"+e.srv.Domain()), "pw", nil)
	if err != nil {
		t.Fatalf("%s login: %v%s", user, err, e.srv.LogTail())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func next(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	r, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("librarian received nothing: %v", err)
	}
	return r
}

func nextPresence(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	r, err := c.NextPresence(ctx)
	if err != nil {
		t.Fatalf("%s received no presence: %v", c.JID(), err)
	}
	return r
}

func nextRosterPush(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	r, err := c.NextRosterPush(ctx)
	if err != nil {
		t.Fatalf("%s received no roster push: %v", c.JID(), err)
	}
	return r
}

// quiet checks that c has received no presence the test has not taken,
// without waiting for a while. The server handles a session's stanzas in
// order, and comp's in order: so once c's ping is answered, whatever the
// server sent c for c's own stanzas has arrived, and the next presence c
// receives must be the one comp sends it last, as a barrier.
func quiet(t *testing.T, comp *xmpp.Component, c *jabberclient.Client) {
	t.Helper()
	if err := c.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	const barrier = "barrier@" + domain
	sendPresence(t, comp, xmpp.Presence{ID: "quiet", From: jid.MustParse(barrier), To: jid.MustParse(c.JID()), Type: "unavailable"})
	if r := nextPresence(t, c); r.From != barrier || r.ID != "quiet" {
		t.Errorf("%s received an unexpected presence: %s", c.JID(), r.Raw)
	}
}

func nextIQ(t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	r, err := c.NextIQ(ctx)
	if err != nil {
		t.Fatalf("librarian received no iq answer: %v", err)
	}
	return r
}

// eventually polls cond until it holds or within passes: the package's
// one pause between polls, for what no event announces.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sendEventually retries Send while the link is not (yet) up.
func sendEventually(t *testing.T, c *xmpp.Component, m xmpp.Message) {
	t.Helper()
	eventually(t, waitLong, "Send with the link up", func() bool {
		err := c.Send(m)
		if err != nil && !errors.Is(err, xmpp.ErrNotConnected) {
			t.Fatalf("Send: %v", err)
		}
		return err == nil
	})
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %s:\n%s", what, sub, s)
		}
	}
}
