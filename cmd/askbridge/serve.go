package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/messenger"
)

func serveCommand() *cobra.Command {
	var path string
	var verify bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bridge daemon",
		Long: `Runs the bridge daemon. At every start it checks the store's structure (a few
milliseconds) and refuses a damaged store, a store missing where pseudonym.key
shows one was kept, and a missing pseudonym.key beside a store that holds
records, saying what to do. --verify-store also reads every record and runs
BoltDB's consistency check before serving (about a second per million ledger
records); askbridge check-store does the same without starting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			log, level, err := newLeveledLogger(cfg.Log)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d, err := daemon.New(cfg, log, daemon.Options{VerifyStore: verify})
			if err != nil {
				return storeAdvice(err, path)
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go reloadOnHangup(ctx, hup, path, d, level, log)
			return d.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	cmd.Flags().BoolVar(&verify, "verify-store", false, "read every record of the store and run BoltDB's consistency check before serving")
	return cmd
}

// reloadOnHangup re-reads the configuration on each SIGHUP. A
// configuration that fails validation is rejected and the running one
// kept.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, path string, d *daemon.Daemon, level zap.AtomicLevel, log *zap.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		next, err := config.Load(path)
		if err != nil {
			log.Error("reload rejected; the running configuration stays", zap.String("config", path), zap.Error(err))
			continue
		}
		if l, err := zapcore.ParseLevel(next.Log.Level); err == nil {
			level.SetLevel(l)
		}
		d.Reload(next)
	}
}

func checkConfigCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration and exit non-zero naming each bad key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d Page(s), component %s at %s, routing %s)\n",
				path, len(cfg.Messenger.Pages), cfg.XMPP.Domain, cfg.XMPP.Server, cfg.XMPP.Routing)
			if st := messenger.CheckAPIVersion(cfg.Messenger.APIVersion, time.Now()); st.Warning != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: messenger.api_version: %s\n", st.Warning)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	return cmd
}
