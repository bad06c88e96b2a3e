package bridge_test

import (
	"io"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/stats"
)

// BenchmarkExportSessions is `askbridge stats export` of a year holding
// 1,000,000 sessions, as CSV, from the store: read and decode the
// sessions, filter, write. ("summary" is the summary report over the same
// sessions.) The store first holds the sessions as JSON records, as stores
// written before record version 1 do until maintenance rewrites them (read
// with encoding/json meanwhile); the "v1-" benchmarks run after every
// record was rewritten in version 1.
func BenchmarkExportSessions(b *testing.B) {
	dir := b.TempDir()
	bridge.SeedBenchSessions(b, dir, 1_000_000)
	run := func(prefix string) {
		st, err := bridge.OpenStore(dir, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		for _, report := range []string{stats.ReportSessions, "summary"} {
			b.Run(prefix+report, func(b *testing.B) {
				q, err := stats.ParseQuery("2026-01-01", "2026-12-31", report, stats.FormatCSV, "", true, true, 0, "America/Toronto")
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := admin.Export(io.Discard, st, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	run("")
	bridge.RecodeBenchSessions(b, dir, 1)
	run("v1-")
}
