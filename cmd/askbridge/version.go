package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion describes the binary from the build information Go
// records in it (no -ldflags needed): the module version, the commit, its
// date, and whether the tree had uncommitted changes.
func buildVersion() (version, commit, date string, modified bool) {
	version, commit, date = "devel", "unknown", "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit, date, false
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, commit, date, modified
}

// versionLine is what "askbridge version" prints.
func versionLine() string {
	version, commit, date, modified := buildVersion()
	if modified {
		commit += " (with uncommitted changes)"
	}
	info, _ := debug.ReadBuildInfo()
	goVersion := "unknown"
	if info != nil {
		goVersion = info.GoVersion
	}
	return fmt.Sprintf("askbridge %s, commit %s, built from a tree of %s, %s", version, commit, date, goVersion)
}

// shortVersion names the build in logs and over XMPP: the module version,
// or the first 12 digits of the commit for a development build.
func shortVersion() string {
	version, commit, _, modified := buildVersion()
	if version != "devel" {
		return version
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if modified {
		commit += "-modified"
	}
	return "devel-" + commit
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}
