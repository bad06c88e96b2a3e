package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
)

func backupCommand() *cobra.Command {
	var path string
	var force bool
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the store to FILE, also while the daemon runs",
		Long: `Writes a consistent copy of the store (askbridge.db) to FILE. While the daemon
runs it asks the daemon for the copy over its admin socket; otherwise it reads
the store itself. To restore: stop the daemon, copy FILE to
<state_dir>/askbridge.db (owned by the daemon's user, mode 0600), and start it.
Keep <state_dir>/pseudonym.key with your backups: without it new sessions of a
returning patron get a new pseudonym. The copy is compacted (no freed pages,
so no text of a delivered message) and holds the messages waiting at that
moment unsealed, so <state_dir>/queue.keys is not needed to restore it. An
existing FILE is replaced only with --force.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			dst := args[0]
			if _, err := os.Stat(dst); err == nil && !force {
				return fmt.Errorf("backup: %s exists; give another file name, or --force to replace it", dst)
			}
			tmp, err := os.CreateTemp(filepath.Dir(dst), ".askbridge-backup-*")
			if err != nil {
				return fmt.Errorf("backup: cannot write %s: %w", dst, pathless(err))
			}
			defer os.Remove(tmp.Name())
			defer tmp.Close()
			err = viaDaemon(cfg, path, func(socket string) error {
				return admin.BackupVia(cmd.Context(), socket, tmp)
			}, func(st *bridge.Store) error {
				_, err := st.Backup(tmp)
				return err
			})
			if err != nil {
				return err
			}
			if err := tmp.Sync(); err != nil {
				return fmt.Errorf("backup: writing %s: %w", dst, pathless(err))
			}
			if err := tmp.Chmod(0o600); err != nil {
				return fmt.Errorf("backup: writing %s: %w", dst, pathless(err))
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("backup: writing %s: %w", dst, pathless(err))
			}
			if err := os.Rename(tmp.Name(), dst); err != nil {
				return fmt.Errorf("backup: writing %s: %w", dst, pathless(err))
			}
			info, err := os.Stat(dst)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s (%d bytes)\n", dst, info.Size())
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	return cmd
}

// pathless drops the temporary file's name from a file error, so the
// message names only the file the user gave.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
