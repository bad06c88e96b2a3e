// Command loadgen drives askbridge the way Facebook does and measures it
// against what each real part it depends on allows, in the same run.
//
// Each round runs four phases with the same traffic settings:
//
//   - prosody: a bare XEP-0114 component writes pre-built stanzas to a
//     private Prosody, which forwards them to a Jabber client (baseline a);
//   - webhook: signed webhook POSTs to messenger.Webhook with a sink that
//     stores nothing — HTTP, signature check and parse only (baseline b);
//   - bolt: the records the bridge creates per message, written to a
//     BoltDB file with the bridge's grouped, fsynced commits (baseline c);
//   - bridge: signed webhook POSTs to a real askbridge daemon connected to
//     the private Prosody, counted as they arrive at the Jabber client
//     that plays the librarians' queue.
//
// A fifth phase, replies, runs only when -phases names it. It measures the
// other direction: a fresh daemon, one conversation opened per patron by
// a webhook event, then the librarians' Jabber client answers the
// patrons' JIDs at -reply-rate (100 a second unless said) and each
// reply is timed until the Graph API stand-in, in this process, receives
// the Send API call carrying it.
//
// The daemon and the webhook-only server run as child processes (this
// program started again), so their RSS and CPU profiles are their own. By
// default everything runs on loopback with ephemeral ports and temporary
// directories, and needs only Prosody installed; flags point the bridge
// phase at an external daemon instead.
//
// It prints readable lines per phase and round, the medians over the
// rounds, the bridge's end-to-end throughput as a ratio of the smallest
// baseline, and finally one line of JSON.
//
// Usage:
//
//	go run ./cmd/loadgen [flags]
//	go run ./cmd/loadgen -phases bridge,prosody -rate 200 -events 12000
//	go run ./cmd/loadgen -phases replies -rounds 3
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Settings are the run's parameters, as reported.
type Settings struct {
	Phases        []string `json:"phases"`
	Rounds        int      `json:"rounds"`
	Events        int      `json:"events_per_phase"`
	EventsPerPost int      `json:"events_per_post"`
	Concurrency   int      `json:"concurrency"`
	Patrons       int      `json:"patrons"`
	Rate          float64  `json:"rate_events_per_s"`
	MaxSeconds    float64  `json:"max_seconds_per_phase"`
	External      bool     `json:"external_daemon"`
	DaemonLog     string   `json:"daemon_log_level"`
	// Replies and ReplyRate are the replies phase's: replies per phase and
	// target replies per second (0 = as fast as possible).
	Replies   int     `json:"replies_per_phase"`
	ReplyRate float64 `json:"reply_rate_per_s"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	Prosody string `json:"prosody"`
	// Fdatasync is the latency of one fdatasync of a 4 KiB block in the
	// run's temporary directory, measured at the start.
	Fdatasync Percentiles `json:"fdatasync_ms"`
}

// options are the command line.
type options struct {
	Settings
	phases       string
	duration     time.Duration
	drainIdle    time.Duration
	maxTime      time.Duration
	logLevel     string
	pprofDir     string
	pprofSeconds int
	keep         bool
	ext          external
}

// external points the bridge phase at a daemon the load generator did not
// start.
type external struct {
	webhookURL, c2s, receiver, password string
	pid                                 int
	component, compDomain, compSecret   string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		if err := childMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log, err := newLogger(o.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer func() { _ = log.Sync() }()
	ctx, cancel := context.WithTimeout(context.Background(), o.maxTime)
	defer cancel()
	if err := run(ctx, o, os.Stdout, log); err != nil {
		log.Error("load generation failed", zap.Error(err))
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.phases, "phases", strings.Join(defaultPhases, ","), "phases to run, comma-separated: prosody, webhook, bolt, bridge, replies")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds (each runs every phase); medians are reported")
	fs.IntVar(&o.Events, "events", 20000, "events (messages) per phase")
	fs.DurationVar(&o.duration, "duration", 2*time.Minute, "longest a phase may send for")
	fs.IntVar(&o.EventsPerPost, "events-per-post", 1, "events per webhook POST (and per BoltDB transaction)")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "concurrent webhook POSTs (and BoltDB writers)")
	fs.IntVar(&o.Patrons, "patrons", 256, "distinct patrons (PSIDs)")
	fs.Float64Var(&o.Rate, "rate", 0, "target events per second; 0 = as fast as possible")
	fs.IntVar(&o.Replies, "replies", 6000, "librarians' replies per replies phase")
	fs.Float64Var(&o.ReplyRate, "reply-rate", 100, "target replies per second of the replies phase; 0 = as fast as possible, -concurrency replies in flight (-rate, when given, sets it too)")
	fs.DurationVar(&o.drainIdle, "drain-idle", 10*time.Second, "stop waiting for messages after this long without one")
	fs.DurationVar(&o.maxTime, "max-time", time.Hour, "bound on the whole run")
	fs.StringVar(&o.DaemonLog, "daemon-log-level", "info", "log level of the daemon under test")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level of the load generator")
	fs.StringVar(&o.pprofDir, "pprof", "", "save CPU, heap, allocation, block and mutex profiles of the processes under test into this directory (block and mutex profiling is then on)")
	fs.IntVar(&o.pprofSeconds, "pprof-seconds", 10, "length of each CPU profile")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directories (daemon state, logs)")
	fs.StringVar(&o.ext.webhookURL, "webhook-url", "", "external daemon: its POST /webhook URL (bridge phase)")
	fs.StringVar(&o.ext.c2s, "c2s", "", "external daemon: host:port of its Jabber server's c2s listener")
	fs.StringVar(&o.ext.receiver, "receiver", "", "external daemon: bare JID of the queue the daemon routes to")
	fs.StringVar(&o.ext.password, "receiver-password", "", "external daemon: the queue account's password")
	fs.IntVar(&o.ext.pid, "daemon-pid", 0, "external daemon: its pid, for RSS")
	fs.StringVar(&o.ext.component, "component", "", "external daemon: component listener for the Prosody baseline")
	fs.StringVar(&o.ext.compDomain, "component-domain", "", "external daemon: a spare component domain for the Prosody baseline")
	fs.StringVar(&o.ext.compSecret, "component-secret", "", "external daemon: that component's secret")
	fs.StringVar(&appSecret, "app-secret", appSecret, "app secret that signs webhooks")
	fs.StringVar(&pageID, "page", pageID, "Facebook Page ID of the generated events")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["rate"] && !given["reply-rate"] {
		o.ReplyRate = o.Rate
	}
	for _, p := range strings.Split(o.phases, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allPhases, p) {
			return nil, fmt.Errorf("loadgen: unknown phase %q (want %s)", p, strings.Join(allPhases, ", "))
		}
		if !slices.Contains(o.Phases, p) {
			o.Phases = append(o.Phases, p)
		}
	}
	// Run in the canonical order whatever the flag's order.
	slices.SortFunc(o.Phases, func(a, b string) int { return slices.Index(allPhases, a) - slices.Index(allPhases, b) })
	switch {
	case o.Rounds < 1 || o.Events < 1 || o.EventsPerPost < 1 || o.Concurrency < 1 || o.Patrons < 1:
		return nil, errors.New("loadgen: rounds, events, events-per-post, concurrency and patrons must be positive")
	case o.Rate < 0 || o.ReplyRate < 0 || o.duration <= 0:
		return nil, errors.New("loadgen: rate and reply-rate must not be negative and duration must be positive")
	case o.Replies < 1:
		return nil, errors.New("loadgen: replies must be positive")
	}
	o.MaxSeconds = o.duration.Seconds()
	o.External = o.ext.webhookURL != ""
	if o.External && (o.ext.c2s == "" || o.ext.receiver == "" || o.ext.password == "") {
		return nil, errors.New("loadgen: -webhook-url needs -c2s, -receiver and -receiver-password")
	}
	if o.External && slices.Contains(o.Phases, phaseReplies) {
		return nil, errors.New("loadgen: the replies phase needs the daemon the load generator starts, configured with its Send API stand-in")
	}
	if o.External && slices.Contains(o.Phases, phaseProsody) && (o.ext.component == "" || o.ext.compDomain == "" || o.ext.compSecret == "") {
		return nil, errors.New("loadgen: with an external daemon, the prosody phase needs -component, -component-domain and -component-secret")
	}
	return o, nil
}

func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("loadgen: -log-level: %w", err)
	}
	zc := zap.NewDevelopmentConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.DisableStacktrace = true
	log, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("loadgen: logger: %w", err)
	}
	return log, nil
}

// run runs every round and writes the report to w.
func run(ctx context.Context, o *options, w io.Writer, log *zap.Logger) error {
	env, err := setup(ctx, o, log)
	if err != nil {
		return err
	}
	defer env.close()
	rep := &Report{Machine: describeMachine(), Settings: o.Settings}
	if rep.Machine.Fdatasync, err = probeDisk(env.dir); err != nil {
		return err
	}
	fmt.Fprintf(w, "askbridge loadgen: %d CPUs (%s), %s, Prosody %s, load average %.1f\n",
		rep.Machine.CPUs, rep.Machine.CPU, rep.Machine.Go, rep.Machine.Prosody, loadAvg())
	fs := rep.Machine.Fdatasync
	fmt.Fprintf(w, "  disk: fdatasync of 4 KiB ms  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f (a durable BoltDB commit makes two)\n",
		fs.P50, fs.P90, fs.P99, fs.Max)
	if slices.ContainsFunc(o.Phases, func(p string) bool { return p != phaseReplies }) {
		fmt.Fprintf(w, "  %d events per phase, %d per POST, concurrency %d, %d patrons, rate %s, %d round(s)\n",
			o.Events, o.EventsPerPost, o.Concurrency, o.Patrons, rateString(o.Rate), o.Rounds)
	}
	if slices.Contains(o.Phases, phaseReplies) {
		fmt.Fprintf(w, "  replies: %d conversations opened, then %d replies, concurrency %d, rate %s, at most %s, %d round(s)\n",
			o.Patrons, o.Replies, o.Concurrency, replyRateString(o.ReplyRate), o.duration, o.Rounds)
	}
	for i := range o.Rounds {
		round := Round{Phases: map[string]*PhaseResult{}}
		for _, ph := range o.Phases {
			res, err := env.phase(ctx, ph, i+1)
			if err != nil {
				return fmt.Errorf("round %d, phase %s: %w", i+1, ph, err)
			}
			round.Phases[ph] = res
			writeHuman(w, fmt.Sprintf("[round %d]", i+1), res)
		}
		round.Ratios = computeRatios(round.Phases)
		if o.Rate > 0 {
			round.Ratios.Added = addedLatency(round.Phases)
		}
		writeRatios(w, fmt.Sprintf("[round %d]", i+1), round.Ratios)
		rep.Rounds = append(rep.Rounds, round)
	}
	rep.Median = medianPhases(rep.Rounds)
	var ratios []float64
	for _, r := range rep.Rounds {
		ratios = append(ratios, r.Ratios.ToLimit)
	}
	rep.Ratios = computeRatios(rep.Median)
	if o.Rate > 0 {
		rep.Ratios.Added = addedLatency(rep.Median)
	}
	fmt.Fprintf(w, "medians over %d round(s):\n", len(rep.Rounds))
	for _, ph := range o.Phases {
		writeHuman(w, "[median]", rep.Median[ph])
	}
	writeRatios(w, "[median]", rep.Ratios)
	if len(rep.Rounds) > 1 && rep.Ratios.Limit != "" {
		fmt.Fprintf(w, "[median] ratio to the smallest limit per round: %v (median %.3f)\n", ratios, median(ratios))
	}
	return writeJSON(w, rep)
}

func rateString(r float64) string {
	if r <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.0f events/s", r)
}

func replyRateString(r float64) string {
	if r <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.0f replies/s", r)
}

// describeMachine gathers what the report says about the machine.
func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Not `prosody --version`: run as root, that starts a server.
	if out, err := exec.CommandContext(ctx, "prosodyctl", "about").Output(); err == nil {
		if first, _, _ := strings.Cut(string(out), "\n"); strings.HasPrefix(first, "Prosody ") {
			m.Prosody = strings.TrimPrefix(first, "Prosody ")
		}
	}
	return m
}

// randomTag names one phase's messages, so stray ones are not counted.
func randomTag() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomSalt keeps one phase's PSIDs apart from another's.
func randomSalt() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return n.Int64()
}
