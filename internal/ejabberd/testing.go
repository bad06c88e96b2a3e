package ejabberd

import (
	"context"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
)

// TB is the part of testing.TB that the test helpers use.
type TB = localserver.TB

// Require skips the test when ejabberd is not installed or cannot run as
// this user, or fails it when the environment variable
// ASKBRIDGE_REQUIRE_EJABBERD is "1".
func Require(tb TB) {
	tb.Helper()
	err := checkUser()
	if _, e := Binary(); e != nil {
		err = e
	}
	localserver.Require(tb, err, RequireEnv)
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
	return localserver.StartTest(tb, "ejabberd", 60*time.Second, func(ctx context.Context) (*Server, error) { return Start(ctx, o) })
}
