package prosody

import (
	"context"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
)

// TB is the part of testing.TB that the test helpers use.
type TB = localserver.TB

// Require skips the test when Prosody is not installed, or fails it when
// the environment variable ASKBRIDGE_REQUIRE_PROSODY is "1".
func Require(tb TB) {
	tb.Helper()
	_, err := Binary()
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
	return localserver.StartTest(tb, "prosody", 30*time.Second, func(ctx context.Context) (*Server, error) { return Start(ctx, o) })
}
