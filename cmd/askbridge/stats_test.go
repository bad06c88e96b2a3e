package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/stats"
)

// exportCSV runs `askbridge stats export` as a separate process.
func (r *rig) export(args ...string) (string, string, error) {
	r.t.Helper()
	today := time.Now().UTC().Format("2006-01-02")
	cmd := exec.Command(binary(r.t), append([]string{"stats", "export", "--config", r.config, "--from", today, "--to", today}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestStatisticsWhileDaemonRuns: a patron asks, a librarian answers and
// classifies in the chat, and `askbridge stats export` — run while the
// daemon holds the store — shows one answered session with the right wait,
// READ level and tag, and no patron identity.
func TestStatisticsWhileDaemonRuns(t *testing.T) {
	r := newRig(t)
	r.start("")
	psid := newPSID()
	patron := psid + "@" + testenv.ComponentDomain
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(psid), "Where are the study rooms?"); err != nil {
		t.Fatal(err)
	}
	r.collect(1)
	asked := time.Now()
	// The librarian takes 2 s to answer: the wait the export must show.
	// The daemon, another process, keeps real time, so this pause makes
	// the data under test; it waits for no result.
	time.Sleep(2 * time.Second)
	if _, err := r.lib.SendChat(patron, "Third floor, book them at the desk."); err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	for _, cmd := range []string{"!read 3", "!tag rooms", "!close"} {
		if _, err := r.lib.SendChat(patron, cmd); err != nil {
			t.Fatal(err)
		}
		r.collect(1) // the acknowledgement
	}

	out, stderr, err := r.export()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, out)
	}
	if len(rows) != 2 {
		t.Fatalf("export has %d rows, want header + 1:\n%s", len(rows), out)
	}
	if got := strings.Join(rows[0][:12], ","); got != "id,guest,protocol,queue,profile,started,wait,duration,operator,ip,referrer,tags" {
		t.Errorf("header = %s", got)
	}
	row := map[string]string{}
	for i, col := range rows[0] {
		row[col] = rows[1][i]
	}
	wait, _ := strconv.Atoi(row["wait"])
	maxWait := int(answered.Sub(asked).Seconds()) + 2
	if row["status"] != "answered" || row["read_level"] != "3" || row["tags"] != "rooms" || row["protocol"] != "facebook" ||
		row["operator"] != "librarian@localhost" || wait < 2 || wait > maxWait || row["questions"] != "1" {
		t.Errorf("session row = %v (wait should be 2..%d)", row, maxWait)
	}
	if strings.Contains(out, psid) {
		t.Error("the export contains the PSID")
	}
	t.Logf("export while the daemon runs:\n%s", out)

	// The same over HTTP, with the token; without it, refused.
	today := time.Now().UTC().Format("2006-01-02")
	url := r.URL("/stats/export?from=" + today + "&to=" + today + "&report=summary&format=json")
	if resp, err := http.Get(url); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without token: %v %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer stats-token-for-tests")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with token: %v %v", resp, err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(body.String(), `"answered": 1,`) {
		t.Errorf("summary over HTTP: %s", body.String())
	}

	// Bad input: a clear error and a non-zero exit.
	// One channel at a time: the session is a Messenger one.
	if out, stderr, err := r.export("--protocol", "instagram"); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("--protocol instagram: %v %s\n%s", err, stderr, out)
	}
	if out, stderr, err := r.export("--protocol", "facebook", "--report", "protocols"); err != nil || !strings.Contains(out, "facebook,1,1,1\ninstagram,0,0,0\n") {
		t.Errorf("--protocol facebook --report protocols: %v %s\n%s", err, stderr, out)
	}
	for _, args := range [][]string{{"--report", "nonsense"}, {"--timezone", "Mars/Base"}, {"--protocol", "sms"}} {
		if _, stderr, err := r.export(args...); err == nil || !strings.Contains(stderr, strings.TrimPrefix(args[1], "--")) {
			t.Errorf("%v: err %v, stderr %q", args, err, stderr)
		}
	}

	// A deletion request while the daemon runs.
	forget := exec.Command(binary(t), "forget", "--config", r.config, "--psid", psid)
	if out, err := forget.CombinedOutput(); err != nil || !strings.Contains(string(out), "records removed") {
		t.Fatalf("forget: %v %s", err, out)
	}
	// An Instagram patron's request goes the same way (this one wrote nothing).
	forget = exec.Command(binary(t), "forget", "--config", r.config, "--igsid", newPSID())
	if out, err := forget.CombinedOutput(); err != nil || !strings.Contains(string(out), "Nothing was found for that patron") {
		t.Errorf("forget --igsid: %v %s", err, out)
	}
	for _, args := range [][]string{{"--psid", "1", "--igsid", "2"}, {"--igsid", "@teen"}, {"--psid", "ig-1"}, {}} {
		out, err := exec.Command(binary(t), append([]string{"forget", "--config", r.config}, args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "sid") {
			t.Errorf("forget %v: %v %s", args, err, out)
		}
	}

	// With the daemon stopped, the command reads the store itself.
	r.stop()
	db, err := os.ReadFile(filepath.Join(filepath.Dir(r.config), "state", "askbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(psid)) {
		t.Error("the PSID is still in the store file after forget")
	}
	out2, stderr, err := r.export("--report", stats.ReportRead)
	if err != nil || !strings.Contains(out2, "reference") {
		t.Fatalf("export without daemon: %v %s\n%s", err, stderr, out2)
	}
}
