package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	bolt "go.etcd.io/bbolt"
)

// fakeLink records what the bridge sends over XMPP.
type fakeLink struct {
	mu   sync.Mutex
	up   bool
	sent []xmpp.Message
	ch   chan xmpp.Message
	// poison is a body the link refuses as invalid, tooLarge one it
	// refuses as too large.
	poison, tooLarge string
	pres             chan xmpp.Presence
	// syncFails is how many Syncs fail (the server not answering).
	syncFails atomic.Int32
	// onSync, if set, runs once inside the next Sync before it succeeds.
	onSync atomic.Pointer[func()]
	// closeOn is a body after which the server closes the stream, as
	// Prosody does over a stanza too large for it: the next Sync fails,
	// and reconnect (set by the test) runs to bring the link back; closes
	// counts those.
	closeOn   string
	killed    atomic.Bool
	reconnect func()
	closes    atomic.Int32
}

func newFakeLink() *fakeLink {
	return &fakeLink{up: true, ch: make(chan xmpp.Message, 1000), pres: make(chan xmpp.Presence, 1000)}
}

func (l *fakeLink) Sync() error {
	if !l.Connected() {
		return xmpp.ErrNotConnected
	}
	if l.killed.Swap(false) {
		l.setUp(false)
		l.closes.Add(1)
		go l.reconnect()
		return fmt.Errorf("fake: the server closed the stream: %w", xmpp.ErrNotConnected)
	}
	if l.syncFails.Add(-1) >= 0 {
		return errors.New("fake: no answer to the sync ping")
	}
	if f := l.onSync.Swap(nil); f != nil {
		(*f)()
	}
	return nil
}

func (l *fakeLink) SendPresence(p xmpp.Presence) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		return xmpp.ErrNotConnected
	}
	l.pres <- p
	return nil
}

// nextPresence waits for the next presence the bridge sends.
func (l *fakeLink) nextPresence(t *testing.T) xmpp.Presence {
	t.Helper()
	select {
	case p := <-l.pres:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no presence sent within 10s")
		return xmpp.Presence{}
	}
}

// drainPresence forgets the presences sent so far (the drain sends
// outbox entries in order, so all those queued before the last message
// received).
func (h *harness) drainPresence() {
	for {
		select {
		case <-h.link.pres:
		default:
			return
		}
	}
}

func (l *fakeLink) Send(m xmpp.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		return xmpp.ErrNotConnected
	}
	if l.poison != "" && m.Body == l.poison {
		return fmt.Errorf("fake: %w", xmpp.ErrInvalidMessage)
	}
	if l.tooLarge != "" && m.Body == l.tooLarge {
		return fmt.Errorf("fake: %w", xmpp.ErrTooLarge)
	}
	if l.closeOn != "" && m.Body == l.closeOn {
		l.killed.Store(true)
	}
	l.sent = append(l.sent, m)
	l.ch <- m
	return nil
}

// SendBatch sends each stanza with Send or SendPresence.
func (l *fakeLink) SendBatch(stanzas []xmpp.Stanza) ([]error, error) {
	var invalid []error
	for i, s := range stanzas {
		var err error
		switch s := s.(type) {
		case xmpp.Message:
			err = l.Send(s)
		case xmpp.Presence:
			err = l.SendPresence(s)
		}
		if errors.Is(err, xmpp.ErrInvalidMessage) {
			if invalid == nil {
				invalid = make([]error, len(stanzas))
			}
			invalid[i] = err
		} else if err != nil {
			return invalid, err
		}
	}
	return invalid, nil
}

func (l *fakeLink) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.up
}

func (l *fakeLink) setUp(up bool) {
	l.mu.Lock()
	l.up = up
	l.mu.Unlock()
}

// next waits for the next stanza the bridge sends.
func (l *fakeLink) next(t *testing.T) xmpp.Message {
	t.Helper()
	select {
	case m := <-l.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no stanza sent within 10s")
		return xmpp.Message{}
	}
}

// none checks that no stanza the link received is left for the test to
// take. Alone it proves little: see harness.quiet.
func (l *fakeLink) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-l.ch:
		t.Fatalf("unexpected stanza %+v", m)
	default:
	}
}

// settle waits until the bridge has handled everything it queued: its
// inbox and both outboxes are empty. An XMPP outbox entry leaves only once
// written and confirmed, a Send API one once the call is made (or given
// up), and a stanza a Send API outcome calls for is queued in the commit
// that removes the entry: so by then the fakes have received everything
// the bridge meant to send so far, and a test can check that something
// did not happen without waiting "long enough". What the bridge will do
// later on a timer is not covered: advance the clock for it.
func (h *harness) settle(t *testing.T) {
	t.Helper()
	waitFor(t, func() bool {
		n, err := h.b.Pending()
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// quiet checks that once the bridge has settled it has sent nothing over
// XMPP that the test has not taken.
func (h *harness) quiet(t *testing.T) {
	t.Helper()
	h.settle(t)
	h.link.none(t)
}

// fakeAPI records Send API calls and answers with queued errors first.
type fakeAPI struct {
	mu     sync.Mutex
	calls  []messenger.OutgoingMessage
	tokens []string
	errs   []error
	ch     chan messenger.OutgoingMessage
	n      int
	// lose answers the next calls with a timeout although they went
	// through; echo, if set, is told about each such call.
	lose int
	echo func(m messenger.OutgoingMessage, mid messenger.MID)
}

func newFakeAPI() *fakeAPI { return &fakeAPI{ch: make(chan messenger.OutgoingMessage, 1000)} }

func (a *fakeAPI) Send(ctx context.Context, token string, page messenger.PageID, m messenger.OutgoingMessage) (messenger.SendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, m)
	a.tokens = append(a.tokens, token)
	if len(a.errs) > 0 {
		err := a.errs[0]
		a.errs = a.errs[1:]
		return messenger.SendResult{}, err
	}
	a.n++
	if a.lose > 0 {
		a.lose--
		if a.echo != nil {
			// Before the call shows on ch, so that a test taking it
			// can wait for the echo (harness.echoes).
			a.echo(m, messenger.MID(fmt.Sprintf("m_%d", a.n)))
		}
		a.ch <- m
		return messenger.SendResult{}, fmt.Errorf("fake: %w", context.DeadlineExceeded)
	}
	a.ch <- m
	return messenger.SendResult{RecipientID: string(m.Recipient), MessageID: messenger.MID(fmt.Sprintf("m_%d", a.n))}, nil
}

func (a *fakeAPI) failWith(errs ...error) {
	a.mu.Lock()
	a.errs = append(a.errs, errs...)
	a.mu.Unlock()
}

func (a *fakeAPI) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

func (a *fakeAPI) next(t *testing.T) messenger.OutgoingMessage {
	t.Helper()
	select {
	case m := <-a.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no Send API call accepted within 10s")
		return messenger.OutgoingMessage{}
	}
}

const (
	testPage   = "510249619162304"
	testPSID   = "1066835436691078"
	testDomain = "fb.library.test"
	testQueue  = "ask@chat.library.test"
	testAppID  = "1708188056130407"
)

func testConfig(dir string) *config.Config {
	return &config.Config{
		StateDir: dir,
		Messenger: config.Messenger{
			AppID: testAppID, AppSecret: "s", VerifyToken: "v",
			GraphURL: "http://127.0.0.1:1", APIVersion: "v21.0",
			Pages: []config.Page{{ID: testPage, Name: "Central", AccessToken: "page-token"}},
		},
		XMPP: config.XMPP{
			Server: "127.0.0.1:5347", Domain: testDomain, Secret: "x",
			Queue: testQueue, Operators: []string{"*@library.test"}, Routing: "queue",
		},
		Sessions: config.Sessions{Timezone: "UTC", IdleTimeout: 30 * time.Minute},
		Privacy:  config.Privacy{TranscriptRetention: 720 * time.Hour},
	}
}

// clock is a settable test clock. Its After fires when Advance reaches
// the deadline; harnesses made with fakeTimers hand it to the bridge.
type clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

// After returns a channel that receives once Advance has moved the clock
// d past now.
func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.t.Add(d), ch: ch})
	return ch
}

// waiting returns the deadlines of the timers not fired yet (some may
// belong to waits that ended otherwise), earliest first.
func (c *clock) waiting() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, len(c.waiters))
	for i, w := range c.waiters {
		out[i] = w.at
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.t) {
			kept = append(kept, w)
		} else {
			w.ch <- c.t
		}
	}
	c.waiters = kept
	c.mu.Unlock()
}

// harness is a bridge on a real BoltDB file with fake sides.
type harness struct {
	t     *testing.T
	dir   string
	cfg   *config.Config
	store *Store
	b     *Bridge
	link  *fakeLink
	api   *fakeAPI
	clock *clock
	stop  func()
	// sendAPI, if set, replaces api (a real client of the stand-in).
	sendAPI SendAPI
	// fakeTimers makes the bridge's Facebook waits run on clock; after,
	// if set, is the bridge's timer of Facebook waits instead.
	fakeTimers bool
	after      func(time.Duration) <-chan time.Time
	// echoes counts the echoes echoWhileOut is accepting.
	echoes sync.WaitGroup
}

func newHarness(t *testing.T, mutate ...func(*config.Config)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), link: newFakeLink(), api: newFakeAPI(),
		clock: &clock{t: time.Now()}}
	h.cfg = testConfig(h.dir)
	for _, m := range mutate {
		m(h.cfg)
	}
	h.open()
	t.Cleanup(h.close)
	return h
}

// open opens the store and builds the bridge, without running it.
func (h *harness) open() {
	h.t.Helper()
	st, err := OpenStore(h.dir, time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	ps, err := LoadPseudonymizer(h.dir, st)
	if err != nil {
		h.t.Fatal(err)
	}
	var api SendAPI = h.api
	if h.sendAPI != nil {
		api = h.sendAPI
	}
	o := Options{Config: h.cfg, Store: st, Pseudonyms: ps, SendAPI: api,
		Log: zaptest.NewLogger(h.t), Now: h.clock.Now}
	if h.fakeTimers {
		o.After = h.clock.After
	}
	if h.after != nil {
		o.After = h.after
	}
	b, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	h.store, h.b = st, b
}

// run starts the bridge's loops.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.b.Run(ctx, h.link) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.stop = nil
	}
}

func (h *harness) close() {
	h.echoes.Wait()
	if h.stop != nil {
		h.stop()
	}
	if h.store != nil {
		_ = h.store.Close()
		h.store = nil
	}
}

// restart stops the bridge, closes and reopens the store.
func (h *harness) restart() {
	h.close()
	h.open()
	h.run()
}

func patronText(mid, text string, at time.Time) messenger.Event {
	return messenger.Event{Kind: messenger.KindMessage, Page: testPage, Patron: testPSID,
		Time: at, MID: messenger.MID(mid), Text: text}
}

func (h *harness) accept(events ...messenger.Event) {
	h.t.Helper()
	if err := h.b.Accept(context.Background(), events); err != nil {
		h.t.Fatal(err)
	}
}

// reply sends a librarian's message to the patron through HandleMessage.
func (h *harness) reply(from, body string) *xmpp.StanzaError {
	return h.b.HandleMessage(context.Background(), xmpp.Message{
		ID: "r" + fmt.Sprint(time.Now().UnixNano()), From: jid.MustParse(from), To: jid.MustParse(testPSID + "@" + testDomain), Type: "chat", Body: body})
}

func (h *harness) records() []Record {
	h.t.Helper()
	rs, err := h.store.Records(time.Time{}, time.Now().Add(48*time.Hour))
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

func xmppMsg(from, body string) xmpp.Message { return xmppMsgTo(from, testPSID, body) }

func xmppMsgTo(from, psid, body string) xmpp.Message {
	return xmpp.Message{ID: fmt.Sprint("x", time.Now().UnixNano()), From: jid.MustParse(from), To: jid.MustParse(psid + "@" + testDomain), Type: "chat", Body: body}
}

// putJSON writes v as plain JSON at key k, as releases before sealed and
// binary records did.
func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding entry: %w", err)
	}
	if err := b.Put(k, data); err != nil {
		return fmt.Errorf("writing entry: %w", err)
	}
	return nil
}
