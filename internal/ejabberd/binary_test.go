package ejabberd

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeTB records what Require does instead of stopping a test.
type fakeTB struct {
	TB
	skipped, failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestRequireWithoutEjabberd(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := fallbackDirs
	fallbackDirs = []string{t.TempDir()}
	defer func() { fallbackDirs = old }()
	if _, err := Binary(); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Binary() = %v, want ErrNotInstalled", err)
	}
	for _, required := range []bool{false, true} {
		env := ""
		if required {
			env = "1"
		}
		t.Setenv(RequireEnv, env)
		f := &fakeTB{}
		Require(f)
		if (f.failed != "") != required || (f.skipped != "") == required {
			t.Errorf("required=%v: skipped %q, failed %q", required, f.skipped, f.failed)
		}
		if msg := f.skipped + f.failed; !strings.Contains(msg, "apt-get install -y ejabberd") {
			t.Errorf("message %q does not say how to install ejabberd", msg)
		}
	}
}
