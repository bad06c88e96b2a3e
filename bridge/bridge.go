package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
)

// Options are what New needs.
type Options struct {
	Config *config.Config
	Store  *Store
	// Pseudonyms keys guest pseudonyms; see LoadPseudonymizer.
	Pseudonyms *Pseudonymizer
	SendAPI    SendAPI
	Log        *zap.Logger
	// Registerer receives the bridge's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After, if set, is the timer of the bridge's Facebook waits (rate
	// limits, retry pauses, typing indicators), which then read the time
	// from Now: tests pass a fake clock's. nil means real time (time.Now
	// and time.After) for those waits, whatever Now is.
	After func(d time.Duration) <-chan time.Time
}

// Bridge relays conversations between Messenger and XMPP. Create it with
// New, hand it to the webhook as its Sink and to the component as its
// Handler, then call Run.
type Bridge struct {
	cfg     atomic.Pointer[config.Config]
	store   *Store
	pseudo  *Pseudonymizer
	api     SendAPI
	log     *zap.Logger
	now     func() time.Time
	metrics *metrics
	// waitNow and after are the clock and timer of Facebook waits (see
	// Options.After); throttle is the rate limiter of Graph API calls.
	waitNow  func() time.Time
	after    func(time.Duration) <-chan time.Time
	throttle *throttle
	// stopping is closed when Run's context ends, for waits outside the
	// loops (typing indicators).
	stopping chan struct{}

	inboxReady chan struct{} // something was added to the inbox
	xmppReady  chan struct{} // something was added to the XMPP outbox, or the link came up

	workers sync.WaitGroup

	link     atomic.Pointer[Link] // set by Run
	presence *presenceTable
	recent   *recentStanzas
	xq       *xmppQueue // the XMPP outbox's owner
	fq       *fbQueue   // the Send API outbox's owner

	// bgMu guards bgClosed, which Run sets once its loops are done, so no
	// background call starts after Run waits for them.
	bgMu     sync.Mutex
	bgClosed bool

	// compactMu keeps Purge and Forget from compacting at the same time.
	compactMu sync.Mutex

	typingMu sync.Mutex
	typingBy map[string]*typingState // PSID → sender actions sent lately

	tokensMu  sync.Mutex
	badTokens map[string][32]byte // Page ID → hash of the token Facebook refused
	// restricted holds the Pages Facebook restricted from sending, with
	// when the bridge noticed.
	restricted map[string]time.Time
}

// New makes a Bridge.
func New(o Options) (*Bridge, error) {
	if o.Config == nil || o.Store == nil || o.Pseudonyms == nil || o.SendAPI == nil {
		return nil, errors.New("bridge: config, store, pseudonyms and Send API are required")
	}
	b := &Bridge{
		store:      o.Store,
		pseudo:     o.Pseudonyms,
		api:        o.SendAPI,
		log:        o.Log,
		now:        o.Now,
		inboxReady: make(chan struct{}, 1),
		xmppReady:  make(chan struct{}, 1),
		badTokens:  map[string][32]byte{},
		restricted: map[string]time.Time{},
		typingBy:   map[string]*typingState{},
		stopping:   make(chan struct{}),
		presence:   newPresenceTable(),
		recent:     newRecentStanzas(),
	}
	if b.log == nil {
		b.log = zap.NewNop()
	}
	b.xq = newXMPPQueue(b)
	b.fq = newFBQueue(b)
	if b.now == nil {
		b.now = time.Now
	}
	b.waitNow, b.after = time.Now, time.After
	if o.After != nil {
		b.waitNow, b.after = b.now, o.After
	}
	b.cfg.Store(o.Config)
	m, err := newMetrics(o.Registerer, b)
	if err != nil {
		return nil, err
	}
	b.metrics = m
	b.throttle = newThrottle(b.log.Named("throttle"), b.waitNow, b.after, m)
	return b, nil
}

// SetConfig replaces the configuration used from now on (on reload).
//
// Open conversations owned by or offered to someone c no longer allows to
// answer patrons go back to their queue at once.
func (b *Bridge) SetConfig(c *config.Config) {
	b.cfg.Store(c)
	if n, err := b.releaseRevoked(c); err != nil {
		b.log.Error("handing back conversations after a configuration change", zap.Error(err))
	} else if n > 0 {
		b.log.Info("conversations handed back after a configuration change", zap.Int("conversations", n))
	}
}

func (b *Bridge) config() *config.Config { return b.cfg.Load() }

// Run dispatches the inbox and drains both outboxes until ctx is done,
// then waits for Send API calls in flight to finish.
func (b *Bridge) Run(ctx context.Context, link Link) error {
	b.link.Store(&link)
	if link.Connected() {
		// The link came up before Run: do what LinkChanged could not.
		b.subscribeOperators(link)
	}
	var wg sync.WaitGroup
	loops := []func(context.Context){
		b.dispatchLoop,
		func(ctx context.Context) { b.xq.run(ctx, link) },
		b.fq.run,
		b.maintenanceLoop,
		b.sessionLoop,
	}
	for _, loop := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	// Work left from before a restart, and conversations claimed by
	// someone the configuration no longer names.
	if n, err := b.releaseRevoked(b.config()); err != nil {
		b.log.Error("handing back conversations at start", zap.Error(err))
	} else if n > 0 {
		b.log.Info("conversations handed back: their librarians may no longer answer patrons", zap.Int("conversations", n))
	}
	signal(b.inboxReady)
	signal(b.xmppReady)
	wg.Wait()
	close(b.stopping)
	b.bgMu.Lock()
	b.bgClosed = true
	b.bgMu.Unlock()
	b.workers.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("bridge: %w", err)
	}
	return nil
}

// background runs f in a goroutine that Run waits for at shutdown, unless
// Run is already past that point; it reports whether f was started.
func (b *Bridge) background(f func()) bool {
	b.bgMu.Lock()
	defer b.bgMu.Unlock()
	if b.bgClosed {
		return false
	}
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		f()
	}()
	return true
}

// signal wakes a loop without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sleep waits d on the clock of Facebook waits; it reports whether ctx
// is still live.
func (b *Bridge) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-b.after(d):
		return true
	}
}

// wait blocks until c is signalled, d passes or ctx is done; it reports
// whether ctx is still live.
func wait(ctx context.Context, c <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
	case <-t.C:
	}
	return true
}
