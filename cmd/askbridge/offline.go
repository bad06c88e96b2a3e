package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
)

// viaDaemon asks the running daemon over its admin socket (ask) and, only
// when no daemon answers, opens the existing store itself (local): BoltDB
// lets one process hold the file. configPath is the configuration's file,
// for the advice on a damaged store.
func viaDaemon(cfg *config.Config, configPath string, ask func(socket string) error, local func(*bridge.Store) error) error {
	err := ask(admin.SocketPath(cfg.StateDir))
	if !errors.Is(err, admin.ErrNoDaemon) {
		return err
	}
	path := bridge.StorePath(cfg.StateDir)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no store at %s: %w", path, err)
	}
	st, err := bridge.OpenStore(cfg.StateDir, 2*time.Second)
	if err != nil {
		return storeAdvice(err, configPath)
	}
	err = local(st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return storeAdvice(err, configPath)
}
