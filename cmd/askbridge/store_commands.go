package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
)

func checkStoreCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check-store [FILE]",
		Short: "Check every page of the store, or of a backup FILE, and exit non-zero if it is damaged",
		Long: `Runs the full check of a store file: the checks every start makes (header pages,
the file's length, the free-page list, the buckets, the schema record), then
reads every record and runs BoltDB's consistency check. Without FILE it checks
the configured store, which needs the daemon stopped (it holds the file);
with FILE it checks that file, e.g. a backup before restoring it. It only
reads. About a second per million ledger records.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var file string
			if len(args) == 1 {
				file = args[0]
			} else {
				cfg, err := config.Load(path)
				if err != nil {
					return err
				}
				file = bridge.StorePath(cfg.StateDir)
			}
			rep, err := bridge.VerifyFile(file, 2*time.Second)
			if errors.Is(err, bridge.ErrStoreLocked) {
				return fmt.Errorf("%s: %w: stop it first, or check a copy (`askbridge backup FILE`, then `askbridge check-store FILE`)", file, err)
			}
			if err != nil {
				if len(args) == 1 {
					return fmt.Errorf("%w; try an older backup", err)
				}
				return storeAdvice(err, path)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d records, %d pages of %d bytes, checked in %v)\n",
				file, rep.Records, rep.Pages, rep.PageSize, rep.Took.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	return cmd
}

func newStoreCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "new-store",
		Short: "Make an empty store where a store was lost, keeping the pseudonym key",
		Long: `Makes a new, empty store (askbridge.db) in the state directory. askbridge refuses
to start when the store is missing or empty but pseudonym.key shows one was
kept there; restore a backup if you have one. This command is for starting over
on purpose: every queued message, open session and statistics row of the lost
store is gone, and returning patrons keep their pseudonyms. It refuses to
replace any file: move a damaged one aside first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			file := bridge.StorePath(cfg.StateDir)
			if _, err := os.Lstat(file); err == nil {
				return fmt.Errorf("new-store: %s exists; move it aside first (restoring a backup is better: %s)", file, restoreDoc)
			}
			st, err := bridge.OpenStoreWith(cfg.StateDir, bridge.StoreOptions{LockWait: 2 * time.Second, AllowNew: true})
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new empty store at %s\n", file)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	return cmd
}

func newPseudonymKeyCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "new-pseudonym-key",
		Short: "Make a new pseudonym key where the old one was lost: returning patrons get new pseudonyms",
		Long: `Makes a new pseudonym.key in the state directory. askbridge refuses to start when
the key is missing beside a store that holds records, because with a new key
every returning patron gets a new pseudonym in the statistics. Restore the key
from your backups if you can; this command is for going on without it. It
refuses to replace an existing key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			file := bridge.PseudonymKeyPath(cfg.StateDir)
			if _, err := os.Lstat(file); err == nil {
				return fmt.Errorf("new-pseudonym-key: %s exists; askbridge never replaces a key", file)
			}
			if _, err := bridge.NewPseudonymKey(cfg.StateDir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new pseudonym key at %s: returning patrons get new pseudonyms from now on\n", file)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	return cmd
}
