package prosody

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// RequireEnv is the environment variable that turns a missing Prosody from a
// skipped test into a failed one. CI sets it to "1".
const RequireEnv = "ASKBRIDGE_REQUIRE_PROSODY"

// ErrNotInstalled is returned (wrapped) by Binary when Prosody is missing.
var ErrNotInstalled = errors.New("prosody is not installed: install it: apt-get install -y prosody")

// Binary returns the path of the prosody executable.
func Binary() (string, error) {
	return lookup("prosody")
}

// ctlBinary returns the path of prosodyctl, used to register accounts.
func ctlBinary() (string, error) {
	return lookup("prosodyctl")
}

// fallbackDir is where Debian installs Prosody, searched when PATH lacks it
// (a variable so that tests can pretend Prosody is missing).
var fallbackDir = "/usr/bin"

func lookup(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join(fallbackDir, name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in PATH: %w", name, ErrNotInstalled)
}
