package xmpp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"
)

func TestRestartReconnects(t *testing.T) {
	e := newEnv(t)
	comp, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)

	if err := e.srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec.wantLink(t, false, waitLong)
	rec.wantLink(t, true, waitLong)
	lib := e.librarian(t)
	sendEventually(t, comp, xmpp.Message{ID: "after-restart", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "back"})
	if r := next(t, lib); r.ID != "after-restart" || r.Body != "back" {
		t.Errorf("received %+v", r)
	}
}

func TestFrozenServer(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.PingInterval = 200 * time.Millisecond
	cfg.PingTimeout = 400 * time.Millisecond
	comp, rec := e.run(t, cfg)
	rec.wantLink(t, true, waitLong)
	eventually(t, 2*time.Second, "a keepalive round trip", func() bool { return !comp.LastKeepalive().IsZero() })

	if err := e.srv.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	resumed := false
	defer func() {
		if !resumed {
			_ = e.srv.Resume()
		}
	}()
	rec.wantLink(t, false, 3*time.Second)
	t.Logf("link declared down %v after the server froze", time.Since(paused).Round(time.Millisecond))
	if comp.Connected() {
		t.Error("Connected() true after LinkChanged(false)")
	}
	err := comp.Send(xmpp.Message{ID: "frozen", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "x"})
	if !errors.Is(err, xmpp.ErrNotConnected) {
		t.Errorf("Send while down = %v, want ErrNotConnected", err)
	}
	// Reconnect attempts hang on the frozen server and time out.
	eventually(t, 5*time.Second, "a reconnect attempt timed out on the frozen server", func() bool {
		return e.logs.FilterMessage("cannot connect the component").Len() >= 1
	})

	if err := e.srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	before := comp.LastKeepalive()
	rec.wantLink(t, true, 5*time.Second)
	eventually(t, 2*time.Second, "a keepalive after resume", func() bool { return comp.LastKeepalive().After(before) })
	lib := e.librarian(t)
	sendEventually(t, comp, xmpp.Message{ID: "thawed", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "back"})
	if r := next(t, lib); r.ID != "thawed" {
		t.Errorf("received %+v", r)
	}
}

func TestWrongSecret(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Secret = "not-the-secret"
	comp, _ := e.run(t, cfg)
	eventually(t, 5*time.Second, "two logged rejections", func() bool {
		return e.logs.FilterMessageSnippet("rejected the component secret").Len() >= 2
	})
	if comp.Connected() {
		t.Error("Connected() with a wrong secret")
	}
	for _, entry := range e.logs.All() {
		for k, v := range entry.ContextMap() {
			if strings.Contains(fmt.Sprint(v), "not-the-secret") {
				t.Errorf("log entry %q leaks the secret in %s", entry.Message, k)
			}
		}
	}
	if err := comp.Send(xmpp.Message{ID: "x", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost")}); !errors.Is(err, xmpp.ErrNotConnected) {
		t.Errorf("Send = %v, want ErrNotConnected", err)
	}
}

func TestConflict(t *testing.T) {
	e := newEnv(t)
	first, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)
	second, _ := e.run(t, e.config())
	eventually(t, 5*time.Second, "a logged conflict", func() bool {
		return e.logs.FilterMessageSnippet("already connected").Len() >= 1
	})
	if second.Connected() || !first.Connected() {
		t.Errorf("first connected %v, second %v", first.Connected(), second.Connected())
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t)
	rec := newRecorder()
	comp, err := xmpp.New(e.config(), rec, e.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- comp.Run(ctx) }()
	rec.wantLink(t, true, waitLong)
	if err := comp.Run(ctx); err == nil {
		t.Error("a second concurrent Run succeeded")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	rec.wantLink(t, false, time.Second)
	if comp.Connected() {
		t.Error("Connected() after Run returned")
	}
	// A clean close lets a new component take the domain at once, without
	// a conflict.
	_, rec2 := e.run(t, e.config())
	rec2.wantLink(t, true, waitLong)
	if n := e.logs.FilterMessageSnippet("already connected").Len(); n > 0 {
		t.Errorf("%d conflicts after a clean shutdown", n)
	}
}

// TestSync: Sync returns once the server has routed what was written
// before it, and fails when the server is frozen or the link is down.
func TestSync(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.PingInterval = time.Hour // only Sync pings
	cfg.PingTimeout = 500 * time.Millisecond
	comp, rec := e.run(t, cfg)
	rec.wantLink(t, true, waitLong)
	lib := e.librarian(t)
	for i := 0; i < 20; i++ {
		if err := comp.Send(xmpp.Message{ID: fmt.Sprint("s", i), From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := comp.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	for i := 0; i < 20; i++ {
		next(t, lib) // all routed
	}
	if err := e.srv.Pause(); err != nil {
		t.Fatal(err)
	}
	err := comp.Sync()
	_ = e.srv.Resume()
	if err == nil {
		t.Fatal("Sync succeeded against a frozen server")
	}
	if err := e.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	rec.wantLink(t, false, 3*time.Second)
	if err := comp.Sync(); !errors.Is(err, xmpp.ErrNotConnected) {
		t.Errorf("Sync while down = %v", err)
	}
}

// blockedHandler is a recorder whose HandleMessage waits for release, as
// the bridge's waits for a store commit.
type blockedHandler struct {
	*recorder
	entered, release chan struct{}
}

func (h *blockedHandler) HandleMessage(ctx context.Context, m xmpp.Message) *xmpp.StanzaError {
	h.entered <- struct{}{}
	<-h.release
	return h.recorder.HandleMessage(ctx, m)
}

// TestReaderGoesOnWhileHandlerWaits: while the Handler waits (a store
// busy compacting, say), the component still reads the stream, so the
// server's answers to its pings arrive and the link stays up.
func TestReaderGoesOnWhileHandlerWaits(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.PingInterval = time.Hour // only Sync pings
	cfg.PingTimeout = time.Second
	h := &blockedHandler{recorder: newRecorder(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	comp := e.runWith(t, cfg, h)
	h.wantLink(t, true, waitLong)
	lib := e.librarian(t)
	if _, err := lib.SendChat(patron, "a reply the store is slow to take"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.entered:
	case <-time.After(waitLong):
		t.Fatal("the message never reached the Handler")
	}
	if err := comp.Sync(); err != nil {
		t.Errorf("Sync while the Handler waits: %v", err)
	}
	close(h.release)
	if m := h.nextMessage(t); m.Body != "a reply the store is slow to take" {
		t.Errorf("Handler got %q", m.Body)
	}
}
