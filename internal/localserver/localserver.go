// Package localserver holds what the private-server harnesses
// (internal/prosody, internal/ejabberd) share: free loopback ports,
// readiness checks, reading a server's log, and the rule that a test
// needing a missing server is skipped, or failed when CI requires it.
package localserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// FreePorts sets each port that is 0 to a free loopback port, distinct from
// each other and from the ports already set. They are free when it returns;
// another process may still take one before the server binds it, which a
// harness notices (PortTakenError) and answers by trying again.
func FreePorts(ports ...*int) error {
	used := map[int]bool{}
	for _, p := range ports {
		used[*p] = true
	}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, p := range ports {
		for *p == 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("find a free loopback port: %w", err)
			}
			held = append(held, l) // held open so that the next pick differs
			if n := l.Addr().(*net.TCPAddr).Port; !used[n] {
				*p, used[n] = n, true
			}
		}
	}
	return nil
}

// Addr is the loopback address of port.
func Addr(port int) string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
}

// AllAccept reports whether something accepts TCP connections at every
// address.
func AllAccept(addrs ...string) bool {
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// ErrPortTaken means a server could not bind one of its ports.
var ErrPortTaken = errors.New("port taken")

// PortTakenError tells which port a server could not bind; it matches
// ErrPortTaken.
type PortTakenError struct{ Port int }

// Error implements error.
func (e *PortTakenError) Error() string {
	return fmt.Sprintf("port %d on 127.0.0.1 is taken by another process", e.Port)
}

// Is makes errors.Is(err, ErrPortTaken) true.
func (e *PortTakenError) Is(target error) bool { return target == ErrPortTaken }

// ReadFrom returns the file at path from offset on.
func ReadFrom(path string, offset int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(f)
	return string(b), err
}

// ContainsAll reports whether s contains every one of subs.
func ContainsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// Tail returns the last n lines of the file at path, or "" if it cannot be
// read.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// TB is the part of testing.TB that the test helpers use; *testing.T and
// *testing.B satisfy it. (An interface keeps the testing package out of
// binaries that start a server, such as the demo command.)
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Require skips the test when missing (the error finding the server's
// binary) is not nil, or fails it when the environment variable env is "1".
func Require(tb TB, missing error, env string) {
	tb.Helper()
	if missing == nil {
		return
	}
	if os.Getenv(env) == "1" {
		tb.Fatalf("%v (%s=1)", missing, env)
		return
	}
	tb.Skipf("%v (set %s=1 to fail instead)", missing, env)
}
