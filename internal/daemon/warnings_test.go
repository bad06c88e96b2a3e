package daemon_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/internal/testenv"
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
	if r := w.readiness(); !r.Ready || len(r.Warnings) != 1 || r.Warnings[0] != "messenger.api_version: "+want {
		t.Errorf("readyz %+v, want ready with the warning %q", r, want)
	}
	if m := w.metricLines("askbridge_graph_api_version_"); !strings.Contains(m, "askbridge_graph_api_version_expiring 1\n") ||
		!strings.Contains(m, "askbridge_graph_api_version_expiry_timestamp_seconds 1.8004896e+09\n") {
		t.Errorf("metrics lack the version's retirement:\n%s", m)
	}
}

// readiness is the /readyz body.
func (w *world) readiness() daemon.Readiness {
	w.t.Helper()
	resp, err := http.Get(w.URL("/readyz"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r daemon.Readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// metricLines are the /metrics lines that start with prefix, each ending
// with a newline.
func (w *world) metricLines(prefix string) string {
	w.t.Helper()
	resp, err := http.Get(w.URL("/metrics"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	var out strings.Builder
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out.WriteString(l + "\n")
		}
	}
	return out.String()
}

// TestPageRestricted checks that error 10/1893063 (the Page restricted
// from sending) is a permanent failure of that reply, told to the
// librarian in plain words, shown in /readyz and in a metric for that
// Page, until a reply goes through again.
func TestPageRestricted(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	patron := w.patronWrites(lib, "hello")
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 10, Subcode: 1893063, Type: "OAuthException",
		Message: "(#10) This Page is temporarily restricted from sending messages."})
	if _, err := lib.SendChat(patron, "Hi!"); err != nil {
		t.Fatal(err)
	}
	if m := chatUntil(t, lib, "[askbridge] Not delivered:"); !strings.Contains(m.Body, "temporarily restricted the library's Page from sending") {
		t.Errorf("notice %q", m.Body)
	}
	if r := w.readiness(); len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "Page "+testenv.PageID+" (Central Library): Facebook has restricted it") {
		t.Errorf("readyz warnings %q", r.Warnings)
	}
	if m := w.metricLines("askbridge_page_sending_restricted{"); m != `askbridge_page_sending_restricted{page="`+testenv.PageID+`"} 1`+"\n" {
		t.Errorf("metric %q", m)
	}
	if _, err := lib.SendChat(patron, "Trying again."); err != nil {
		t.Fatal(err)
	}
	waitSent(t, w.Facebook, 1)
	// The outcome is recorded right after the call.
	if !testenv.Holds(10*time.Second, func() bool { return len(w.readiness().Warnings) == 0 }) {
		t.Fatalf("the restriction is still reported after a reply went through: %q", w.readiness().Warnings)
	}
	if m := w.metricLines("askbridge_page_sending_restricted{"); m != `askbridge_page_sending_restricted{page="`+testenv.PageID+`"} 0`+"\n" {
		t.Errorf("metric after the restriction %q", m)
	}
}
