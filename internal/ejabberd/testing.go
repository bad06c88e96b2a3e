package ejabberd

import (
	"context"
	"os"
	"time"
)

// TB is the part of testing.TB that the test helpers use; *testing.T and
// *testing.B satisfy it.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Require skips the test when ejabberd is not installed or cannot run as
// this user, or fails it when the environment variable
// ASKBRIDGE_REQUIRE_EJABBERD is "1".
func Require(tb TB) {
	tb.Helper()
	err := checkUser()
	if _, e := Binary(); e != nil {
		err = e
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("%v (%s=1)", err, RequireEnv)
			return
		}
		tb.Skipf("%v (set %s=1 to fail instead)", err, RequireEnv)
	}
}

// StartTest is Start for tests: it calls Require, runs the server in a
// directory from tb.TempDir (unless o.Dir is set), fails the test if the
// server does not come up, and stops it when the test ends.
func StartTest(tb TB, o Options) *Server {
	tb.Helper()
	Require(tb)
	if o.Dir == "" {
		o.Dir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, o)
	if err != nil {
		tb.Fatalf("start ejabberd: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Logf("stop ejabberd: %v", err)
		}
	})
	return s
}
