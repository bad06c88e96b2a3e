package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/stats"
)

func statsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stats", Short: "Reference statistics of bridged conversations"}
	cmd.AddCommand(exportCommand())
	return cmd
}

func exportCommand() *cobra.Command {
	var path string
	var p admin.ExportParams
	var minSeconds int
	cmd := &cobra.Command{
		Use:   "export --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "Write sessions or a report as CSV or JSON to stdout",
		Long: `Writes the Facebook and Instagram chat sessions that started between --from and --to
(inclusive, in sessions.timezone or --timezone) in the columns of LibraryH3lp's
chats export, or a report (--report); --protocol keeps one channel. Works while the daemon runs: it asks the
daemon over its admin socket, and reads the store itself only when no daemon runs.
No patron identity is ever written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			if minSeconds < 0 {
				return errors.New("--min-duration must not be negative")
			}
			p.MinDuration = time.Duration(minSeconds) * time.Second
			q, err := p.Query(cfg)
			if err != nil {
				return err
			}
			return viaDaemon(cfg, path, func(socket string) error {
				return admin.Fetch(cmd.Context(), socket, "/stats/export", p, cmd.OutOrStdout())
			}, func(st *bridge.Store) error {
				return admin.Export(cmd.OutOrStdout(), st, q)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "config", "/etc/askbridge/config.yaml", "path of the YAML configuration file")
	f.StringVar(&p.From, "from", "", "first day, YYYY-MM-DD (required)")
	f.StringVar(&p.To, "to", "", "last day, YYYY-MM-DD, inclusive (required)")
	f.StringVar(&p.Format, "format", stats.FormatCSV, "csv or json")
	f.StringVar(&p.Report, "report", stats.ReportSessions, fmt.Sprintf("one of %v", stats.Reports()))
	f.StringVar(&p.Timezone, "timezone", "", "time zone for times, days and hours (default sessions.timezone)")
	f.BoolVar(&p.IncludeUnanswered, "include-unanswered", false, "include missed and after-hours sessions")
	f.BoolVar(&p.IncludeAuto, "include-auto", false, "include sessions with automatic replies only")
	f.IntVar(&minSeconds, "min-duration", 0, "leave out sessions shorter than this many seconds")
	f.StringVar(&p.Protocol, "protocol", "", "only one channel: facebook (Messenger) or instagram (default both)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
