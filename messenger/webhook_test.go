package messenger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	testSecret      = "test-app-secret"
	testVerifyToken = "test-verify-token"
)

// recordingSink records accepted events, or fails when err is set.
type recordingSink struct {
	mu    sync.Mutex
	calls [][]Event
	err   error
}

func (s *recordingSink) Accept(_ context.Context, events []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.calls = append(s.calls, append([]Event(nil), events...))
	return nil
}

func (s *recordingSink) Calls() [][]Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]Event(nil), s.calls...)
}

// countingReader counts bytes read.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

var _ Sink = (*recordingSink)(nil)

func TestWebhookPOST(t *testing.T) {
	text := fixture(t, "text.json")
	big := []byte(`{"object":"page","entry":[],"pad":"` + strings.Repeat("x", 400) + `"}`)
	tests := []struct {
		name     string
		body     []byte
		header   http.Header
		chunked  bool // hide the length, so only reading finds the limit
		sinkErr  error
		draining bool
		status   int
		respBody string
		stored   int // events the sink must have received
		result   string
	}{
		{name: "accepted", body: text, header: signedHeader(testSecret, text),
			status: 200, respBody: "EVENT_RECEIVED", stored: 1, result: ResultAccepted},
		{name: "unsigned", body: text, header: http.Header{}, status: 403, result: ResultForbidden},
		{name: "signed with another secret", body: text, header: signedHeader("other", text),
			status: 403, result: ResultForbidden},
		{name: "malformed", body: []byte(`{"object":`), header: signedHeader(testSecret, []byte(`{"object":`)),
			status: 400, result: ResultMalformed},
		{name: "too large by Content-Length", body: big, header: signedHeader(testSecret, big),
			status: 413, result: ResultTooLarge},
		{name: "too large when read", body: big, header: signedHeader(testSecret, big), chunked: true,
			status: 413, result: ResultTooLarge},
		{name: "sink fails", body: text, header: signedHeader(testSecret, text), sinkErr: errors.New("disk full"),
			status: 500, result: ResultStoreFailed},
		{name: "other object: 200 without storing", body: []byte(`{"object":"user","entry":[{"id":"1"}]}`),
			header: signedHeader(testSecret, []byte(`{"object":"user","entry":[{"id":"1"}]}`)),
			status: 200, respBody: "EVENT_RECEIVED", result: ResultAccepted},
		{name: "draining", body: text, header: signedHeader(testSecret, text), draining: true,
			status: 503, result: ResultDraining},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{err: tt.sinkErr}
			w := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken, MaxBodyBytes: 300}, sink, nil)
			w.SetDraining(tt.draining)
			body := &countingReader{r: bytes.NewReader(tt.body)}
			req := httptest.NewRequest(http.MethodPost, "/webhook", body)
			if !tt.chunked {
				req.ContentLength = int64(len(tt.body))
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body.String())
			}
			if tt.respBody != "" && rec.Body.String() != tt.respBody {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.respBody)
			}
			stored := 0
			for _, c := range sink.Calls() {
				stored += len(c)
			}
			if stored != tt.stored {
				t.Errorf("sink got %d events, want %d", stored, tt.stored)
			}
			if tt.draining && body.n != 0 {
				t.Errorf("draining webhook read %d body bytes", body.n)
			}
			got := w.Stats().ByResult()
			for name, n := range got {
				want := uint64(0)
				if name == tt.result {
					want = 1
				}
				if n != want {
					t.Errorf("stats[%s] = %d, want %d", name, n, want)
				}
			}
		})
	}
}

func TestWebhookVerify(t *testing.T) {
	tests := []struct {
		name        string
		configured  string
		query       url.Values
		status      int
		wantBody    string
		wantVerfied bool
	}{
		{"handshake", testVerifyToken, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1158201444"}},
			200, "1158201444", true},
		{"wrong token", testVerifyToken, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}},
			403, "", false},
		{"token prefix", testVerifyToken, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken[:4]}, "hub.challenge": {"1"}},
			403, "", false},
		{"wrong mode", testVerifyToken, url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1"}},
			403, "", false},
		{"no token configured", "", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}, "hub.challenge": {"1"}},
			403, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: tt.configured}, &recordingSink{}, nil)
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhook?"+tt.query.Encode(), nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 200 {
				if rec.Body.String() != tt.wantBody {
					t.Errorf("body %q, want %q", rec.Body.String(), tt.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
			}
			s := w.Stats()
			if (s.Verified == 1) != tt.wantVerfied || (s.VerifyFailed == 1) == tt.wantVerfied {
				t.Errorf("stats Verified %d VerifyFailed %d", s.Verified, s.VerifyFailed)
			}
		})
	}
}

func TestWebhookOverHTTP(t *testing.T) {
	sink := &recordingSink{}
	w := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken}, sink, nil)
	srv := httptest.NewServer(w)
	defer srv.Close()

	post := func(name string) *http.Response {
		t.Helper()
		body := fixture(t, name)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range signedHeader(testSecret, body) {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, f := range []string{"text.json", "echo_template.json", "delivery.json", "read.json", "text.json"} {
		if resp := post(f); resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", f, resp.StatusCode)
		}
	}
	w.SetDraining(true)
	if resp := post("text.json"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("draining: status %d, want 503", resp.StatusCode)
	}
	w.SetDraining(false)

	resp, err := http.Post(srv.URL+"/webhook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("unsigned: status %d, want 403", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/webhook", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: status %d, want 405", resp.StatusCode)
	}

	if n := len(sink.Calls()); n != 5 {
		t.Errorf("sink called %d times, want 5", n)
	}
	s := w.Stats()
	want := WebhookStats{Accepted: 5, Forbidden: 1, Draining: 1, MethodNotAllowed: 1,
		Events: map[Kind]uint64{KindMessage: 2, KindEcho: 1, KindDelivery: 1, KindRead: 1}}
	if s.Accepted != want.Accepted || s.Forbidden != want.Forbidden || s.Draining != want.Draining ||
		s.MethodNotAllowed != want.MethodNotAllowed || len(s.Events) != len(want.Events) {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	for k, n := range want.Events {
		if s.Events[k] != n {
			t.Errorf("events[%s] = %d, want %d", k, s.Events[k], n)
		}
	}
}
