package daemon

import (
	"context"

	"github.com/askbridge/askbridge/bridge"
)

// What the external tests (package daemon_test), which run a daemon in a
// testenv world, look at inside it.

// Readiness is the /readyz body.
type Readiness = readiness

// Working is the watchdog's check.
func (d *Daemon) Working(ctx context.Context) error { return d.working(ctx) }

// Store is the daemon's store.
func (d *Daemon) Store() *bridge.Store { return d.store }

// Upkeep runs the periodic Facebook checks once.
func (d *Daemon) Upkeep(ctx context.Context) { d.upkeep(ctx) }
