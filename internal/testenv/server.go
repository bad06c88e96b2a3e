package testenv

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/internal/ejabberd"
	"github.com/askbridge/askbridge/internal/localserver"
	"github.com/askbridge/askbridge/internal/prosody"
)

// Server is a running private Jabber server on loopback. *prosody.Server
// and *ejabberd.Server satisfy it.
type Server interface {
	// Name is the server software: "prosody" or "ejabberd" (a Kind).
	Name() string
	// Domain is the c2s virtual host: accounts are user@Domain.
	Domain() string
	// C2SAddr is the host:port Jabber clients log in at.
	C2SAddr() string
	// ComponentAddr is the host:port of the XEP-0114 listener.
	ComponentAddr() string
	// Components are the XEP-0114 components (domain and secret) the
	// server accepts.
	Components() []Component
	// Register creates an account on Domain, or sets its password.
	Register(User) error
	// Restart stops the server and starts it again on the same ports
	// with the same data.
	Restart(ctx context.Context) error
	// Stop ends the server; calling it again does nothing.
	Stop() error
	// PID is the process doing the server's work, 0 while it does not
	// run: for measuring its CPU and memory.
	PID() int
	// LogTail returns the end of the server's logs, for failure messages.
	LogTail() string
}

// User is an account on a server's virtual host.
type User = localserver.User

// Component is an XEP-0114 component a server accepts.
type Component = localserver.Component

// Kind names a Jabber server the world can run.
type Kind string

// The servers a world can run.
const (
	Prosody  Kind = "prosody"
	Ejabberd Kind = "ejabberd"
)

// ServerOptions describe a private server of either kind.
type ServerOptions struct {
	// Dir holds the server's configuration, data and logs; empty: a
	// temporary directory that Stop removes (NewServer: the test's).
	Dir string
	// Host is the c2s virtual host; "localhost" if empty.
	Host string
	// Components are the XEP-0114 components the server accepts.
	Components []Component
	// Users are registered on Host once the server runs.
	Users []User
	// ComponentStanzaLimit, if not 0, is the largest stanza in bytes the
	// server accepts from a component before it closes the stream.
	// Prosody only: ejabberd refuses it.
	ComponentStanzaLimit int
	// Log receives the harness's own messages; nil discards them.
	Log *zap.Logger
}

// StartServer starts a private server of kind for o and returns once it
// accepts clients and components and the users are registered. ctx bounds
// the start, not the server's life: call Stop.
func StartServer(ctx context.Context, kind Kind, o ServerOptions) (Server, error) {
	switch kind {
	case Prosody:
		s, err := prosody.Start(ctx, prosodyOptions(o))
		if err != nil {
			return nil, fmt.Errorf("testenv: %w", err)
		}
		return s, nil
	case Ejabberd:
		eo, err := ejabberdOptions(o)
		if err != nil {
			return nil, err
		}
		s, err := ejabberd.Start(ctx, eo)
		if err != nil {
			return nil, fmt.Errorf("testenv: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("testenv: unknown server %q", kind)
}

// NewServer is StartServer for a test: it skips the test when the server is
// missing (see Require), runs it in a directory of the test's (unless o.Dir
// is set), fails the test if it does not come up, and stops it when the
// test ends.
func NewServer(tb TB, kind Kind, o ServerOptions) Server {
	tb.Helper()
	if o.Log == nil {
		o.Log = zaptest.NewLogger(tb).Named(string(kind))
	}
	switch kind {
	case Prosody:
		return prosody.StartTest(tb, prosodyOptions(o))
	case Ejabberd:
		eo, err := ejabberdOptions(o)
		if err != nil {
			tb.Fatalf("%v", err)
		}
		return ejabberd.StartTest(tb, eo)
	}
	tb.Fatalf("testenv: unknown server %q", kind)
	return nil
}

// Require skips the test when the server of kind is not installed (or,
// for ejabberd, cannot run as this user), or fails it when the server's
// RequireEnv variable is "1".
func Require(tb TB, kind Kind) {
	tb.Helper()
	switch kind {
	case Prosody:
		prosody.Require(tb)
	case Ejabberd:
		ejabberd.Require(tb)
	default:
		tb.Fatalf("testenv: unknown server %q", kind)
	}
}

func prosodyOptions(o ServerOptions) prosody.Options {
	return prosody.Options{Dir: o.Dir, Host: o.Host, Components: o.Components, Users: o.Users,
		ComponentStanzaLimit: o.ComponentStanzaLimit, Log: o.Log}
}

func ejabberdOptions(o ServerOptions) (ejabberd.Options, error) {
	if o.ComponentStanzaLimit != 0 {
		return ejabberd.Options{}, errors.New("testenv: ejabberd has no ComponentStanzaLimit")
	}
	return ejabberd.Options{Dir: o.Dir, Host: o.Host, Components: o.Components, Users: o.Users, Log: o.Log}, nil
}
