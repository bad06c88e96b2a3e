package ejabberd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
)

// RequireEnv is the environment variable that turns a missing ejabberd from
// a skipped test into a failed one. CI sets it to "1".
const RequireEnv = "ASKBRIDGE_REQUIRE_EJABBERD"

// ErrNotInstalled is returned (wrapped) by Binary when ejabberd is missing.
var ErrNotInstalled = errors.New("ejabberd is not installed: install it: apt-get install -y ejabberd")

// ErrWrongUser is returned (wrapped) by Start when the tests run as a user
// Debian's ejabberdctl refuses (anyone but root and ejabberd).
var ErrWrongUser = errors.New("ejabberdctl (Debian's package) runs only as root or as the ejabberd user")

// fallbackDirs are searched when PATH lacks a program: Debian installs
// ejabberdctl in /usr/sbin, which an ordinary user's PATH often omits (a
// variable so that tests can pretend ejabberd is missing).
var fallbackDirs = []string{"/usr/sbin", "/usr/bin"}

// Binary returns the path of ejabberdctl, which starts the server and
// registers accounts.
func Binary() (string, error) {
	return lookup("ejabberdctl")
}

func lookup(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range fallbackDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH: %w", name, ErrNotInstalled)
}

// checkUser reports ErrWrongUser unless the process may run ejabberdctl.
func checkUser() error {
	if os.Geteuid() == 0 {
		return nil
	}
	if u, err := user.Current(); err == nil && u.Username == "ejabberd" {
		return nil
	}
	return fmt.Errorf("ejabberd: %w (run the tests as root, or skip them)", ErrWrongUser)
}
