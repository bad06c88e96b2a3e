package daemon

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

// TestAPIVersionWarning checks that a Graph API version retired or close
// to retirement shows in /readyz (without making the daemon unready) and
// in the metrics.
func TestAPIVersionWarning(t *testing.T) {
	const old = "v21.0" // retires 2027-01-21: within 90 days from 2026-10-23 on
	want := messenger.CheckAPIVersion(old, time.Now()).Warning
	if want == "" {
		t.Fatalf("%s raises no warning today; pick an older version for this test", old)
	}
	w := newWorld(t, func(c *config.Config) { c.Messenger.APIVersion = old })
	resp, err := http.Get("http://" + w.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var r readiness
	err = json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !r.Ready {
		t.Fatalf("readyz %d %+v %v", resp.StatusCode, r, err)
	}
	if len(r.Warnings) != 1 || r.Warnings[0] != "messenger.api_version: "+want {
		t.Errorf("warnings %q, want %q", r.Warnings, want)
	}
	resp, err = http.Get("http://" + w.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\naskbridge_graph_api_version_expiring 1\n") ||
		!strings.Contains(string(body), "\naskbridge_graph_api_version_expiry_timestamp_seconds 1.8004896e+09\n") {
		t.Errorf("metrics lack the version's retirement:\n%s", grepLines(string(body), "graph_api_version"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
