package localserver

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// User is an account on a server's c2s virtual host.
type User struct{ Name, Password string }

// Component is an XEP-0114 external component a server accepts.
type Component struct{ Domain, Secret string }

// CheckSetup checks what every private server is asked for: components and
// users complete, ports in range (0 picks one) and not the same. name
// prefixes the errors ("prosody", "ejabberd").
func CheckSetup(name string, comps []Component, users []User, c2sPort, componentPort int) error {
	for _, c := range comps {
		if c.Domain == "" || c.Secret == "" {
			return fmt.Errorf("%s: component %q needs a domain and a secret", name, c.Domain)
		}
	}
	for _, u := range users {
		if u.Name == "" || u.Password == "" {
			return fmt.Errorf("%s: user %q needs a name and a password", name, u.Name)
		}
	}
	for _, p := range []int{c2sPort, componentPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%s: port %d out of range", name, p)
		}
	}
	if c2sPort != 0 && c2sPort == componentPort {
		return fmt.Errorf("%s: c2s and component port are both %d", name, c2sPort)
	}
	return nil
}

// Readiness is how WaitReady tells that a server is up.
type Readiness struct {
	// Name prefixes the errors.
	Name string
	// Log is the server's log file; lines before Offset belong to an
	// earlier run and do not count.
	Log    string
	Offset int64
	// Want are the log lines that report each listener active, and Addrs
	// the listeners' addresses, which must accept a connection: only the
	// log tells the server's listener from another process on the port.
	Want  []string
	Addrs []string
	// FailedPort matches a log line saying a port was taken; its first
	// group is the port.
	FailedPort *regexp.Regexp
	// Exited is closed when the process ends; ExitErr then explains why
	// (a *PortTakenError if it can tell one).
	Exited  <-chan struct{}
	ExitErr func() error
	// Every is the polling interval.
	Every time.Duration
}

// WaitReady polls until the server is ready, its process exits, or ctx
// ends. A port another process holds gives a *PortTakenError.
func WaitReady(ctx context.Context, r Readiness) error {
	tick := time.NewTicker(r.Every)
	defer tick.Stop()
	for {
		select {
		case <-r.Exited:
			return r.ExitErr()
		case <-ctx.Done():
			return fmt.Errorf("%s did not come up: %w", r.Name, ctx.Err())
		case <-tick.C:
		}
		text, err := ReadFrom(r.Log, r.Offset)
		if err != nil {
			continue // not written yet
		}
		if m := r.FailedPort.FindStringSubmatch(text); m != nil {
			port, _ := strconv.Atoi(m[1])
			return &PortTakenError{Port: port}
		}
		if ContainsAll(text, r.Want) && AllAccept(r.Addrs...) {
			return nil
		}
	}
}

// Stopper is a server a test stops when it ends.
type Stopper interface{ Stop() error }

// StartTest starts a server for a test with start, within timeout, fails
// the test if it does not come up, and stops it when the test ends.
func StartTest[S Stopper](tb TB, name string, timeout time.Duration, start func(context.Context) (S, error)) S {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := start(ctx)
	if err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Logf("stop %s: %v", name, err)
		}
	})
	return s
}
