package prosody

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
)

// streamHeader opens a c2s stream; Prosody answers with its own header.
const streamHeader = `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

// answers reports whether the c2s listener at addr answers a stream header
// within d.
func answers(t *testing.T, addr string, d time.Duration) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	if _, err := c.Write([]byte(streamHeader)); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	line, err := bufio.NewReader(c).ReadString('>')
	return err == nil && strings.Contains(line, "<?xml")
}

func TestStartRegisterStop(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{
		Components: []Component{{Domain: "fb.test", Secret: "secret"}},
		Users:      []User{{Name: "alice", Password: "pw"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if s.Domain() != "localhost" {
		t.Errorf("Domain = %q, want localhost", s.Domain())
	}
	if c := s.Components(); len(c) != 1 || c[0].Domain != "fb.test" || c[0].Secret != "secret" {
		t.Errorf("Components = %+v", c)
	}
	if !strings.HasPrefix(s.C2SAddr(), "127.0.0.1:") || !strings.HasPrefix(s.ComponentAddr(), "127.0.0.1:") || s.C2SAddr() == s.ComponentAddr() {
		t.Errorf("addresses c2s=%q component=%q", s.C2SAddr(), s.ComponentAddr())
	}
	if !answers(t, s.C2SAddr(), 2*time.Second) {
		t.Fatalf("c2s does not answer%s", s.LogTail())
	}
	if _, err := os.Stat(filepath.Join(s.Dir, dataDir, "localhost", "accounts", "alice.dat")); err != nil {
		t.Errorf("alice was not registered: %v", err)
	}
	if err := s.Register(User{Name: "bob", Password: "pw2"}); err != nil {
		t.Errorf("Register while running: %v", err)
	}
	if err := s.Register(User{Name: "bob@x", Password: "pw"}); err == nil {
		t.Error("Register accepted a full JID as a name")
	}
	// The process Start runs is Prosody itself, the one its pid file names.
	if b, err := os.ReadFile(filepath.Join(s.Dir, pidFile)); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(s.PID()) {
		t.Errorf("PID %d, pid file %q (%v)", s.PID(), b, err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.PID() != 0 {
		t.Errorf("PID %d after Stop", s.PID())
	}
	if localserver.AllAccept(s.C2SAddr()) || localserver.AllAccept(s.ComponentAddr()) {
		t.Error("ports still accept after Stop")
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("own temporary dir not removed: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestRestartPauseResume(t *testing.T) {
	s := StartTest(t, Options{Host: "chat.test"})
	c2s := s.C2SAddr()
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.C2SAddr() != c2s {
		t.Errorf("address changed on restart: %s → %s", c2s, s.C2SAddr())
	}
	if !answers(t, s.C2SAddr(), 2*time.Second) {
		t.Fatalf("no answer after restart%s", s.LogTail())
	}

	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	if answers(t, s.C2SAddr(), 300*time.Millisecond) {
		t.Error("a paused server answered")
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	if !answers(t, s.C2SAddr(), 2*time.Second) {
		t.Errorf("no answer after resume%s", s.LogTail())
	}
	// Stop must also end a paused server promptly.
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopping a paused server took %v", d)
	}
	if err := s.Restart(context.Background()); err == nil {
		t.Error("Restart after Stop succeeded")
	}
	if _, err := os.Stat(s.Dir); err != nil {
		t.Errorf("Stop removed a directory it did not create: %v", err)
	}
}

// TestPortTaken checks that a port held by someone else is recognised as
// such (Start then retries with new ports) rather than mistaken for
// Prosody's listener.
func TestPortTaken(t *testing.T) {
	Require(t)
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	p, err := choosePorts(ports{})
	if err != nil {
		t.Fatal(err)
	}
	p.c2s = l.Addr().(*net.TCPAddr).Port
	config := filepath.Join(dir, configFile)
	if err := os.WriteFile(config, []byte(renderConfig(dir, "localhost", nil, p, false, false, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, err := launch(context.Background(), bin, config, dir, p, false)
	if err == nil {
		pr.stop()
		t.Fatal("launch succeeded on a taken port")
	}
	var taken *localserver.PortTakenError
	if !errors.As(err, &taken) || taken.Port != p.c2s {
		t.Errorf("launch error = %v, want port %d taken", err, p.c2s)
	}

	// A fixed port that is taken fails Start at once, naming the port.
	_, err = Start(context.Background(), Options{Dir: t.TempDir(), C2SPort: p.c2s})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port %d", p.c2s)) {
		t.Errorf("Start on a taken fixed port = %v", err)
	}
}

func TestFixedPorts(t *testing.T) {
	Require(t)
	want, err := choosePorts(ports{})
	if err != nil {
		t.Fatal(err)
	}
	s := StartTest(t, Options{C2SPort: want.c2s, ComponentPort: want.component, Components: []Component{{Domain: "fb.test", Secret: "s"}}})
	if s.C2SAddr() != localserver.Addr(want.c2s) || s.ComponentAddr() != localserver.Addr(want.component) {
		t.Errorf("addresses %s, %s; want ports %d, %d", s.C2SAddr(), s.ComponentAddr(), want.c2s, want.component)
	}
}
