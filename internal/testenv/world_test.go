package testenv

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/messenger/standin"
)

// TestWorld: the configuration as Options.Config changed it; the librarian gets a patron's message through the in-process
// daemon, before and after a restart on the same address; BeforeRun sees
// each daemon; a stopped daemon's address is free.
func TestWorld(t *testing.T) {
	var built []*daemon.Daemon
	w := New(t, Options{BeforeRun: func(d *daemon.Daemon) { built = append(built, d) },
		Config: func(c *config.Config) { c.Sessions.IdleTimeout = time.Hour }})
	if w.Config.Sessions.IdleTimeout != time.Hour {
		t.Errorf("Options.Config not applied: %+v", w.Config.Sessions)
	}
	lib := w.LoginLibrarian()
	says := func(text string) {
		t.Helper()
		if _, err := w.Facebook.PatronSays(context.Background(), PageID, standin.NewPSID(), text); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			m, err := lib.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for %q: %v", text, err)
			}
			if m.Body == text {
				return
			}
		}
	}
	says("before the restart")
	w.RestartDaemon()
	says("after the restart")
	if len(built) != 2 || built[1] != w.Daemon {
		t.Errorf("BeforeRun saw %d daemons", len(built))
	}
	w.StopDaemon()
	if w.Daemon != nil {
		t.Error("Daemon set after StopDaemon")
	}
	ln, err := net.Listen("tcp", w.Addr)
	if err != nil {
		t.Fatalf("the stopped daemon's address: %v", err)
	}
	ln.Close()
}

// TestWorldWithoutDaemon: the values a daemon of the test's own needs —
// a valid configuration, a free address, the stand-in serving the Graph
// API — and the extra accounts.
func TestWorldWithoutDaemon(t *testing.T) {
	w := New(t, Options{NoDaemon: true, Users: []User{{Name: "desk", Password: "pw-desk"}}})
	if w.Daemon != nil {
		t.Fatal("a daemon runs")
	}
	if w.Config.XMPP.Server != w.Server.ComponentAddr() || w.Config.HTTP.Listen != w.Addr || w.Config.Messenger.GraphURL != w.GraphURL ||
		w.Config.XMPP.Queue != "librarian@localhost" {
		t.Errorf("configuration %+v", w.Config)
	}
	ln, err := net.Listen("tcp", w.Addr)
	if err != nil {
		t.Fatalf("the daemon's address is not free: %v", err)
	}
	ln.Close()
	req, _ := http.NewRequest("GET", w.GraphURL+"/v25.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+PageToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Graph API /me: %d", resp.StatusCode)
	}
	w.Login("desk", "pw-desk")
	if !strings.HasPrefix(w.URL("/readyz"), "http://127.0.0.1:") {
		t.Errorf("URL %s", w.URL("/readyz"))
	}
}
