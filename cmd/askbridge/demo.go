package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/demo"
)

func demoCommand() *cobra.Command {
	var o demo.Options
	var level string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a local demo: Prosody, askbridge and a Facebook stand-in page on loopback",
		Long: `Runs the whole bridge on this machine: a private Prosody on loopback with a
librarian account, askbridge, and a local stand-in for Facebook whose web page
lets you type as a Messenger patron. Answer from any Jabber client with the
account it prints. Installs Prosody with apt-get if it is missing (as root).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(config.Log{Level: level, Format: "console"})
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Log = log
			o.Out = cmd.OutOrStdout()
			return demo.Run(ctx, o)
		},
	}
	cmd.Flags().StringVar(&o.Dir, "dir", "", "keep the demo's state in this directory (default: a temporary one)")
	cmd.Flags().IntVar(&o.C2SPort, "c2s-port", 5222, "port for Jabber clients (any free port if taken)")
	cmd.Flags().IntVar(&o.PatronPort, "patron-port", 8090, "port of the patron page (any free port if taken)")
	cmd.Flags().BoolVar(&o.Install, "install", true, "install Prosody with apt-get if it is missing")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}
