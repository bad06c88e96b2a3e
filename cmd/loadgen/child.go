package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/messenger"
)

// childCommand is the hidden first argument that makes the load generator
// run as the process under test (the daemon, or the webhook alone), so
// that its memory and CPU are measured apart from the generator's.
const childCommand = "__child"

// Modes of the child process.
const (
	childDaemon  = "daemon"  // internal/daemon with a configuration file
	childWebhook = "webhook" // messenger.Webhook with a sink that stores nothing
)

// childMain runs the process under test until SIGTERM. It prints one line,
// "READY <http addr> <pprof addr>", once it listens.
func childMain(args []string) error {
	fs := flag.NewFlagSet(childCommand, flag.ContinueOnError)
	mode := fs.String("mode", childDaemon, "daemon or webhook")
	cfgPath := fs.String("config", "", "daemon configuration file")
	level := fs.String("log-level", "info", "log level")
	fs.StringVar(&appSecret, "app-secret", appSecret, "app secret the webhook checks")
	blocking := fs.Bool("profile-blocking", false, "record block and mutex profiles (costs a little)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lvl, err := zapcore.ParseLevel(*level)
	if err != nil {
		return fmt.Errorf("loadgen child: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.OutputPaths = []string{"stderr"}
	log, err := zc.Build()
	if err != nil {
		return fmt.Errorf("loadgen child: logger: %w", err)
	}
	defer func() { _ = log.Sync() }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if *blocking {
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
		runtime.SetMutexProfileFraction(10)
	}
	pp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("loadgen child: pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.Serve(pp, mux) }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("loadgen child: listener: %w", err)
	}
	ready := func() { fmt.Printf("READY %s %s\n", ln.Addr(), pp.Addr()) }
	switch *mode {
	case childDaemon:
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		d, err := daemon.New(cfg, log, daemon.Options{Listener: ln})
		if err != nil {
			return err
		}
		ready()
		return d.Run(ctx)
	case childWebhook:
		wh := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: appSecret, VerifyToken: "verify"}, nopSink{}, log)
		m := http.NewServeMux()
		m.Handle("/webhook", wh)
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		ready()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("loadgen child: %w", err)
		}
		return nil
	}
	return fmt.Errorf("loadgen child: unknown mode %q", *mode)
}

// nopSink accepts events without storing them: baseline (b).
type nopSink struct{}

// Accept implements messenger.Sink.
func (nopSink) Accept(context.Context, []messenger.Event) error { return nil }

// child is a running process under test.
type child struct {
	cmd       *exec.Cmd
	httpAddr  string
	pprofAddr string
	logPath   string
	exited    chan struct{}
}

// startChild runs this program again as the process under test, its log
// going to dir/<mode>.log.
func startChild(ctx context.Context, dir, mode string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadgen: own executable: %w", err)
	}
	logPath := filepath.Join(dir, mode+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("loadgen: child log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, append([]string{childCommand, "-mode", mode}, args...)...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("loadgen: child stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: starting %s: %w", mode, err)
	}
	c := &child{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "READY" {
			c.stop()
			return nil, fmt.Errorf("loadgen: %s said %q", mode, line)
		}
		c.httpAddr, c.pprofAddr = f[1], f[2]
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("loadgen: %s exited during start; see %s%s", mode, logPath, tailFile(logPath))
	case <-t.C:
	case <-ctx.Done():
	}
	c.stop()
	return nil, fmt.Errorf("loadgen: %s did not start; see %s", mode, logPath)
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// waitReady polls the daemon's /readyz until it answers 200.
func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.httpAddr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = string(b)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: daemon not ready: %s%s", last, tailFile(c.logPath))
		case <-c.exited:
			return fmt.Errorf("loadgen: daemon exited%s", tailFile(c.logPath))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits (SIGKILL after 15 s).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// fetch saves a pprof endpoint's answer to path.
func (c *child) fetch(ctx context.Context, endpoint, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.pprofAddr+endpoint, nil)
	if err != nil {
		return fmt.Errorf("loadgen: pprof: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: pprof %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("loadgen: pprof: %w", err)
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loadgen: pprof %s: %w", endpoint, err)
	}
	return nil
}

// tailFile returns the last lines of a log file, for error messages.
func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n" + strings.Join(lines, "\n")
}
