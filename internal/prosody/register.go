package prosody

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"go.uber.org/zap"
)

// registerTimeout bounds one prosodyctl run.
const registerTimeout = 30 * time.Second

// Register creates (or resets the password of) an account on the c2s host
// with `prosodyctl --config FILE register NAME HOST PASSWORD`. It works
// while the server runs: accounts are read from the data directory at login.
func (s *Server) Register(u User) error {
	if u.Name == "" || u.Password == "" {
		return fmt.Errorf("prosody: register %q: user needs a name and a password", u.Name)
	}
	if strings.ContainsAny(u.Name, "@/ ") {
		return fmt.Errorf("prosody: register %q: give the local part only", u.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.ctl, "--config", s.config, "register", u.Name, s.Domain(), u.Password)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("prosody: register %s@%s: %w: %s", u.Name, s.Domain(), err, strings.TrimSpace(out.String()))
	}
	s.log.Debug("prosody: registered user", zap.String("user", u.Name+"@"+s.Domain()))
	return nil
}
