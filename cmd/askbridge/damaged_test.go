package main

import (
	"bytes"
	"context"
	binenc "encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/testenv"
)

// stateDir is the rig's state directory.
func (r *rig) stateDir() string { return filepath.Join(filepath.Dir(r.config), "state") }

// serveRefused runs `askbridge serve`, which must stop by itself, and
// returns its exit code and what it wrote to stderr.
func (r *rig) serveRefused() (int, string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(r.t), "serve", "--config", r.config)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		r.t.Fatalf("serve still running after 20s on a store it should refuse; stderr:\n%s", stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		r.t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDamagedStoreRefused: on a damaged store — zeros, cut in half,
// scrambled data pages, only its header pages, missing or empty where
// pseudonym.key shows one was kept — or with pseudonym.key missing beside
// a store in use, `askbridge serve` exits 1 with one line saying what is
// wrong and how to restore a backup, without a Go trace, and leaves the
// files as they were. The backup then restores as the guide says.
func TestDamagedStoreRefused(t *testing.T) {
	r := newRig(t)
	r.start("")
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(newPSID()), "keep me"); err != nil {
		t.Fatal(err)
	}
	r.collect(1)
	r.stop()
	// The store as a backup writes it (the pages in use, no free space
	// after them), as after a restore.
	backup := filepath.Join(t.TempDir(), "backup.db")
	if out, err := execBinary(t, "backup", "--config", r.config, backup); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	good := readFile(t, backup)
	storePath := filepath.Join(r.stateDir(), "askbridge.db")
	keyPath := filepath.Join(r.stateDir(), "pseudonym.key")
	key := readFile(t, keyPath)
	ps := int(binenc.LittleEndian.Uint32(good[16+8:]))
	scrambled := bytes.Clone(good)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 2 * ps; i < len(scrambled); i++ {
		scrambled[i] = byte(rnd.Uint32())
	}

	cases := []struct {
		name  string
		store []byte // nil: no store file
		noKey bool
		want  []string
	}{
		{"zero-filled", make([]byte, len(good)), false, []string{"is damaged: its two header pages are all zeros", "askbridge backup", "deploy.md"}},
		{"truncated-in-half", good[:len(good)/2], false, []string{"is damaged:", "cut short", "askbridge backup", "deploy.md"}},
		{"scrambled-data-pages", scrambled, false, []string{"is damaged:", "scrambled", "askbridge backup", "deploy.md"}},
		{"meta-pages-only", good[:2*ps], false, []string{"is damaged:", "cut short", "askbridge backup", "deploy.md"}},
		{"empty-store-file", []byte{}, false, []string{"is gone: the file is empty", "pseudonym.key", "askbridge new-store --config " + r.config}},
		{"no-store-file", nil, false, []string{"is gone: there is no file", "askbridge new-store --config " + r.config}},
		{"missing-pseudonym-key", good, true, []string{"pseudonym key " + keyPath + " is missing beside a store that holds records",
			"new pseudonym", "askbridge new-pseudonym-key --config " + r.config, "deploy.md"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.t = t
			_ = os.Remove(storePath)
			if c.store != nil {
				if err := os.WriteFile(storePath, c.store, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_ = os.Remove(keyPath)
			if !c.noKey {
				if err := os.WriteFile(keyPath, key, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, stderr := r.serveRefused()
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "askbridge: ") {
				t.Fatalf("exit %d, want 1 with one line; stderr:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			for _, trace := range []string{"goroutine ", "fault", "panic", "runtime error"} {
				if strings.Contains(stderr, trace) {
					t.Errorf("stderr has %q:\n%s", trace, stderr)
				}
			}
			if c.store == nil {
				if _, err := os.Stat(storePath); err == nil {
					t.Error("a store was made")
				}
			} else if got := readFile(t, storePath); !bytes.Equal(got, c.store) {
				t.Errorf("the store file was changed (%d bytes, was %d)", len(got), len(c.store))
			}
			if _, err := os.Stat(keyPath); c.noKey && err == nil {
				t.Error("a new pseudonym key was made")
			}
			t.Logf("%s", stderr)
		})
	}
	r.t = t

	// Restore as the guide says: copy the backup and the key into place.
	if err := os.WriteFile(storePath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := execBinary(t, "check-store", "--config", r.config); err != nil || !strings.Contains(out, ": OK (") {
		t.Fatalf("check-store of the restored store: %v %s", err, out)
	}
	r.start("")
	r.stop()
}

// TestCheckStore: check-store says OK of a sound backup and names the
// damage of a scrambled one, exit status 1; new-pseudonym-key and
// new-store refuse to replace files.
func TestCheckStore(t *testing.T) {
	r := newRig(t)
	r.start("")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if out, err := execBinary(t, "backup", "--config", r.config, backup); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	if out, err := execBinary(t, "check-store", "--config", r.config); err == nil || !strings.Contains(out, "in use by another askbridge process") {
		t.Errorf("check-store while the daemon runs: %v %s", err, out)
	}
	r.stop()
	if out, err := execBinary(t, "check-store", backup); err != nil || !strings.Contains(out, backup+": OK (") {
		t.Errorf("check-store of a sound backup: %v %s", err, out)
	}
	b := readFile(t, backup)
	ps := int(binenc.LittleEndian.Uint32(b[16+8:]))
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := 2 * ps; i < len(b); i++ {
		b[i] = byte(rnd.Uint32())
	}
	if err := os.WriteFile(backup, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := execBinary(t, "check-store", backup)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "is damaged") || strings.Contains(out, "goroutine ") {
		t.Errorf("check-store of a damaged backup: %v %s", err, out)
	}
	for _, cmd := range []string{"new-store", "new-pseudonym-key"} {
		if out, err := execBinary(t, cmd, "--config", r.config); err == nil || !strings.Contains(out, "exists") {
			t.Errorf("%s over existing files: %v %s", cmd, err, out)
		}
	}
	// Starting over on purpose where the store was lost: the daemon
	// starts on the new store, with the old key.
	if err := os.Remove(filepath.Join(r.stateDir(), "askbridge.db")); err != nil {
		t.Fatal(err)
	}
	if out, err := execBinary(t, "new-store", "--config", r.config); err != nil || !strings.Contains(out, "new empty store at") {
		t.Fatalf("new-store: %v %s", err, out)
	}
	r.start("")
	r.stop()
}
