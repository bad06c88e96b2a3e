package messenger

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebhookBadInput posts bodies that are wrong in every way the issue
// lists, through the real handler, and checks the status, that the Sink
// never sees them, and how they are counted. (Unsigned, wrongly signed,
// truncated JSON and the plain size limits are in TestWebhookPOST.)
func TestWebhookBadInput(t *testing.T) {
	const limit = 1 << 16
	page := func(items string) string {
		return `{"object":"page","entry":[{"id":"1","time":5,"messaging":[` + items + `]}]}`
	}
	text := fixture(t, "text.json")
	tampered := bytes.Replace(text, []byte(`"text":"test"`), []byte(`"text":"pwnd"`), 1)
	tests := []struct {
		name    string
		body    string
		header  http.Header // nil: signed correctly
		status  int
		result  string
		events  int // passed to the Sink
		ignored uint64
	}{
		{name: "signature of another body", body: string(tampered), header: signedHeader(testSecret, text),
			status: 403, result: ResultForbidden},
		{name: "right sha1, wrong sha256", body: string(text), header: func() http.Header {
			h := signedHeader(testSecret, text)
			h.Set(HeaderSignature256, "sha256="+strings.Repeat("0", 64))
			return h
		}(), status: 403, result: ResultForbidden},
		{name: "signature without prefix", body: string(text), header: func() http.Header {
			h := http.Header{}
			h.Set(HeaderSignature256, strings.TrimPrefix(signedHeader(testSecret, text).Get(HeaderSignature256), "sha256="))
			return h
		}(), status: 403, result: ResultForbidden},
		{name: "not UTF-8", body: "{\"object\":\"page\",\"entry\":[],\"x\":\"\xff\"}", status: 400, result: ResultMalformed},
		{name: "UTF-16", body: "\xff\xfe{\x00}\x00", status: 400, result: ResultMalformed},
		{name: "nested one level too deep", body: `{"object":"page","entry":[],"x":` +
			strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, status: 400, result: ResultMalformed},
		{name: "nesting bomb", body: strings.Repeat("[", limit), status: 400, result: ResultMalformed},
		{name: "object bomb", body: strings.Repeat(`{"a":`, limit/5), status: 400, result: ResultMalformed},
		{name: "not an object", body: `[{"object":"page","entry":[]}]`, status: 400, result: ResultMalformed},
		{name: "entry of the wrong type", body: `{"object":"page","entry":"x"}`, status: 400, result: ResultMalformed},
		{name: "message of the wrong type", body: page(`{"sender":{"id":"2"},"message":["hi"]}`), status: 400, result: ResultMalformed},
		{name: "ID of the wrong type", body: page(`{"sender":{"id":[2]},"message":{"text":"hi"}}`), status: 400, result: ResultMalformed},
		{name: "timestamp beyond 2262", body: page(`{"sender":{"id":"2"},"timestamp":253402300800000,"message":{"mid":"m","text":"hi"}}`),
			status: 400, result: ResultMalformed},
		{name: "negative watermark", body: page(`{"sender":{"id":"2"},"timestamp":6,"read":{"watermark":-1}}`),
			status: 400, result: ResultMalformed},
		{name: "empty body", body: ``, status: 400, result: ResultMalformed},
		{name: "other object", body: `{"object":"user"}`, status: 200, result: ResultAccepted},
		{name: "other object with entries", body: `{"object":"user","entry":[{"id":"1","changes":[{"field":"name"}]},{"id":"2"}]}`,
			status: 200, result: ResultAccepted, ignored: 2},
		{name: "unknown kinds and an event without a Page", body: `{"object":"page","entry":[{"messaging":[` +
			`{"sender":{"id":"2"},"timestamp":6,"message":{"mid":"m","text":"whose?"}},` +
			`{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"pass_thread_control":{}}]}]}`,
			status: 200, result: ResultAccepted, ignored: 2},
		{name: "characters XML forbids are passed on", body: page(`{"sender":{"id":"2"},"timestamp":6,"message":{"mid":"m","text":"a\u0000b\u001b"}}`),
			status: 200, result: ResultAccepted, events: 1},
		{name: "at the size limit", body: `{"object":"page","entry":[]}` + strings.Repeat(" ", limit-28),
			status: 200, result: ResultAccepted},
		{name: "one byte over the size limit", body: strings.Repeat(" ", limit+1),
			status: 413, result: ResultTooLarge},
		{name: "unsigned: refused before reading", body: strings.Repeat(" ", limit), header: http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("0", 63)}},
			status: 403, result: ResultForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			w := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken, MaxBodyBytes: limit}, sink, nil)
			for _, chunked := range []bool{false, true} {
				req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(tt.body))
				if chunked {
					req.ContentLength = -1
				}
				h := tt.header
				if h == nil {
					h = signedHeader(testSecret, []byte(tt.body))
				}
				for k, v := range h {
					req.Header[k] = v
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				w.ServeHTTP(rec, req)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("took %v", d)
				}
				if rec.Code != tt.status {
					t.Fatalf("chunked=%v: status %d, want %d (%q)", chunked, rec.Code, tt.status, rec.Body.String())
				}
				if tt.status == 200 && rec.Body.String() != eventReceived {
					t.Errorf("body %q", rec.Body.String())
				}
			}
			got := 0
			for _, c := range sink.Calls() {
				got += len(c)
			}
			if got != 2*tt.events {
				t.Errorf("sink got %d events, want %d", got, 2*tt.events)
			}
			s := w.Stats()
			for name, n := range s.ByResult() {
				want := uint64(0)
				if name == tt.result {
					want = 2
				}
				if n != want {
					t.Errorf("stats[%s] = %d, want %d", name, n, want)
				}
			}
			if s.Ignored != 2*tt.ignored {
				t.Errorf("Ignored = %d, want %d", s.Ignored, 2*tt.ignored)
			}
		})
	}
}
