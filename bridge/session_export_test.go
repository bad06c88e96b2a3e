package bridge_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/stats"
)

// TestExportOldJSONStore checks that a store holding sessions in JSON, as
// every store did before record version 1, exports byte for byte what the
// old code exported (encoding/json, then stats.Write) — as it is, half
// rewritten in version 1, and all rewritten — for every report and format.
func TestExportOldJSONStore(t *testing.T) {
	dir := t.TempDir()
	bridge.SeedBenchSessions(t, dir, 5000)
	old := bridge.ReadSessionsJSON(t, dir)
	type export struct{ report, format string }
	var exports []export
	want := map[export][]byte{}
	query := func(e export) stats.Query {
		q, err := stats.ParseQuery("2026-01-01", "2026-12-31", e.report, e.format, "", true, true, 0, "America/Toronto")
		if err != nil {
			t.Fatal(err)
		}
		q.PageNames = map[string]string{"510249619162304": "Central, \"Main\" Library"}
		return q
	}
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			e := export{report, format}
			exports = append(exports, e)
			var b bytes.Buffer
			if err := stats.Write(&b, query(e), old); err != nil {
				t.Fatal(err)
			}
			want[e] = b.Bytes()
		}
	}
	if !bytes.Contains(want[export{"sessions", "csv"}], []byte(`"databases,research"`)) {
		t.Fatal("the sessions export lacks the seeded tags: the comparison proves little")
	}
	check := func(stage string) {
		t.Helper()
		st, err := bridge.OpenStore(dir, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, e := range exports {
			var b bytes.Buffer
			if err := admin.Export(&b, st, query(e)); err != nil {
				t.Fatalf("%s: %s %s: %v", stage, e.report, e.format, err)
			}
			if !bytes.Equal(b.Bytes(), want[e]) {
				t.Errorf("%s: %s %s differs from the export of the JSON records by encoding/json", stage, e.report, e.format)
			}
		}
	}
	check("JSON records")
	bridge.RecodeBenchSessions(t, dir, 2)
	check("half the records in version 1")
	bridge.RecodeBenchSessions(t, dir, 1)
	check("all records in version 1")
}
