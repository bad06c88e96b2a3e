package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

// The private Prosody's accounts and components.
const (
	xmppHost       = "localhost"
	queueUser      = "librarian"
	queuePassword  = "loadgen-librarian"
	bridgeDomain   = "fb.localhost"
	bridgeSecret   = "loadgen-component-secret"
	bareDomain     = "bare.localhost"
	bareSecret     = "loadgen-bare-secret"
	rssInterval    = 250 * time.Millisecond
	startupTimeout = 30 * time.Second
)

// env holds what every round uses: the private Prosody and a stand-in for
// Facebook's Graph API that the daemon is configured with.
type env struct {
	o     *options
	log   *zap.Logger
	dir   string
	srv   testenv.Server
	graph *http.Server
	gURL  string

	c2s, queue, queuePW               string
	component, compDomain, compSecret string

	// replies counts what the Graph API stand-in receives while a replies
	// phase runs; nil otherwise.
	replies atomic.Pointer[replyCounter]
}

// setup starts what the phases share.
func setup(ctx context.Context, o *options, log *zap.Logger) (*env, error) {
	dir, err := os.MkdirTemp("", "askbridge-loadgen-")
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	e := &env{o: o, log: log, dir: dir}
	if o.External {
		e.c2s, e.queue, e.queuePW = o.ext.c2s, o.ext.receiver, o.ext.password
		e.component, e.compDomain, e.compSecret = o.ext.component, o.ext.compDomain, o.ext.compSecret
		return e, nil
	}
	e.srv, err = testenv.StartServer(ctx, testenv.Prosody, testenv.ServerOptions{
		Dir:  filepath.Join(dir, "prosody"),
		Host: xmppHost,
		Components: []testenv.Component{
			{Domain: bridgeDomain, Secret: bridgeSecret},
			{Domain: bareDomain, Secret: bareSecret},
		},
		Users: []testenv.User{{Name: queueUser, Password: queuePassword}},
		Log:   log.Named("prosody"),
	})
	if err != nil {
		e.close()
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	e.c2s, e.queue, e.queuePW = e.srv.C2SAddr(), queueUser+"@"+e.srv.Domain(), queuePassword
	e.component, e.compDomain, e.compSecret = e.srv.ComponentAddr(), bareDomain, bareSecret

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.close()
		return nil, fmt.Errorf("loadgen: Graph API stand-in: %w", err)
	}
	// Sent keeps only the latest call: the replies phase counts them as
	// they arrive, through OnSent.
	fb := standin.New(standin.Config{AppID: appID, AppSecret: appSecret,
		Pages: []standin.Page{{ID: messenger.PageID(pageID), Name: pageName, AccessToken: pageToken}}, Log: log.Named("graph"),
		MaxSent: 1, OnSent: e.onSent})
	e.graph = &http.Server{Handler: fb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.graph.Serve(ln) }()
	e.gURL = "http://" + ln.Addr().String()
	return e, nil
}

// close stops what setup started and removes the temporary directory
// unless -keep.
func (e *env) close() {
	if e.graph != nil {
		_ = e.graph.Close()
	}
	if e.srv != nil {
		if err := e.srv.Stop(); err != nil {
			e.log.Warn("stopping prosody", zap.Error(err))
		}
	}
	if e.o.keep {
		fmt.Fprintf(os.Stderr, "loadgen: kept %s\n", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

// load is the traffic of every phase.
func (e *env) load() load {
	return load{Events: e.o.Events, EventsPerPost: e.o.EventsPerPost, Concurrency: e.o.Concurrency,
		Patrons: e.o.Patrons, Rate: e.o.Rate, Duration: e.o.duration}
}

// phase runs one phase of one round.
func (e *env) phase(ctx context.Context, name string, round int) (*PhaseResult, error) {
	e.log.Info("phase", zap.String("phase", name), zap.Int("round", round))
	switch name {
	case phaseProsody:
		return e.prosodyPhase(ctx)
	case phaseWebhook:
		return e.webhookPhase(ctx, round)
	case phaseBolt:
		return e.boltPhase(ctx)
	case phaseBridge:
		return e.bridgePhase(ctx, round)
	case phaseReplies:
		return e.repliesPhase(ctx, round)
	}
	return nil, fmt.Errorf("loadgen: unknown phase %q", name)
}

// drain waits for the messages owed to the receiver, bounded by
// -drain-idle without progress and five minutes in all.
func (e *env) drain(ctx context.Context, r *receiver, want int) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	r.waitFor(ctx, int64(want), e.o.drainIdle)
}

// prosodyPhase is baseline (a).
func (e *env) prosodyPhase(ctx context.Context) (*PhaseResult, error) {
	l, tag := e.load(), randomTag()
	pats := newPatrons(l.Patrons, 1, randomSalt())
	stanzas := make([][]byte, l.Events)
	for i := range stanzas {
		stanzas[i] = bareStanza(int64(i), pats.ids[i%len(pats.ids)], e.compDomain, e.queue, tag)
	}
	tl := newTimeline(l.Events)
	r, err := dialReceiver(ctx, e.c2s, e.queue, e.queuePW, tag, tl, true, e.log)
	if err != nil {
		return nil, err
	}
	defer r.close()
	c, err := dialBareComponent(ctx, e.component, e.compDomain, e.compSecret, e.log)
	if err != nil {
		return nil, err
	}
	cpu := meterCPU(e.pids(nil))
	sent, errs := prosodyLoad(ctx, c, stanzas, l, tl)
	e.drain(ctx, r, sent)
	c.close()
	p := &PhaseResult{Phase: phaseProsody, EventsSent: sent, Posts: sent, AckedEvents: sent, HTTPErrors: errs}
	acked := make([]bool, l.Events)
	for i := range sent {
		acked[i] = true
	}
	r.fill(p, acked)
	cpu.finish(p, p.Received)
	p.Seconds = round3(tl.seconds(r.lastRecv.Load()))
	p.Throughput = p.E2EPerSec
	return p, nil
}

// webhookPhase is baseline (b).
func (e *env) webhookPhase(ctx context.Context, round int) (*PhaseResult, error) {
	l, tag := e.load(), randomTag()
	c, err := startChild(ctx, e.dir, childWebhook, e.childArgs("-app-secret", appSecret)...)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	rss := sampleRSS(c.pid(), rssInterval)
	stopProf := e.profile(ctx, c, fmt.Sprintf("webhook-round%d", round))
	tl := newTimeline(l.Events)
	pats := newPatrons(l.Patrons, l.Concurrency, randomSalt())
	cpu := meterCPU(map[string]int{"webhook": c.pid(), "loadgen": os.Getpid()})
	st := postLoad(ctx, "http://"+c.httpAddr+"/webhook", tag, l, pats, tl, e.log)
	stopProf()
	p := &PhaseResult{Phase: phaseWebhook}
	st.fill(p, tl)
	cpu.finish(p, p.AckedEvents)
	rss.finish(p)
	p.Throughput = p.AckEventsPerSec
	return p, nil
}

// boltPhase is baseline (c).
func (e *env) boltPhase(ctx context.Context) (*PhaseResult, error) {
	l, tag := e.load(), randomTag()
	tl := newTimeline(l.Events)
	pats := newPatrons(l.Patrons, l.Concurrency, randomSalt())
	cpu := meterCPU(map[string]int{"loadgen": os.Getpid()})
	st, err := boltLoad(ctx, e.dir, tag, l, pats, tl)
	if err != nil {
		return nil, err
	}
	p := &PhaseResult{Phase: phaseBolt}
	st.fill(p, tl)
	cpu.finish(p, p.AckedEvents)
	p.Throughput = p.AckEventsPerSec
	return p, nil
}

// bridgePhase measures askbridge: a fresh daemon (fresh store) per round,
// unless an external one is given.
func (e *env) bridgePhase(ctx context.Context, round int) (*PhaseResult, error) {
	l, tag := e.load(), randomTag()
	url, pid := e.o.ext.webhookURL, e.o.ext.pid
	var c *child
	if !e.o.External {
		var err error
		if c, err = e.startDaemon(ctx, fmt.Sprintf("daemon-%d", round)); err != nil {
			return nil, err
		}
		defer c.stop()
		url, pid = "http://"+c.httpAddr+"/webhook", c.pid()
	}
	pats := newPatrons(l.Patrons, l.Concurrency, randomSalt())
	tl := newTimeline(l.Events)
	r, err := dialReceiver(ctx, e.c2s, e.queue, e.queuePW, tag, tl, pats.ordered(), e.log)
	if err != nil {
		return nil, err
	}
	defer r.close()
	rss := sampleRSS(pid, rssInterval)
	stopProf := func() {}
	if c != nil {
		stopProf = e.profile(ctx, c, fmt.Sprintf("bridge-round%d", round))
	}
	cpu := meterCPU(e.pids(map[string]int{"daemon": pid}))
	st := postLoad(ctx, url, tag, l, pats, tl, e.log)
	e.drain(ctx, r, int(st.ackEvs.Load()))
	stopProf()
	p := &PhaseResult{Phase: phaseBridge}
	st.fill(p, tl)
	r.fill(p, st.acked)
	cpu.finish(p, p.Received)
	rss.finish(p)
	p.Throughput = p.E2EPerSec
	return p, nil
}

// startDaemon starts a daemon with a fresh store in the state directory
// name and waits until it is ready.
func (e *env) startDaemon(ctx context.Context, name string) (*child, error) {
	state := filepath.Join(e.dir, name)
	cfgPath, err := e.writeDaemonConfig(state)
	if err != nil {
		return nil, err
	}
	c, err := startChild(ctx, state, childDaemon, e.childArgs("-config", cfgPath)...)
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, startupTimeout); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// pids adds Prosody (when it is ours) and the load generator to m.
func (e *env) pids(m map[string]int) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m["loadgen"] = os.Getpid()
	if e.srv != nil {
		m[e.srv.Name()] = e.srv.PID()
	}
	return m
}

// childArgs are the arguments of a child process under test.
func (e *env) childArgs(args ...string) []string {
	args = append(args, "-log-level", e.o.DaemonLog)
	if e.o.pprofDir != "" {
		args = append(args, "-profile-blocking")
	}
	return args
}

// writeDaemonConfig writes the daemon's YAML configuration: production
// defaults except for loopback addresses and the private Prosody.
func (e *env) writeDaemonConfig(state string) (string, error) {
	if err := os.MkdirAll(state, 0o700); err != nil {
		return "", fmt.Errorf("loadgen: %w", err)
	}
	q := strconv.Quote
	cfg := strings.Join([]string{
		"state_dir: " + q(state),
		"log: {level: " + q(e.o.DaemonLog) + ", format: json}",
		"http: {listen: \"127.0.0.1:0\"}",
		"messenger:",
		"  app_id: " + q(appID),
		"  app_secret: " + q(appSecret),
		"  verify_token: \"loadgen-verify-token\"",
		"  graph_url: " + q(e.gURL),
		"  pages:",
		"    - {id: " + q(pageID) + ", name: " + q(pageName) + ", access_token: " + q(pageToken) + "}",
		"xmpp:",
		"  server: " + q(e.component),
		"  domain: " + q(bridgeDomain),
		"  secret: " + q(bridgeSecret),
		"  queue: " + q(e.queue),
		"  operators: [" + q(e.queue) + "]",
		"  routing: queue",
		"sessions: {timezone: UTC, idle_timeout: 30m}",
		"",
	}, "\n")
	path := filepath.Join(state, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("loadgen: writing daemon config: %w", err)
	}
	return path, nil
}

// profile starts a CPU profile of c one second into the phase (if -pprof
// is set); the returned function waits for it and saves a heap profile.
func (e *env) profile(ctx context.Context, c *child, name string) func() {
	if e.o.pprofDir == "" {
		return func() {}
	}
	if err := os.MkdirAll(e.o.pprofDir, 0o755); err != nil {
		e.log.Warn("pprof directory", zap.Error(err))
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		path := filepath.Join(e.o.pprofDir, name+"-cpu.pprof")
		if err := c.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", e.o.pprofSeconds), path); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Warn("CPU profile", zap.Error(err))
		}
	})
	return func() {
		wg.Wait()
		for _, p := range []string{"heap", "allocs", "block", "mutex"} {
			if err := c.fetch(ctx, "/debug/pprof/"+p, filepath.Join(e.o.pprofDir, name+"-"+p+".pprof")); err != nil {
				e.log.Warn("profile", zap.String("profile", p), zap.Error(err))
			}
		}
	}
}
