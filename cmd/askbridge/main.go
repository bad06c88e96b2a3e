// Command askbridge bridges a library's Facebook Page Messenger
// conversations into the Jabber (XMPP) chat queue its librarians staff, and
// records every conversation for the library's reference statistics.
//
// Usage:
//
//	askbridge serve --config /etc/askbridge/config.yaml
//	askbridge check-config --config /etc/askbridge/config.yaml
//	askbridge check-store --config /etc/askbridge/config.yaml
//	askbridge demo
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/internal/daemon"
)

func main() {
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "askbridge:", err)
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "askbridge",
		Short:         "Answer a Facebook Page's Messenger conversations from a Jabber chat queue",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	if daemon.Version == "dev" {
		daemon.Version = shortVersion()
	}
	root.AddCommand(serveCommand(), checkConfigCommand(), checkStoreCommand(), statsCommand(), forgetCommand(), backupCommand(),
		deadLetterCommand(), newStoreCommand(), newPseudonymKeyCommand(), demoCommand(), versionCommand())
	return root
}
