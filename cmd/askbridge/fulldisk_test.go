package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
)

// waitReady polls /readyz until its body contains want.
func (r *rig) waitReady(want string, within time.Duration) string {
	r.t.Helper()
	var body string
	if !testenv.Holds(within, func() bool {
		_, body = r.get("/readyz")
		return strings.Contains(body, want)
	}) {
		r.t.Fatalf("/readyz never said %q within %v; last: %s", want, within, body)
	}
	return body
}

// TestReadyzOnFullDisk: while webhooks fail for lack of disk space,
// /readyz reports the store unwritable with the commit's error, and ok
// again once a commit succeeds. The state directory is a small tmpfs,
// which needs root.
func TestReadyzOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as the state directory")
	}
	r := newRig(t)
	state := r.stateDir()
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", state).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		// Before the rig's own clean-up: the daemon holds files there.
		if r.cmd != nil && r.cmd.Process != nil && r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		if out, err := exec.Command("umount", state).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", state, err, out)
		}
	})
	r.start("")

	filler := filepath.Join(state, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("filling the tmpfs: %v", err)
			}
			break
		}
	}
	f.Close()

	// Facebook's POSTs, each with a long message, until one is refused:
	// its commit needs pages the full disk cannot give.
	psid := newPSID()
	text := strings.Repeat("a long question about the library's opening hours ", 4000)
	var refused []byte
	deadline := time.Now().Add(30 * time.Second)
	for k := 0; refused == nil; k++ {
		body := patronBody(psid, fmt.Sprintf("mid.full.%d", k), text, time.Now().UnixMilli())
		status, err := r.Facebook.PostSigned(context.Background(), body)
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 {
			refused = body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhooks acknowledged on a full disk", k+1)
		}
	}
	body := r.waitReady(`"store":"not writable: the last commit failed at `, 10*time.Second)
	if !strings.Contains(body, "no space left on device") || !strings.Contains(body, `"ready":false`) {
		t.Errorf("/readyz on a full disk: %s", body)
	}
	t.Logf("full disk: %s", strings.TrimSpace(body))

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Facebook retries the refused POST.
	poll(t, 10*time.Second, "the retried webhook acknowledged", func() bool {
		status, err := r.Facebook.PostSigned(context.Background(), refused)
		return err == nil && status == 200
	})
	body = r.waitReady(`"store":"ok"`, 10*time.Second)
	if !strings.Contains(body, `"ready":true`) {
		t.Errorf("/readyz with space again: %s", body)
	}
	r.stop()
}
