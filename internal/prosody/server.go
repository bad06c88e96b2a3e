package prosody

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/askbridge/askbridge/internal/localserver"
	"go.uber.org/zap"
)

// Options describe a private server.
type Options struct {
	// Dir holds the configuration, data and logs. If empty, Start creates a
	// temporary directory and Stop removes it.
	Dir string
	// Host is the c2s virtual host; "localhost" if empty.
	Host string
	// C2SPort and ComponentPort fix the loopback ports (for a demo that a
	// person's Jabber client connects to); 0 picks a free port, which is
	// what tests should do.
	C2SPort, ComponentPort int
	// Components are the XEP-0114 components the server accepts.
	Components []Component
	// Users are registered on Host once the server runs.
	Users []User
	// Contacts are put in the users' rosters, already approved both ways.
	Contacts []Contact
	// Debug makes Prosody log at debug level (every stanza) instead of info.
	Debug bool
	// TLS offers STARTTLS on c2s, with a self-signed certificate for Host
	// made at start (a demo that people's Jabber clients log in to: most
	// refuse or discourage a login without TLS). Encryption stays optional.
	TLS bool
	// Log receives the harness's own messages; nil discards them.
	Log *zap.Logger
	// ComponentStanzaLimit, if not 0, is the largest stanza in bytes the
	// server accepts from a component (component_stanza_size_limit); it
	// closes the component's stream over a larger one.
	ComponentStanzaLimit int
}

// Server is a running private Prosody.
type Server struct {
	// Endpoints give the c2s virtual host (Domain), the c2s and component
	// listeners (Prosody opens the latter only when Options.Components is
	// not empty) and the components.
	localserver.Endpoints
	// Dir holds prosody.cfg.lua, prosody.log and the data directory.
	Dir string

	bin, ctl string
	config   string
	ownDir   bool
	// components tells whether the component port is open.
	components bool
	ports      ports
	log        *zap.Logger

	mu      sync.Mutex
	proc    *process
	stopped bool
}

// startAttempts is how often Start tries fresh ports when the chosen ones
// were taken before Prosody could bind them.
const startAttempts = 5

// Start writes a configuration for o into its directory, starts
// `prosody --config FILE -F` on free loopback ports and returns once both
// the c2s and the component listener accept connections and the users are
// registered. ctx bounds the start, not the server's life: call Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	ctl, err := ctlBinary()
	if err != nil {
		return nil, err
	}
	host := o.Host
	if host == "" {
		host = "localhost"
	}
	s := &Server{Dir: o.Dir, bin: bin, ctl: ctl, log: o.Log, components: len(o.Components) > 0}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.Dir == "" {
		s.Dir, err = os.MkdirTemp("", "askbridge-prosody-")
		if err != nil {
			return nil, fmt.Errorf("prosody: create directory: %w", err)
		}
		s.ownDir = true
	}
	s.config = filepath.Join(s.Dir, configFile)
	for _, d := range []string{dataDir, certsDir} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o750); err != nil {
			s.cleanup()
			return nil, fmt.Errorf("prosody: create %s: %w", d, err)
		}
	}

	if o.TLS {
		if err := writeSelfSigned(filepath.Join(s.Dir, certsDir), host); err != nil {
			s.cleanup()
			return nil, err
		}
	}
	fixed := ports{c2s: o.C2SPort, component: o.ComponentPort}
	for attempt := 1; ; attempt++ {
		s.ports, err = choosePorts(fixed)
		if err != nil {
			s.cleanup()
			return nil, fmt.Errorf("prosody: %w", err)
		}
		cfg := renderConfig(s.Dir, host, o.Components, s.ports, o.Debug, o.TLS, o.ComponentStanzaLimit)
		if err := os.WriteFile(s.config, []byte(cfg), 0o640); err != nil {
			s.cleanup()
			return nil, fmt.Errorf("prosody: write config: %w", err)
		}
		s.Endpoints = localserver.NewEndpoints(host, s.ports.c2s, s.ports.component, o.Components)
		s.proc, err = launch(ctx, s.bin, s.config, s.Dir, s.ports, s.components)
		if err == nil {
			break
		}
		var taken *localserver.PortTakenError
		if errors.As(err, &taken) && taken.Port != fixed.c2s && taken.Port != fixed.component && attempt < startAttempts {
			s.log.Debug("prosody: port taken, trying others", zap.Error(err))
			continue
		}
		s.cleanup()
		return nil, fmt.Errorf("prosody: start: %w", err)
	}
	s.log.Info("prosody started", zap.String("dir", s.Dir),
		zap.String("c2s", s.C2SAddr()), zap.String("component", s.ComponentAddr()))

	for _, u := range o.Users {
		if err := s.Register(u); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	if err := s.writeContacts(o.Contacts); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (o Options) validate() error {
	return localserver.CheckSetup("prosody", o.Components, o.Users, o.C2SPort, o.ComponentPort)
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
	s.log.Info("prosody stopped", zap.String("dir", s.Dir))
	if err != nil {
		return fmt.Errorf("prosody: stop: %w", err)
	}
	return nil
}

// Halt stops the server process but keeps its ports, configuration and
// data, so that Restart brings it back, as after an outage.
func (s *Server) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop()
	s.proc = nil
	s.log.Info("prosody halted", zap.String("dir", s.Dir))
	if err != nil {
		return fmt.Errorf("prosody: halt: %w", err)
	}
	return nil
}

// Restart stops the server and starts it again on the same ports with the
// same data, as an administrator's restart would.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("prosody: restart: server was stopped")
	}
	if s.proc != nil {
		if err := s.proc.stop(); err != nil {
			return fmt.Errorf("prosody: restart: %w", err)
		}
		s.proc = nil
	}
	p, err := launch(ctx, s.bin, s.config, s.Dir, s.ports, s.components)
	if err != nil {
		return fmt.Errorf("prosody: restart: %w", err)
	}
	s.proc = p
	s.log.Info("prosody restarted", zap.String("dir", s.Dir))
	return nil
}

// Pause freezes the server with SIGSTOP: its sockets stay open but nothing
// is read or answered, as with a hung server or a silently dead link.
func (s *Server) Pause() error {
	return s.signal("pause", sigStop)
}

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() error {
	return s.signal("resume", sigCont)
}

func (s *Server) signal(what string, sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return fmt.Errorf("prosody: %s: server is not running", what)
	}
	if err := s.proc.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("prosody: %s: %w", what, err)
	}
	return nil
}

// LogTail returns the last lines of the server's log, for test failures.
func (s *Server) LogTail() string {
	return logTail(s.Dir)
}

// Name is "prosody".
func (s *Server) Name() string { return "prosody" }

// PID is the server's process id, 0 while it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}
