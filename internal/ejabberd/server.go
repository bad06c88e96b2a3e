package ejabberd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/askbridge/askbridge/internal/localserver"
	"go.uber.org/zap"
)

// Options describe a private server.
type Options struct {
	// Dir holds the configuration, database and logs. If empty, Start
	// creates a temporary directory and Stop removes it. Its path must not
	// contain white space or quotes (ejabberdctl splits it into words).
	Dir string
	// Host is the c2s virtual host; "localhost" if empty.
	Host string
	// C2SPort and ComponentPort fix the loopback ports; 0 picks a free
	// port, which is what tests should do.
	C2SPort, ComponentPort int
	// Components are the XEP-0114 components the server accepts. Their
	// domains must differ from Host: ejabberd refuses a component for one
	// of its own virtual hosts.
	Components []Component
	// Users are registered on Host once the server runs.
	Users []User
	// Debug makes ejabberd log at debug level (every stanza).
	Debug bool
	// Log receives the harness's own messages; nil discards them.
	Log *zap.Logger
}

// Server is a running private ejabberd.
type Server struct {
	// Endpoints give the c2s virtual host (Domain), the c2s and
	// ejabberd_service listeners (the latter present only when
	// Options.Components is not empty) and the components.
	localserver.Endpoints
	// Dir holds ejabberd.yml, logs/ejabberd.log and the database.
	Dir string
	// Node is the Erlang node name.
	Node string

	ctl        string
	ownDir     bool
	components bool
	ports      ports
	log        *zap.Logger

	mu      sync.Mutex
	proc    *process
	stopped bool
}

// startAttempts is how often Start tries fresh ports when the chosen ones
// were taken before ejabberd could bind them.
const startAttempts = 5

// Start writes a configuration for o into its directory, starts ejabberd on
// free loopback ports and returns once the c2s and component listeners
// accept connections and the users are registered. ctx bounds the start,
// not the server's life: call Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "localhost"
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	ctl, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := checkUser(); err != nil {
		return nil, err
	}
	s := &Server{Dir: o.Dir, ctl: ctl, log: o.Log, components: len(o.Components) > 0}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.Dir == "" {
		s.Dir, err = os.MkdirTemp("", "askbridge-ejabberd-")
		if err != nil {
			return nil, fmt.Errorf("ejabberd: create directory: %w", err)
		}
		s.ownDir = true
	}
	if strings.ContainsAny(s.Dir, " \t\n'\"\\") {
		s.cleanup()
		return nil, fmt.Errorf("ejabberd: directory %q: ejabberdctl cannot handle white space or quotes in paths", s.Dir)
	}
	s.Node = "askbridge-" + randomHex(6) + "@localhost"
	if err := s.writeStatic(); err != nil {
		s.cleanup()
		return nil, err
	}

	fixed := ports{c2s: o.C2SPort, component: o.ComponentPort}
	for attempt := 1; ; attempt++ {
		s.ports, err = choosePorts(fixed)
		if err != nil {
			s.cleanup()
			return nil, fmt.Errorf("ejabberd: %w", err)
		}
		files := map[string]string{
			configFile: renderConfig(o.Host, o.Components, s.ports, o.Debug),
			ctlFile:    renderCtl(s.Dir, s.Node, s.ports),
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(text), 0o640); err != nil {
				s.cleanup()
				return nil, fmt.Errorf("ejabberd: write %s: %w", name, err)
			}
		}
		s.Endpoints = localserver.NewEndpoints(o.Host, s.ports.c2s, s.ports.component, o.Components)
		s.proc, err = launch(ctx, s.ctl, s.Dir, s.ports, s.components)
		if err == nil {
			break
		}
		var taken *localserver.PortTakenError
		if errors.As(err, &taken) && taken.Port != fixed.c2s && taken.Port != fixed.component && attempt < startAttempts {
			s.log.Debug("ejabberd: port taken, trying others", zap.Error(err))
			_ = os.RemoveAll(filepath.Join(s.Dir, spoolDir)) // a half-made database
			continue
		}
		s.cleanup()
		return nil, fmt.Errorf("ejabberd: start: %w", err)
	}
	s.log.Info("ejabberd started", zap.String("dir", s.Dir), zap.String("node", s.Node),
		zap.String("c2s", s.C2SAddr()), zap.String("component", s.ComponentAddr()))

	for _, u := range o.Users {
		if err := s.Register(u); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// writeStatic writes the files that do not depend on the ports: the inetrc
// and the erl wrapper.
func (s *Server) writeStatic() error {
	for _, d := range []string{logsDir, spoolDir} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o750); err != nil {
			return fmt.Errorf("ejabberd: create %s: %w", d, err)
		}
	}
	erl, err := exec.LookPath("erl")
	if err != nil {
		erl = "/usr/bin/erl" // what ejabberdctl itself runs
	}
	setpriv, _ := exec.LookPath("setpriv") // optional: without it a killed test run may leave ejabberd behind
	if err := os.WriteFile(filepath.Join(s.Dir, inetrcFile), []byte(inetrc), 0o640); err != nil {
		return fmt.Errorf("ejabberd: write %s: %w", inetrcFile, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, erlWrapper), []byte(renderWrapper(erl, setpriv)), 0o750); err != nil {
		return fmt.Errorf("ejabberd: write %s: %w", erlWrapper, err)
	}
	return nil
}

func (o Options) validate() error {
	for _, c := range o.Components {
		if c.Domain != "" && c.Domain == o.Host {
			return fmt.Errorf("ejabberd: component %q is the virtual host itself", c.Domain)
		}
	}
	return localserver.CheckSetup("ejabberd", o.Components, o.Users, o.C2SPort, o.ComponentPort)
}

// cleanup removes a directory Start created.
func (s *Server) cleanup() {
	if s.ownDir {
		_ = os.RemoveAll(s.Dir)
	}
}

// Stop ends the server (SIGTERM, then SIGKILL if it lingers) and removes its
// directory if Start created it. Calling Stop again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var err error
	if s.proc != nil {
		err = s.proc.stop()
		s.proc = nil
	}
	s.cleanup()
	s.log.Info("ejabberd stopped", zap.String("dir", s.Dir))
	if err != nil {
		return fmt.Errorf("ejabberd: stop: %w", err)
	}
	return nil
}

// Restart stops the server and starts it again on the same ports with the
// same database, as an administrator's restart would.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("ejabberd: restart: server was stopped")
	}
	if s.proc != nil {
		if err := s.proc.stop(); err != nil {
			return fmt.Errorf("ejabberd: restart: %w", err)
		}
		s.proc = nil
	}
	p, err := launch(ctx, s.ctl, s.Dir, s.ports, s.components)
	if err != nil {
		return fmt.Errorf("ejabberd: restart: %w", err)
	}
	s.proc = p
	s.log.Info("ejabberd restarted", zap.String("dir", s.Dir))
	return nil
}

// LogTail returns the last lines of the server's log, for test failures.
func (s *Server) LogTail() string {
	return logTail(s.Dir)
}

// Name is "ejabberd".
func (s *Server) Name() string { return "ejabberd" }

// PID is the Erlang VM's process id, 0 while it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.vmPID()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
