package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/messenger"
)

func forgetCommand() *cobra.Command {
	var path, psid, igsid string
	cmd := &cobra.Command{
		Use:   "forget (--psid PSID | --igsid IGSID)",
		Short: "Carry out a patron's deletion request",
		Long: `Removes a patron's page-scoped ID (PSID, Messenger) or Instagram-scoped ID
(IGSID, Instagram) from the store, with their queued messages and any
transcript; their statistics rows stay, unlinked from them. The store is then
compacted so no trace remains in the file. Works while the daemon runs
(through its admin socket) and when it does not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case psid != "" && igsid != "":
				return errors.New("give --psid or --igsid, not both")
			case igsid != "":
				if !admin.ValidPSID(igsid) {
					return errors.New("--igsid must be the patron's numeric Instagram-scoped ID")
				}
				psid = admin.InstagramPrefix + igsid
			case !admin.ValidPSID(psid):
				return errors.New("--psid must be the patron's numeric page-scoped ID (or --igsid an Instagram patron's ID)")
			}
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			return viaDaemon(cfg, path, func(socket string) error {
				return admin.ForgetVia(cmd.Context(), socket, psid, cmd.OutOrStdout())
			}, func(st *bridge.Store) error {
				ps, err := bridge.LoadPseudonymizer(cfg.StateDir, st)
				if err != nil {
					return err
				}
				b, err := bridge.New(bridge.Options{Config: cfg, Store: st, Pseudonyms: ps,
					SendAPI: messenger.NewClient(cfg.Messenger.GraphURL, cfg.Messenger.APIVersion, nil)})
				if err != nil {
					return err
				}
				n, err := b.Forget(psid)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), admin.ForgetResult(n))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	cmd.Flags().StringVar(&psid, "psid", "", "the Messenger patron's page-scoped ID")
	cmd.Flags().StringVar(&igsid, "igsid", "", "the Instagram patron's Instagram-scoped ID")
	cmd.MarkFlagsOneRequired("psid", "igsid")
	return cmd
}
