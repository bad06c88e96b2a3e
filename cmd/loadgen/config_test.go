package main

import (
	"testing"

	"github.com/askbridge/askbridge/config"
)

// TestDaemonConfigValid: the configuration the load generator gives the
// daemon passes the daemon's own checks (a daemon refusing it ends every
// bridge phase at start).
func TestDaemonConfigValid(t *testing.T) {
	e := &env{o: &options{Settings: Settings{DaemonLog: "info"}}, component: "127.0.0.1:5347",
		gURL: "http://127.0.0.1:1", queue: "queue@localhost"}
	path, err := e.writeDaemonConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err != nil {
		t.Fatalf("the daemon would refuse its configuration: %v", err)
	}
}
