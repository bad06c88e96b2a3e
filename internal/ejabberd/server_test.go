package ejabberd

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/localserver"
)

// handshake opens an XEP-0114 stream for domain at addr and returns the
// server's answer to the handshake.
func handshake(t *testing.T, addr, domain, secret string) (net.Conn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='` + domain + `'>`)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	header, err := r.ReadString('>')
	for err == nil && !strings.Contains(header, "<stream:stream") {
		var more string
		more, err = r.ReadString('>')
		header += more
	}
	if err != nil {
		t.Fatalf("stream header: %v (%q)", err, header)
	}
	id := regexp.MustCompile(`id=['"]([^'"]+)`).FindStringSubmatch(header)
	if id == nil {
		t.Fatalf("no stream id in %q", header)
	}
	sum := sha1.Sum([]byte(id[1] + secret))
	if _, err := c.Write([]byte("<handshake>" + hex.EncodeToString(sum[:]) + "</handshake>")); err != nil {
		t.Fatal(err)
	}
	answer, _ := r.ReadString('>')
	return c, answer
}

func TestStartLoginComponentStop(t *testing.T) {
	s := StartTest(t, Options{
		Components: []Component{{Domain: "fb.test", Secret: "secret"}},
		Users:      []User{{Name: "alice", Password: "pw"}},
	})
	if !strings.HasPrefix(s.C2SAddr(), "127.0.0.1:") || !strings.HasPrefix(s.ComponentAddr(), "127.0.0.1:") || s.C2SAddr() == s.ComponentAddr() {
		t.Errorf("addresses c2s=%q component=%q", s.C2SAddr(), s.ComponentAddr())
	}
	// Registering again only changes the password.
	if err := s.Register(User{Name: "alice", Password: "pw2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(User{Name: "bob@x", Password: "pw"}); err == nil {
		t.Error("Register accepted a full JID as a name")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, s.C2SAddr(), jid.MustParse("alice@localhost"), "pw2", nil)
	if err != nil {
		t.Fatalf("login: %v%s", err, s.LogTail())
	}
	c.Close()

	if _, answer := handshake(t, s.ComponentAddr(), "fb.test", "secret"); answer != "<handshake/>" {
		t.Errorf("component handshake answered %q%s", answer, s.LogTail())
	}
	// Unlike Prosody (and Openfire), ejabberd accepts a second connection
	// for a domain that is already connected and then splits the traffic
	// between them. docs/deploy.md warns about it; this pins the behaviour.
	if _, answer := handshake(t, s.ComponentAddr(), "fb.test", "secret"); answer != "<handshake/>" {
		t.Errorf("second component connection answered %q (ejabberd now refuses it? update docs/deploy.md)", answer)
	}
	if _, answer := handshake(t, s.ComponentAddr(), "fb.test", "wrong"); !strings.Contains(answer, "stream:error") {
		t.Errorf("wrong secret answered %q", answer)
	}

	vm := s.PID()
	if vm == 0 {
		t.Fatal("ejabberd wrote no pid file")
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
	if err := syscall.Kill(vm, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the Erlang VM (pid %d) survived Stop: %v", vm, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestRestartKeepsAccounts(t *testing.T) {
	s := StartTest(t, Options{Host: "chat.test", Users: []User{{Name: "alice", Password: "pw"}}})
	c2s := s.C2SAddr()
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.C2SAddr() != c2s {
		t.Errorf("address changed on restart: %s → %s", c2s, s.C2SAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(ctx, s.C2SAddr(), jid.MustParse("alice@chat.test"), "pw", nil)
	if err != nil {
		t.Fatalf("login after restart: %v%s", err, s.LogTail())
	}
	c.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); err != nil {
		t.Errorf("Stop removed a directory it did not create: %v", err)
	}
}

// TestPortTaken: a c2s port held by someone else is recognised as such, and
// Start picks other ports.
func TestPortTaken(t *testing.T) {
	Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Dir: t.TempDir(), C2SPort: port})
	var taken *localserver.PortTakenError
	if !errors.As(err, &taken) || taken.Port != port {
		t.Errorf("Start on a taken fixed port = %v", err)
	}
}
