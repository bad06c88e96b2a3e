package prosody

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

func TestRequire(t *testing.T) {
	tests := []struct {
		name       string
		installed  bool
		requireEnv string
		skip, fail bool
	}{
		{"missing, not required", false, "", true, false},
		{"missing, required", false, "1", false, true},
		{"installed", true, "1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.installed {
				if _, err := Binary(); err != nil {
					t.Skip(err)
				}
			} else {
				t.Setenv("PATH", t.TempDir())
				old := fallbackDir
				fallbackDir = t.TempDir()
				defer func() { fallbackDir = old }()
				if _, err := Binary(); !errors.Is(err, ErrNotInstalled) {
					t.Fatalf("Binary() = %v, want ErrNotInstalled", err)
				}
			}
			t.Setenv(RequireEnv, tt.requireEnv)
			f := &fakeTB{}
			Require(f)
			if (f.skipped != "") != tt.skip || (f.failed != "") != tt.fail {
				t.Errorf("skipped %q, failed %q; want skip=%v fail=%v", f.skipped, f.failed, tt.skip, tt.fail)
			}
			for _, msg := range []string{f.skipped, f.failed} {
				if msg != "" && !strings.Contains(msg, "apt-get install -y prosody") {
					t.Errorf("message %q does not say how to install prosody", msg)
				}
			}
		})
	}
}
