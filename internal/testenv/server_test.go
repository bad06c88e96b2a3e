package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
)

// TestServers runs each server through the Server interface: its
// endpoints, an account registered while it runs, a restart on the same
// ports, and Stop.
func TestServers(t *testing.T) {
	for _, kind := range []Kind{Prosody, Ejabberd} {
		t.Run(string(kind), func(t *testing.T) {
			s := NewServer(t, kind, ServerOptions{
				Components: []Component{{Domain: "fb.test", Secret: "secret"}},
				Users:      []User{{Name: "alice", Password: "pw"}},
			})
			if s.Name() != string(kind) || s.Domain() != "localhost" {
				t.Errorf("Name %q, Domain %q", s.Name(), s.Domain())
			}
			if c := s.Components(); len(c) != 1 || c[0] != (Component{Domain: "fb.test", Secret: "secret"}) {
				t.Errorf("Components %+v", c)
			}
			if !strings.HasPrefix(s.C2SAddr(), "127.0.0.1:") || !strings.HasPrefix(s.ComponentAddr(), "127.0.0.1:") || s.C2SAddr() == s.ComponentAddr() {
				t.Errorf("addresses c2s=%q component=%q", s.C2SAddr(), s.ComponentAddr())
			}
			if s.PID() == 0 {
				t.Error("no PID while running")
			}
			if err := s.Register(User{Name: "bob", Password: "pw-bob"}); err != nil {
				t.Fatal(err)
			}
			login(t, s, "bob", "pw-bob")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := s.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			login(t, s, "alice", "pw")
			if s.LogTail() == "" {
				t.Error("no log tail")
			}
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := s.Stop(); err != nil || s.PID() != 0 {
				t.Errorf("after Stop: PID %d, second Stop %v", s.PID(), err)
			}
		})
	}
}

func login(t *testing.T, s Server, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, s.C2SAddr(), jid.MustParse(user+"@"+s.Domain()), password, nil)
	if err != nil {
		t.Fatalf("%s logs in: %v%s", user, err, s.LogTail())
	}
	c.Close()
}

// TestUnknownOrUnsupported: StartServer names what it cannot start.
func TestUnknownOrUnsupported(t *testing.T) {
	ctx := context.Background()
	if _, err := StartServer(ctx, "openfire", ServerOptions{}); err == nil || !strings.Contains(err.Error(), "openfire") {
		t.Errorf("unknown server: %v", err)
	}
	if _, err := StartServer(ctx, Ejabberd, ServerOptions{ComponentStanzaLimit: 1024}); err == nil || !strings.Contains(err.Error(), "ComponentStanzaLimit") {
		t.Errorf("ejabberd with a stanza limit: %v", err)
	}
}
