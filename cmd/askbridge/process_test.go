package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/localserver"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

// These tests run the real askbridge binary as a subprocess against a real
// Prosody and the Facebook stand-in, and kill it.

var (
	buildOnce sync.Once
	binPath   string
	binTemp   bool // binPath's directory is ours to remove
	buildErr  error
)

// TestMain removes the binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binTemp {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds askbridge once per test run. Run by go test, the test
// binary lives in the go command's work directory, which the go command
// removes even when a test panics or times out (and TestMain's clean-up
// does not run): askbridge is built beside it. Otherwise it goes to a
// temporary directory that TestMain removes.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir := ""
		if exe, err := os.Executable(); err == nil && strings.Contains(filepath.ToSlash(exe), "/go-build") {
			dir = filepath.Dir(exe)
		} else {
			dir, err = os.MkdirTemp("", "askbridge-bin-")
			if err != nil {
				buildErr = err
				return
			}
			binTemp = true
		}
		binPath = filepath.Join(dir, "askbridge")
		build := exec.Command("go", "build", "-o", binPath, ".")
		// Interrupted, not killed, with the test process: the build stops
		// and cleans up after itself, instead of writing the binary into
		// a work directory the go command has removed.
		build.SysProcAttr = childAttr(syscall.SIGINT)
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// rig is a test world (testenv) without an in-process daemon: the
// askbridge binary runs on its values, started, killed and restarted on
// one state directory, and the librarian is logged in throughout.
type rig struct {
	*testenv.World
	t      *testing.T
	lib    *jabberclient.Client
	config string
	logs   string
	cmd    *exec.Cmd
	exited chan error
	// dead is closed when the daemon has exited.
	dead     chan struct{}
	restarts int
	// barriers counts collectAll's barrier messages.
	barriers int
	// env is added to the daemon's environment.
	env []string
}

// newRig starts the world (see newRigWith); start runs the daemon.
func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigWith(t, testenv.Options{})
}

// newRigWith starts the world of o without its daemon, writes the daemon's
// configuration file and logs the librarian in.
func newRigWith(t *testing.T, o testenv.Options) *rig {
	t.Helper()
	binary(t)
	o.NoDaemon = true
	r := &rig{World: testenv.New(t, o), t: t}
	dir := t.TempDir()
	r.config = filepath.Join(dir, "config.yaml")
	r.logs = filepath.Join(dir, "daemon.log")
	c := r.Config
	cfg := fmt.Sprintf(`state_dir: %s
log: {level: debug, format: json}
http: {listen: %q, stats_token: stats-token-for-tests}
messenger:
  app_id: %q
  app_secret: %q
  verify_token: %s
  graph_url: %s
  pages: [{id: %q, name: %q, access_token: %q}]
xmpp:
  server: %q
  domain: %s
  secret: %s
  queue: %s
  operators: [%q]
sessions: {timezone: UTC}
`, filepath.Join(dir, "state"), c.HTTP.Listen, c.Messenger.AppID, c.Messenger.AppSecret, c.Messenger.VerifyToken, c.Messenger.GraphURL,
		c.Messenger.Pages[0].ID, c.Messenger.Pages[0].Name, c.Messenger.Pages[0].AccessToken,
		c.XMPP.Server, c.XMPP.Domain, c.XMPP.Secret, c.XMPP.Queue, c.XMPP.Queue)
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r.lib = r.LoginLibrarian()
	t.Cleanup(func() {
		if r.cmd != nil && r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			t.Logf("daemon log (tail):\n%s", localserver.Tail(r.logs, 40))
		}
	})
	return r
}

// start runs the daemon, armed with a crash point if one is given, and
// waits until it is ready.
func (r *rig) start(crash string) {
	r.t.Helper()
	logf, err := os.OpenFile(r.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	r.cmd = exec.Command(binary(r.t), "serve", "--config", r.config)
	r.cmd.Env = append(append(os.Environ(), crashpoint.Env+"="+crash), r.env...)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = childAttr(syscall.SIGKILL) // no daemon left behind by a test run that dies
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	exited, dead, cmd := make(chan error, 1), make(chan struct{}), r.cmd
	r.exited, r.dead = exited, dead
	go func() { exited <- cmd.Wait(); close(dead); logf.Close() }()
	poll(r.t, 20*time.Second, "the daemon ready", func() bool {
		if code, _ := r.get("/readyz"); code == 200 {
			return true
		}
		select {
		case err := <-r.exited:
			r.t.Fatalf("daemon exited before it was ready: %v", err)
		default:
		}
		return false
	})
}

// poll calls cond until it holds, for at most within, and fails the test
// naming what otherwise.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !testenv.Holds(within, cond) {
		t.Fatalf("not within %v: %s", within, what)
	}
}

// waitKilled waits for the armed daemon to kill itself.
func (r *rig) waitKilled() {
	r.t.Helper()
	select {
	case <-r.exited:
		ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			r.t.Fatalf("daemon ended with %v, want SIGKILL at the crash point", r.cmd.ProcessState)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("the crash point was not reached within 20s")
	}
}

func (r *rig) get(path string) (int, string) {
	resp, err := http.Get(r.URL(path))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var depthRE = regexp.MustCompile(`(?m)^askbridge_outbox_depth ([0-9.e+]+)$`)

// waitSettled waits until the inbox and both outboxes are empty or the
// daemon has exited (killed at its crash point).
func (r *rig) waitSettled() {
	r.t.Helper()
	poll(r.t, 30*time.Second, "the inbox and outboxes drained, or the daemon gone", func() bool {
		select {
		case <-r.dead:
			return true
		default:
			return r.drained()
		}
	})
}

// waitDrained waits until the inbox and both outboxes are empty.
func (r *rig) waitDrained() {
	r.t.Helper()
	poll(r.t, 30*time.Second, "the inbox and outboxes drained", r.drained)
}

// drained reports whether the daemon's inbox and outboxes are empty.
func (r *rig) drained() bool {
	_, body := r.get("/metrics")
	m := depthRE.FindStringSubmatch(body)
	return m != nil && m[1] == "0"
}

// patronBody is a Messenger webhook POST with one text message.
func patronBody(psid, mid, text string, ts int64) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"%s","text":"%s"}}]}]}`,
		testenv.PageID, ts, psid, testenv.PageID, ts, mid, text))
}

// collect reads the librarian's messages until want distinct bodies
// arrived, and returns them; duplicates among them are returned too, but
// one arriving later is left unread: see collectAll.
func (r *rig) collect(want int) []jabberclient.Received {
	r.t.Helper()
	var got []jabberclient.Received
	distinct := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(distinct) < want {
		m, err := r.lib.Next(ctx)
		if err != nil {
			r.t.Fatalf("got %d of %d messages: %v", len(distinct), want, err)
		}
		if m.Body == "" {
			continue
		}
		got = append(got, m)
		distinct[m.Body] = true
	}
	return got
}

// collectAll is collect, and then reads on to catch every duplicate,
// without waiting "long enough": once the inbox and outboxes are drained
// everything the daemon wrote was routed (the component confirms each
// batch with the server), so a patron message sent then is a barrier.
// The server routes the component's stanzas in order: what the daemon
// relayed before the barrier arrives before it, and is returned.
func (r *rig) collectAll(want int) []jabberclient.Received {
	r.t.Helper()
	got := r.collect(want)
	r.waitDrained()
	r.barriers++
	barrier := fmt.Sprintf("barrier %d", r.barriers)
	if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(newPSID()), barrier); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		m, err := r.lib.Next(ctx)
		if err != nil {
			r.t.Fatalf("the barrier message never arrived: %v", err)
		}
		switch m.Body {
		case "":
		case barrier:
			return got
		default:
			got = append(got, m)
		}
	}
}

func newPSID() string { return string(standin.NewPSID()) }

func messengerPSID(s string) messenger.PSID { return messenger.PSID(s) }
