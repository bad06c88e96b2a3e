package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/internal/testenv"
)

// waitLog waits until the daemon's log contains s.
func (r *rig) waitLog(s string) {
	r.t.Helper()
	poll(r.t, 10*time.Second, fmt.Sprintf("the daemon logging %q", s), func() bool {
		b, _ := os.ReadFile(r.logs)
		return strings.Contains(string(b), s)
	})
}

// TestReloadOnSIGHUP: a good configuration applies at once (here: the
// queue), keys that need a restart are named, and a bad one is rejected
// while the running configuration stays.
func TestReloadOnSIGHUP(t *testing.T) {
	r := newRig(t)
	r.start("")
	if err := r.Server.Register(testenv.User{Name: "desk", Password: "pw-desk"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desk := r.Login("desk", "pw-desk")

	orig, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(orig), "queue: librarian@localhost", "queue: desk@localhost", 1)
	next = strings.Replace(next, `operators: ["librarian@localhost"]`, `operators: ["librarian@localhost", "desk@localhost"]`, 1)
	next = strings.Replace(next, "secret: component-secret", "secret: another-secret-value", 1)
	if err := os.WriteFile(r.config, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitLog(`"restart_needed":["xmpp.secret"]`)
	psid := newPSID()
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(psid), "to the new queue"); err != nil {
		t.Fatal(err)
	}
	m, err := desk.Next(ctx)
	for err == nil && m.Body == "" {
		m, err = desk.Next(ctx)
	}
	if err != nil || m.Body != "to the new queue" {
		t.Fatalf("desk got %+v, %v", m, err)
	}

	bad := strings.Replace(next, "routing: queue", "routing: lottery", 1)
	if !strings.Contains(bad, "lottery") {
		bad = strings.Replace(next, "xmpp:\n", "xmpp:\n  routing: lottery\n", 1)
	}
	if err := os.WriteFile(r.config, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitLog("reload rejected")
	if code, body := r.get("/readyz"); code != 200 {
		t.Fatalf("after a rejected reload: %d %s", code, body)
	}
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(psid), "still the new queue"); err != nil {
		t.Fatal(err)
	}
	m, err = desk.Next(ctx)
	for err == nil && m.Body == "" {
		m, err = desk.Next(ctx)
	}
	if err != nil || m.Body != "still the new queue" {
		t.Fatalf("desk got %+v, %v", m, err)
	}
}

// TestBackupWhileRunning: `askbridge backup` takes a consistent copy while
// the daemon runs, and the copy opens as a store with the data in it.
func TestBackupWhileRunning(t *testing.T) {
	r := newRig(t)
	r.start("")
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(newPSID()), "back me up"); err != nil {
		t.Fatal(err)
	}
	r.collect(1)
	dir := t.TempDir()
	out, err := execBinary(t, "backup", "--config", r.config, filepath.Join(dir, "askbridge.db"))
	if err != nil || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: %v %s", err, out)
	}
	// An existing file is replaced only with --force; errors name the file
	// given, never a temporary one.
	out, err = execBinary(t, "backup", "--config", r.config, filepath.Join(dir, "askbridge.db"))
	if err == nil || !strings.Contains(out, filepath.Join(dir, "askbridge.db")+" exists") || !strings.Contains(out, "--force") {
		t.Errorf("backup over an existing file: %v %s", err, out)
	}
	if out, err := execBinary(t, "backup", "--force", "--config", r.config, filepath.Join(dir, "askbridge.db")); err != nil || !strings.Contains(out, "backup written") {
		t.Errorf("backup --force: %v %s", err, out)
	}
	nowhere := filepath.Join(dir, "no-such-dir", "b.db")
	out, err = execBinary(t, "backup", "--config", r.config, nowhere)
	if err == nil || !strings.Contains(out, "cannot write "+nowhere) || strings.Contains(out, ".askbridge-backup-") {
		t.Errorf("backup into a missing folder: %v %s", err, out)
	}
	st, err := bridge.OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Records(time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || len(recs) != 1 || recs[0].State != bridge.StateSent {
		t.Errorf("backup holds %+v (%v)", recs, err)
	}
}

// TestVersion: a binary built with plain go build in a checkout names its
// commit and build date from Go's build information, with no -ldflags.
func TestVersion(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "askbridge")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "askbridge ") || !strings.Contains(string(out), ", commit "+strings.TrimSpace(string(head))) ||
			strings.Contains(string(out), "tree of unknown") || !strings.Contains(string(out), "go1.") {
			t.Errorf("%v: %v %q", args, err, out)
		}
	}
}

// TestSystemdNotify: under systemd (NOTIFY_SOCKET) the daemon reports
// READY, pets the watchdog, and reports STOPPING on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	r := newRig(t)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r.env = []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=300000"}
	r.start("")
	seen := map[string]int{}
	read := func(until string) {
		t.Helper()
		buf := make([]byte, 512)
		deadline := time.Now().Add(10 * time.Second)
		for seen[until] == 0 {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %s: %v (seen %v)", until, err, seen)
			}
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if line != "" {
					seen[line]++
				}
			}
		}
	}
	read("READY=1")
	read("WATCHDOG=1")
	r.stop()
	read("STOPPING=1")
	t.Logf("notifications: %v", seen)
}

func execBinary(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary(t), args...).CombinedOutput()
	return string(out), err
}
