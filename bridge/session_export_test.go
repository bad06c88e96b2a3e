package bridge_test

import (
	"bytes"
	"reflect"
	"strings"
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

// TestImportSessions checks that imported sessions read back as given,
// with new IDs, and that an open session is refused.
func TestImportSessions(t *testing.T) {
	st, err := bridge.OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	in := []stats.Session{
		{ID: "x", Guest: "g1", Page: "1", Queue: "q@x", Started: at, Ended: at.Add(time.Minute), Status: stats.StatusMissed, MessagesIn: 1},
		{ID: "y", Guest: "g2", Page: "1", Queue: "q@x", Started: at.Add(time.Hour), Accepted: at.Add(time.Hour + 10*time.Second),
			Ended: at.Add(2 * time.Hour), Status: stats.StatusAnswered, Operator: "a@x", Questions: 2, ReadLevel: 4, Tags: []string{"hours"}},
	}
	if err := st.ImportSessions(in); err != nil {
		t.Fatal(err)
	}
	got, err := st.Sessions(at, at.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read back %d sessions, want 2", len(got))
	}
	for i := range got {
		if got[i].ID == in[i].ID || got[i].ID == "" {
			t.Errorf("session %d kept ID %q", i, got[i].ID)
		}
		want := in[i]
		want.ID = got[i].ID
		if !reflect.DeepEqual(normal(got[i]), normal(want)) {
			t.Errorf("session %d read back as %+v, want %+v", i, got[i], want)
		}
	}
	open := stats.Session{Started: at}
	if err := st.ImportSessions([]stats.Session{open}); err == nil || !strings.Contains(err.Error(), "open") {
		t.Errorf("importing an open session: %v", err)
	}
}

// normal drops monotonic clock readings and locations so sessions compare
// by instant.
func normal(s stats.Session) stats.Session {
	for _, t := range []*time.Time{&s.Started, &s.Accepted, &s.Ended} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return s
}
