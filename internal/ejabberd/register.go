package ejabberd

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// ctlTimeout bounds one ejabberdctl command (each starts an Erlang VM,
// about half a second).
const ctlTimeout = 30 * time.Second

// Register creates an account on the c2s host with `ejabberdctl register
// NAME HOST PASSWORD`, or sets its password if it exists.
func (s *Server) Register(u User) error {
	if u.Name == "" || u.Password == "" {
		return fmt.Errorf("ejabberd: register %q: user needs a name and a password", u.Name)
	}
	if strings.ContainsAny(u.Name, "@/ ") {
		return fmt.Errorf("ejabberd: register %q: give the local part only", u.Name)
	}
	out, err := s.Ctl("register", u.Name, s.Domain(), u.Password)
	if err != nil && strings.Contains(out, "already registered") {
		out, err = s.Ctl("change_password", u.Name, s.Domain(), u.Password)
	}
	if err != nil {
		return fmt.Errorf("ejabberd: register %s@%s: %w: %s", u.Name, s.Domain(), err, out)
	}
	s.log.Debug("ejabberd: registered user", zap.String("user", u.Name+"@"+s.Domain()))
	return nil
}

// Ctl runs `ejabberdctl COMMAND ARGS…` against the server and returns its
// output.
func (s *Server) Ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	cmd := command(ctx, s.ctl, s.Dir, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}
