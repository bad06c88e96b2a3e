package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
)

// TestDeadLetterCLI: with the bridge's stanza cap above the Jabber
// server's limit, a patron text the server closes the stream over each
// time is parked after the repeated failures; the next patron's message
// gets through, the librarian is told, the metric and /readyz count it,
// `askbridge deadletter list` shows it and `drop` removes it.
func TestDeadLetterCLI(t *testing.T) {
	r := newRigWith(t, testenv.Options{ComponentStanzaLimit: 8 << 10})
	r.env = append(r.env, "ASKBRIDGE_XMPP_MAX_STANZA_BYTES=65536")
	r.start("")
	ctx := context.Background()
	if _, err := r.Facebook.PatronSays(ctx, testenv.PageID, messengerPSID(newPSID()), strings.Repeat("too long for the server ", 1000)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Facebook.PatronSays(ctx, testenv.PageID, messengerPSID(newPSID()), "next patron"); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for !got["next patron"] || !got["notice"] {
		m, err := r.lib.Next(wctx)
		if err != nil {
			t.Fatalf("the librarian got %v before both the next patron's message and the notice: %v", got, err)
		}
		switch {
		case strings.HasPrefix(m.Body, "[not delivered]"):
			got["notice"] = true
		case m.Body != "":
			got[m.Body] = true
		}
	}
	if code, body := r.get("/metrics"); code != 200 || !strings.Contains(body, `askbridge_xmpp_parked_total{reason="stream_closed"} 1`) ||
		!strings.Contains(body, "askbridge_xmpp_parked 1") {
		t.Errorf("metrics (%d) do not count the parked entry", code)
	}
	if code, body := r.get("/readyz"); code != 200 || !strings.Contains(body, "dead-letter bucket") {
		t.Errorf("readyz %d: %s", code, body)
	}

	out, err := run(t, "deadletter", "list", "--config", r.config)
	if err != nil {
		t.Fatalf("deadletter list: %v\n%s", err, out)
	}
	row := regexp.MustCompile(`(?m)^(\d+)\s+.*\bmessage\s+librarian@localhost\s+\S+\s+\d+\s+stream_closed\s+3\s`).FindStringSubmatch(out)
	if row == nil || strings.Contains(out, "too long for the server") {
		t.Fatalf("deadletter list:\n%s", out)
	}
	if out, err := run(t, "deadletter", "drop", "--config", r.config); err == nil {
		t.Errorf("drop without IDs or --all: %s", out)
	}
	if out, err := run(t, "deadletter", "drop", row[1], "--config", r.config); err != nil || !strings.Contains(out, "1 parked entries dropped") {
		t.Fatalf("deadletter drop: %v\n%s", err, out)
	}
	if out, err := run(t, "deadletter", "list", "--config", r.config); err != nil || !strings.Contains(out, "No parked entries.") {
		t.Fatalf("after drop: %v\n%s", err, out)
	}
	if code, body := r.get("/readyz"); code != 200 || strings.Contains(body, "dead-letter bucket") {
		t.Errorf("readyz after drop %d: %s", code, body)
	}
	r.stop()
	// With the daemon stopped, the command opens the store itself.
	if out, err := run(t, "deadletter", "list", "--config", r.config); err != nil || !strings.Contains(out, "No parked entries.") {
		t.Fatalf("offline list: %v\n%s", err, out)
	}
}
