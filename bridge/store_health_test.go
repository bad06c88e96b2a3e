package bridge

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge/store"
)

// A transaction that fails by itself (its function's error, or a panic)
// says nothing about the store: CommitError stays nil.
func TestCommitErrorIgnoresTransactionErrors(t *testing.T) {
	st, err := OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mine := errors.New("mine")
	if err := st.update(func(*store.Tx) error { return mine }); !errors.Is(err, mine) {
		t.Fatalf("update: %v", err)
	}
	if err := st.batch(func(*store.Tx) error { return mine }); !errors.Is(err, mine) {
		t.Fatalf("batch: %v", err)
	}
	if err := st.batch(func(*store.Tx) error { panic("boom") }); err == nil {
		t.Fatal("batch: a panic passed")
	}
	if at, err := st.CommitError(); err != nil {
		t.Errorf("CommitError %v at %v after transactions' own failures", err, at)
	}
}

// mountTmpfs mounts a tmpfs of the given size (e.g. "4m") on a new
// directory, unmounted at the end of the test; it skips the test unless
// it runs as root and the mount works.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("filling %s: %v", dir, err)
			}
			return path
		}
	}
}

// On a full disk commits fail: CommitError reports the failure, with
// its error, until a commit succeeds again.
func TestCommitErrorOnFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	filler := fillDisk(t, dir)
	big := make([]byte, 256<<10)
	put := func(i int) error {
		return st.batch(func(tx *store.Tx) error {
			return tx.Bolt().Bucket(store.BucketInbox).Put(store.U64(uint64(i)), big)
		})
	}
	var failed error
	for i := 0; i < 64 && failed == nil; i++ {
		failed = put(i)
	}
	if failed == nil {
		t.Fatal("every commit succeeded on a full disk")
	}
	at, err := st.CommitError()
	if err == nil || !strings.Contains(err.Error(), "no space left") || time.Since(at) > time.Minute {
		t.Fatalf("CommitError after %v: %v at %v", failed, err, at)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := put(1000); err != nil {
		t.Fatalf("with space again: %v", err)
	}
	if _, err := st.CommitError(); err != nil {
		t.Errorf("CommitError after a commit succeeded: %v", err)
	}
}
