package ejabberd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
)

const (
	// readyTimeout bounds how long a start may take when ctx has no
	// earlier deadline. ejabberd needs about two seconds.
	readyTimeout = 30 * time.Second
	// stopGrace is how long ejabberd gets to exit after SIGTERM.
	stopGrace = 10 * time.Second
	// pollEvery is how often launch looks for the listeners.
	pollEvery = 50 * time.Millisecond
)

var (
	// failedPort matches a listener's bind failure (ejabberd_listener).
	failedPort = regexp.MustCompile(`Failed to open socket at 127\.0\.0\.1:(\d+)`)
	// failedDist is the VM's failure to listen on ERL_DIST_PORT.
	failedDist = "register/listen error: eaddrinuse"
)

// process is one run of `ejabberdctl … foreground`.
type process struct {
	cmd     *exec.Cmd
	pidPath string        // where ejabberd writes the VM's pid
	done    chan struct{} // closed when ejabberdctl has exited
	err     error         // exit status, valid after done
}

// command returns an ejabberdctl invocation on the server in dir. HOME is
// the server's directory, so the Erlang cookie is created there and not in
// the user's home.
func command(ctx context.Context, ctl, dir string, args ...string) *exec.Cmd {
	full := append([]string{
		"--config-dir", dir,
		"--ctl-config", filepath.Join(dir, ctlFile),
		"--config", filepath.Join(dir, configFile),
		"--spool", filepath.Join(dir, spoolDir),
		"--logs", filepath.Join(dir, logsDir),
	}, args...)
	cmd := exec.CommandContext(ctx, ctl, full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	return cmd
}

// launch starts ejabberd in dir and waits until its listeners accept
// connections. ejabberd only has a component listener when a component is
// configured, so withComponents tells whether to wait for it.
func launch(ctx context.Context, ctl, dir string, p ports, withComponents bool) (*process, error) {
	logPath := filepath.Join(dir, logFile)
	offset := int64(0)
	if fi, err := os.Stat(logPath); err == nil {
		offset = fi.Size()
	}
	outPath := filepath.Join(dir, outFile)
	outOffset := int64(0)
	if fi, err := os.Stat(outPath); err == nil {
		outOffset = fi.Size()
	}
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", outFile, err)
	}
	defer out.Close() // the child has its own copy

	pidPath := filepath.Join(dir, pidFile)
	_ = os.Remove(pidPath) // a previous run's
	cmd := command(context.Background(), ctl, dir, "foreground")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", ctl, err)
	}
	pr := &process{cmd: cmd, pidPath: pidPath, done: make(chan struct{})}
	go func() {
		pr.err = cmd.Wait()
		close(pr.done)
	}()

	if err := pr.waitReady(ctx, logPath, offset, outPath, outOffset, p, withComponents); err != nil {
		_ = pr.stop()
		if errors.Is(err, localserver.ErrPortTaken) {
			return nil, err
		}
		return nil, fmt.Errorf("%w%s", err, logTail(dir))
	}
	return pr, nil
}

// waitReady polls ejabberd's log (from offset on, so that an earlier run's
// lines do not count) until each listener is reported and accepts a
// connection. Only the log tells ejabberd's listener from another process
// that took the port.
func (pr *process) waitReady(ctx context.Context, logPath string, offset int64, outPath string, outOffset int64, p ports, withComponents bool) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	listening := func(port int) string {
		return fmt.Sprintf("Start accepting TCP connections at 127.0.0.1:%d ", port)
	}
	want := []string{listening(p.c2s)}
	addrs := []string{localserver.Addr(p.c2s)}
	if withComponents {
		want = append(want, listening(p.component))
		addrs = append(addrs, localserver.Addr(p.component))
	}
	return localserver.WaitReady(ctx, localserver.Readiness{
		Name: "ejabberd", Log: logPath, Offset: offset, Want: want, Addrs: addrs,
		FailedPort: failedPort, Exited: pr.done, Every: pollEvery,
		ExitErr: func() error {
			if text, _ := localserver.ReadFrom(outPath, outOffset); strings.Contains(text, failedDist) {
				return &localserver.PortTakenError{Port: p.dist}
			}
			text, _ := localserver.ReadFrom(logPath, offset)
			if m := failedPort.FindStringSubmatch(text); m != nil {
				port, _ := strconv.Atoi(m[1])
				return &localserver.PortTakenError{Port: port}
			}
			return fmt.Errorf("ejabberd exited during start (%v)", pr.err)
		},
	})
}

// stop ends ejabberd: SIGTERM to the VM (which then shuts down in order and
// ejabberdctl exits with it), SIGKILL to both after stopGrace.
func (pr *process) stop() error {
	select {
	case <-pr.done:
		return nil
	default:
	}
	vm := pr.vmPID()
	if vm > 0 {
		_ = syscall.Kill(vm, syscall.SIGTERM)
		_ = syscall.Kill(vm, syscall.SIGCONT)
	} else {
		// Not started far enough to write its pid: ending ejabberdctl
		// ends the VM too (see renderWrapper).
		_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-pr.done:
		return nil
	case <-t.C:
	}
	if vm > 0 {
		_ = syscall.Kill(vm, syscall.SIGKILL)
	}
	_ = pr.cmd.Process.Kill()
	<-pr.done
	return fmt.Errorf("ejabberd ignored SIGTERM for %v and was killed", stopGrace)
}

// vmPID is the Erlang VM's pid from EJABBERD_PID_PATH, or 0.
func (pr *process) vmPID() int {
	b, err := os.ReadFile(pr.pidPath)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0
	}
	return pid
}
