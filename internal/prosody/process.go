package prosody

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
)

const (
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT

	// readyTimeout bounds how long a start may take when ctx has no
	// earlier deadline.
	readyTimeout = 20 * time.Second
	// stopGrace is how long Prosody gets to exit after SIGTERM.
	stopGrace = 5 * time.Second
	// pollEvery is how often launch looks for the listeners.
	pollEvery = 20 * time.Millisecond
)

// failedPort matches Prosody's bind failure (core/portmanager.lua).
var failedPort = regexp.MustCompile(`Failed to open server port (\d+)`)

// process is one run of the prosody binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

// launch starts prosody with the configuration at config and waits until
// it listens on both ports.
// Prosody only opens the component port when a component is configured, so
// withComponents tells whether to wait for it.
func launch(ctx context.Context, bin, config, dir string, p ports, withComponents bool) (*process, error) {
	logPath := filepath.Join(dir, logFile)
	offset := int64(0)
	if fi, err := os.Stat(logPath); err == nil {
		offset = fi.Size()
	}
	out, err := os.OpenFile(filepath.Join(dir, outFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", outFile, err)
	}
	defer out.Close() // the child has its own copy

	cmd := exec.Command(bin, "--config", config, "-F")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	pr := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		pr.err = cmd.Wait()
		close(pr.done)
	}()

	if err := pr.waitReady(ctx, logPath, offset, p, withComponents); err != nil {
		_ = pr.stop()
		if errors.Is(err, localserver.ErrPortTaken) {
			return nil, err
		}
		return nil, fmt.Errorf("%w%s", err, logTail(dir))
	}
	return pr, nil
}

// waitReady polls Prosody's log (from offset on, so that an earlier run's
// lines do not count) until both listeners are reported active and accept a
// connection. Only the log tells Prosody's listener from another process
// that took the port.
func (pr *process) waitReady(ctx context.Context, logPath string, offset int64, p ports, withComponents bool) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	want := []string{fmt.Sprintf("Activated service 'c2s' on [127.0.0.1]:%d", p.c2s)}
	addrs := []string{localserver.Addr(p.c2s)}
	if withComponents {
		want = append(want, fmt.Sprintf("Activated service 'component' on [127.0.0.1]:%d", p.component))
		addrs = append(addrs, localserver.Addr(p.component))
	}
	return localserver.WaitReady(ctx, localserver.Readiness{
		Name: "prosody", Log: logPath, Offset: offset, Want: want, Addrs: addrs,
		FailedPort: failedPort, Exited: pr.done, Every: pollEvery,
		ExitErr: func() error { return fmt.Errorf("prosody exited during start (%v)", pr.err) },
	})
}

// stop ends the process: SIGTERM (plus SIGCONT, in case it is paused), then
// SIGKILL after stopGrace.
func (pr *process) stop() error {
	select {
	case <-pr.done:
		return nil
	default:
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	_ = pr.cmd.Process.Signal(syscall.SIGCONT)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-pr.done:
		return nil
	case <-t.C:
	}
	_ = pr.cmd.Process.Kill()
	<-pr.done
	return fmt.Errorf("prosody ignored SIGTERM for %v and was killed", stopGrace)
}
