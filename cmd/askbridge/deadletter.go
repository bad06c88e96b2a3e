package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/messenger"
)

func deadLetterCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:     "deadletter",
		Aliases: []string{"parked"},
		Short:   "List, drop or requeue XMPP messages the bridge set aside",
		Long: `The bridge sets an XMPP outbox entry aside, in the store's dead-letter bucket,
when the Jabber server closed the stream each time it was written (a stanza
over the server's size limit, say) or when it is too large to send at all
(xmpp.max_stanza_bytes), so that the other patrons' messages go on. The
librarian it was for is told; the askbridge_xmpp_parked metric and /readyz's
warnings count them. Works while the daemon runs (through its admin socket)
and when it does not.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the parked entries (no text, the patron only by pseudonym)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			return viaDaemon(cfg, path, func(socket string) error {
				return admin.DeadLetterVia(cmd.Context(), socket, "list", nil, false, cmd.OutOrStdout())
			}, func(st *bridge.Store) error {
				entries, err := st.Parked()
				if err != nil {
					return err
				}
				return admin.WriteParked(cmd.OutOrStdout(), entries, time.Local)
			})
		},
	}
	cmd.AddCommand(list, deadLetterAction(&path, "drop", "Remove parked entries for good (their ledger records say failed)"),
		deadLetterAction(&path, "requeue", "Put parked entries back at the end of the XMPP outbox (split again to fit xmpp.max_stanza_bytes)"))
	return cmd
}

// deadLetterAction is the drop or requeue subcommand.
func deadLetterAction(path *string, action, short string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   action + " (ID… | --all)",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := admin.ParseIDs(args)
			if err != nil {
				return err
			}
			if (len(ids) == 0) != all {
				return errors.New("give the IDs of parked entries (see `askbridge deadletter list`) or --all, not both")
			}
			cfg, err := config.Load(*path)
			if err != nil {
				return err
			}
			return viaDaemon(cfg, *path, func(socket string) error {
				return admin.DeadLetterVia(cmd.Context(), socket, action, ids, all, cmd.OutOrStdout())
			}, func(st *bridge.Store) error {
				var n int
				var err error
				if action == "drop" {
					n, err = st.DropParked(ids)
				} else {
					n, err = requeueOffline(cfg, st, ids)
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), admin.DeadLetterResult(action, n))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every parked entry")
	return cmd
}

// requeueOffline requeues with a bridge on the store, as the daemon would.
func requeueOffline(cfg *config.Config, st *bridge.Store, ids []uint64) (int, error) {
	ps, err := bridge.LoadPseudonymizer(cfg.StateDir, st)
	if err != nil {
		return 0, err
	}
	b, err := bridge.New(bridge.Options{Config: cfg, Store: st, Pseudonyms: ps,
		SendAPI: messenger.NewClient(cfg.Messenger.GraphURL, cfg.Messenger.APIVersion, nil)})
	if err != nil {
		return 0, err
	}
	return b.RequeueParked(ids)
}
