// Package daemon wires askbridge's parts together: the store, the bridge,
// the webhook and Send API client, the XMPP component and the HTTP
// endpoints. It is the composition root that cmd/askbridge and the demo
// run; it holds no bridging policy of its own.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/admin"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// Version is reported over XMPP (XEP-0092); set at build time with
// -ldflags "-X github.com/askbridge/askbridge/internal/daemon.Version=…".
var Version = "dev"

// shutdownGrace bounds how long the HTTP server waits for requests in
// flight at shutdown.
const shutdownGrace = 5 * time.Second

// Options tune a Daemon beyond its configuration.
type Options struct {
	// Listener, if set, is used instead of listening on http.listen.
	Listener net.Listener
	// HTTPClient makes the Send API calls; nil means a client with a
	// 30-second timeout.
	HTTPClient *http.Client
	// XMPP overrides component timings (keepalive, backoff); zero values
	// keep the defaults.
	XMPP xmpp.Config
	// NoUpkeep turns off the periodic Facebook checks (tests drive them).
	NoUpkeep bool
	// VerifyStore runs the store's full check at open (serve
	// --verify-store); see bridge.StoreOptions.
	VerifyStore bool
}

// Daemon is one running askbridge.
type Daemon struct {
	cfg       atomic.Pointer[config.Config]
	log       *zap.Logger
	store     *bridge.Store
	bridge    *bridge.Bridge
	component *xmpp.Component
	webhook   *messenger.Webhook
	api       *messenger.Client
	// upkeepMu guards what the upkeep loop found: instagramProblem, what
	// is wrong with the Instagram webhook subscription ("" when nothing),
	// and tokenProblems.
	upkeepMu         sync.Mutex
	instagramProblem string
	// tokenProblems holds, by Page ID, why the last token check could not
	// be made.
	tokenProblems map[string]string
	opts          Options
	registry      *prometheus.Registry
	listener      net.Listener
	server        *http.Server
	adminLn       net.Listener
	admin         *http.Server
	mu            sync.Mutex
	ready         bool
}

// New opens the store and builds every part, but starts nothing.
func New(cfg *config.Config, log *zap.Logger, o Options) (*Daemon, error) {
	if log == nil {
		log = zap.NewNop()
	}
	// The store first: the pseudonym key is made only beside a fresh
	// store, so a key shows that a store was kept here.
	store, err := bridge.OpenStoreWith(cfg.StateDir, bridge.StoreOptions{
		LockWait: time.Second, Verify: o.VerifyStore, Log: log.Named("store")})
	if err != nil {
		return nil, err
	}
	pseudo, err := bridge.LoadPseudonymizer(cfg.StateDir, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	d := &Daemon{log: log, store: store, registry: prometheus.NewRegistry()}
	d.cfg.Store(cfg)
	d.opts = o
	fail := func(err error) (*Daemon, error) {
		store.Close()
		if d.listener != nil && o.Listener == nil {
			d.listener.Close()
		}
		return nil, err
	}
	d.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	api := messenger.NewClient(cfg.Messenger.GraphURL, cfg.Messenger.APIVersion, o.HTTPClient)
	d.api = api
	d.bridge, err = bridge.New(bridge.Options{
		Config: cfg, Store: store, Pseudonyms: pseudo, SendAPI: api,
		Log: log.Named("bridge"), Registerer: d.registry,
	})
	if err != nil {
		return fail(err)
	}
	xc := o.XMPP
	xc.Server, xc.Domain, xc.Secret = cfg.XMPP.Server, cfg.XMPP.Domain, cfg.XMPP.Secret
	xc.MaxStanzaBytes = cfg.XMPP.StanzaLimit()
	if xc.Version == "" {
		xc.Version = Version
	}
	d.component, err = xmpp.New(xc, d.bridge, log.Named("xmpp"))
	if err != nil {
		return fail(fmt.Errorf("daemon: %w", err))
	}
	d.webhook = messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret: cfg.Messenger.AppSecret, VerifyToken: cfg.Messenger.VerifyToken,
	}, d.bridge, log.Named("webhook"))
	d.registerLinkMetrics()
	d.registerVersionMetrics()

	d.listener = o.Listener
	if d.listener == nil {
		d.listener, err = net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			return fail(fmt.Errorf("daemon: listening on %s (http.listen): %w", cfg.HTTP.Listen, err))
		}
	}
	d.adminLn, err = admin.Listen(admin.SocketPath(cfg.StateDir))
	if err != nil {
		if o.Listener == nil {
			d.listener.Close()
		}
		return fail(err)
	}
	d.admin = &http.Server{
		Handler: &admin.Handler{Store: store, Config: d.currentConfig, Log: log.Named("admin"), Trusted: true,
			Forget: d.bridge.Forget, Requeue: d.bridge.RequeueParked},
		ReadHeaderTimeout: 10 * time.Second,
	}
	d.server = &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return d, nil
}

// currentConfig is the configuration in force.
func (d *Daemon) currentConfig() *config.Config { return d.cfg.Load() }

// Addr is the address the HTTP server listens on.
func (d *Daemon) Addr() string { return d.listener.Addr().String() }

// Bridge returns the bridge, for tools that run beside the daemon.
func (d *Daemon) Bridge() *bridge.Bridge { return d.bridge }

// Run serves until ctx is done, then shuts down in order: stop taking
// webhooks (503, so Facebook retries), finish Send API calls in flight,
// close the XMPP stream, stop HTTP, close the store.
func (d *Daemon) Run(ctx context.Context) error {
	bridgeCtx, stopBridge := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBridge()
	linkCtx, stopLink := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLink()

	errs := make(chan error, 4)
	var linkDone, bridgeDone, httpDone sync.WaitGroup
	start := func(wg *sync.WaitGroup, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errs <- err
			}
		}()
	}
	start(&linkDone, func() error {
		if err := d.component.Run(linkCtx); err != nil {
			return fmt.Errorf("daemon: XMPP component: %w", err)
		}
		return nil
	})
	start(&bridgeDone, func() error { return d.bridge.Run(bridgeCtx, d.component) })
	start(&httpDone, func() error {
		if err := d.server.Serve(d.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("daemon: HTTP server: %w", err)
		}
		return nil
	})
	start(&httpDone, func() error {
		if err := d.admin.Serve(d.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("daemon: admin socket: %w", err)
		}
		return nil
	})
	cfg := d.currentConfig()
	d.log.Info("askbridge running", zap.String("http", d.Addr()), zap.String("xmpp_server", cfg.XMPP.Server),
		zap.String("domain", cfg.XMPP.Domain), zap.String("version", Version))
	d.logWarnings()
	d.notify(sdReady)
	watchCtx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go d.watchdog(watchCtx)
	if !d.opts.NoUpkeep {
		go d.upkeepLoop(watchCtx)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	d.log.Info("askbridge stopping")
	stopWatchdog()
	d.notify(sdStopping)
	d.webhook.SetDraining(true)
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := d.server.Shutdown(shutCtx); err != nil {
		d.log.Warn("HTTP shutdown", zap.Error(err))
	}
	if err := d.admin.Shutdown(shutCtx); err != nil {
		d.log.Warn("admin socket shutdown", zap.Error(err))
	}
	httpDone.Wait()
	// The bridge returns once Send API calls in flight are done; what is
	// still queued stays in the store for the next start.
	stopBridge()
	bridgeDone.Wait()
	stopLink()
	linkDone.Wait()
	if err := d.store.Close(); err != nil && runErr == nil {
		runErr = err
	}
	d.log.Info("askbridge stopped")
	return runErr
}
