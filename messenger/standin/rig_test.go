package standin

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

const (
	testAppID  = "1708188056130407"
	testSecret = "stand-in-secret"
	pageA      = messenger.PageID("510249619162304")
	pageB      = messenger.PageID("510249619162305")
	tokenA     = "EAAG-token-page-a"
	tokenB     = "EAAG-token-page-b"
	patron     = messenger.PSID("2894771000000001")
	instagramA = messenger.PageID("17841400000000000")
	igPatron   = messenger.PSID("ig-6045123456789012")
)

// sink records what the bridge's webhook accepted; it fails while err is set.
type sink struct {
	mu     sync.Mutex
	events []messenger.Event
	err    error
}

func (s *sink) Accept(_ context.Context, events []messenger.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.events = append(s.events, events...)
	return nil
}

func (s *sink) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *sink) snapshot() []messenger.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]messenger.Event(nil), s.events...)
}

// wait returns the first n events, failing the test after 5 seconds.
func (s *sink) wait(t *testing.T, n int) []messenger.Event {
	t.Helper()
	if !holds(5*time.Second, func() bool { return len(s.snapshot()) >= n }) {
		t.Fatalf("bridge got %d events, want %d", len(s.snapshot()), n)
	}
	return s.snapshot()
}

// holds calls cond until it holds, for at most within, and reports
// whether it did: the package's one pause between polls.
func holds(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// echoesPosted waits until the stand-in has posted every echo it queued.
// A Send API call queues its echo before it answers, so after the calls
// a test made, the bridge has then received every echo they caused.
func (r *rig) echoesPosted(t *testing.T) {
	t.Helper()
	idle := func() bool {
		r.st.mu.Lock()
		defer r.st.mu.Unlock()
		return !r.st.echoBusy
	}
	if !holds(5*time.Second, idle) {
		t.Fatal("echoes still being posted after 5s")
	}
}

// rig is a stand-in wired to a "bridge" that runs messenger's real webhook.
type rig struct {
	st     *Server
	sink   *sink
	graph  *httptest.Server
	bridge *httptest.Server
	client *messenger.Client

	mu     sync.Mutex
	bodies [][]byte // raw webhook bodies the bridge received
	// polls receives when a long poll of /patron/messages reaches the
	// stand-in's handler.
	polls chan struct{}
}

func newRig(t *testing.T, echoes bool) *rig {
	t.Helper()
	r := &rig{sink: &sink{}}
	wh := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: testSecret, VerifyToken: "v"}, r.sink, nil)
	r.bridge = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		wh.ServeHTTP(w, req)
	}))
	t.Cleanup(r.bridge.Close)
	r.st = New(Config{
		AppID: testAppID, AppSecret: testSecret, WebhookURL: r.bridge.URL + "/webhook", Echoes: echoes,
		Pages: []Page{{ID: pageA, Name: "Central Library", AccessToken: tokenA, InstagramID: instagramA}, {ID: pageB, Name: "Branch", AccessToken: tokenB}},
	})
	t.Cleanup(r.st.Close) // before the bridge closes: no echo posted after the test
	h := r.st.Handler()
	r.polls = make(chan struct{}, 100)
	r.graph = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/patron/messages" && req.URL.Query().Get("wait") != "0" {
			select {
			case r.polls <- struct{}{}:
			default: // nobody watches that many
			}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.graph.Close)
	r.client = messenger.NewClient(r.graph.URL, "v21.0", r.graph.Client())
	return r
}

func (r *rig) rawBodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}
