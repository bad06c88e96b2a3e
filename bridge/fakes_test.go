package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// fakeLink records what the bridge sends over XMPP.
type fakeLink struct {
	mu   sync.Mutex
	up   bool
	sent []xmpp.Message
	ch   chan xmpp.Message
	// poison is a body the link refuses as invalid.
	poison string
	pres   chan xmpp.Presence
	// syncFails is how many Syncs fail (the server not answering).
	syncFails atomic.Int32
	// onSync, if set, runs once inside the next Sync before it succeeds.
	onSync atomic.Pointer[func()]
}

func newFakeLink() *fakeLink {
	return &fakeLink{up: true, ch: make(chan xmpp.Message, 1000), pres: make(chan xmpp.Presence, 1000)}
}

func (l *fakeLink) Sync() error {
	if !l.Connected() {
		return xmpp.ErrNotConnected
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

func (l *fakeLink) Send(m xmpp.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		return xmpp.ErrNotConnected
	}
	if l.poison != "" && m.Body == l.poison {
		return fmt.Errorf("fake: %w", xmpp.ErrInvalidMessage)
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

// none checks that nothing is sent for a while.
func (l *fakeLink) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-l.ch:
		t.Fatalf("unexpected stanza %+v", m)
	case <-time.After(d):
	}
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
	a.ch <- m
	if a.lose > 0 {
		a.lose--
		if a.echo != nil {
			a.echo(m, messenger.MID(fmt.Sprintf("m_%d", a.n)))
		}
		return messenger.SendResult{}, fmt.Errorf("fake: %w", context.DeadlineExceeded)
	}
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

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
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
	b, err := New(Options{Config: h.cfg, Store: st, Pseudonyms: ps, SendAPI: h.api,
		Log: zaptest.NewLogger(h.t), Now: h.clock.Now})
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
		ID: "r" + fmt.Sprint(time.Now().UnixNano()), From: from, To: testPSID + "@" + testDomain, Type: "chat", Body: body})
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
	return xmpp.Message{ID: fmt.Sprint("x", time.Now().UnixNano()), From: from, To: psid + "@" + testDomain, Type: "chat", Body: body}
}
