package stats_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/askbridge/askbridge/stats"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./stats/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./stats/ -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func export(t *testing.T, q stats.Query, sessions []stats.Session) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := stats.Write(&b, q, sessions); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden writes every report in both formats over the fixture with
// every status included, and a few with the default filters.
func TestGolden(t *testing.T) {
	sessions := fixture(t)
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			name := report + "." + format + ".golden"
			t.Run(name, func(t *testing.T) {
				golden(t, name, export(t, fullQuery(t, report, format), sessions))
			})
		}
	}
	for _, report := range []string{"sessions", "summary", "status"} {
		name := report + "_default.csv.golden"
		t.Run(name, func(t *testing.T) {
			q, err := stats.ParseQuery("2026-02-01", "2026-03-31", report, "", "America/Toronto", false, false, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			q.PageNames = pageNames
			golden(t, name, export(t, q, sessions))
		})
	}
}
