package standin

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/messenger"
)

func TestPatronSaysReachesTheWebhook(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		escaped string // must appear in the raw body
	}{
		{"ascii", "When are you open on Sunday?", "When are you open on Sunday?"},
		{"latin", "Grüße aus Köln", `Gr\u00fc\u00dfe aus K\u00f6ln`},
		{"astral", "📚 please", `\ud83d\udcda please`},
		{"slashes", "see https://example.org/a", `https:\/\/example.org\/a`},
		{"quotes and backslash", `say "hi" \o/`, `say \"hi\" \\o\/`},
		{"control character", "a\x00b", `a\u0000b`},
	}
	r := newRig(t, false)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mid, err := r.st.PatronSays(context.Background(), pageA, patron, tt.text)
			if err != nil {
				t.Fatalf("PatronSays: %v", err)
			}
			if !strings.HasPrefix(string(mid), "m_") {
				t.Errorf("mid %q lacks m_", mid)
			}
			ev := r.sink.wait(t, i+1)[i]
			if ev.Kind != messenger.KindMessage || ev.Page != pageA || ev.Patron != patron || ev.MID != mid || ev.Text != tt.text {
				t.Errorf("event %+v", ev)
			}
			raw := r.rawBodies()[i]
			if !bytes.Contains(raw, []byte(tt.escaped)) {
				t.Errorf("raw body %s lacks %s", raw, tt.escaped)
			}
			for _, c := range raw {
				if c >= 0x80 {
					t.Fatalf("raw body has a non-ASCII byte: %s", raw)
				}
			}
		})
	}
}

func TestPatronSaysFailures(t *testing.T) {
	r := newRig(t, false)
	ctx := context.Background()
	if _, err := r.st.PatronSays(ctx, "999", patron, "hi"); err == nil {
		t.Error("unknown page: no error")
	}
	if _, err := r.st.PatronSays(ctx, pageA, "not-digits", "hi"); err == nil {
		t.Error("bad PSID: no error")
	}
	if _, err := r.st.PatronSays(ctx, pageA, patron, ""); err == nil {
		t.Error("empty text: no error")
	}

	r.sink.setErr(errors.New("disk full"))
	_, err := r.st.PatronSays(ctx, pageA, patron, "hi")
	if !errors.Is(err, ErrNotAccepted) || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("bridge answering 500: %v, want ErrNotAccepted with HTTP 500", err)
	}
	r.sink.setErr(nil)

	wrong := New(Config{AppSecret: "wrong", WebhookURL: r.bridge.URL, Pages: []Page{{ID: pageA}}})
	if _, err := wrong.PatronSays(ctx, pageA, patron, "hi"); !errors.Is(err, ErrNotAccepted) {
		t.Errorf("wrong secret: %v, want ErrNotAccepted (403)", err)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	gone := New(Config{AppSecret: testSecret, WebhookURL: url, Pages: []Page{{ID: pageA}}})
	_, err = gone.PatronSays(ctx, pageA, patron, "hi")
	if err == nil || errors.Is(err, ErrNotAccepted) {
		t.Errorf("bridge down: %v, want a transport error", err)
	}
	if n := len(r.sink.snapshot()); n != 0 {
		t.Errorf("bridge stored %d events from failed posts", n)
	}
}

func TestPatronRead(t *testing.T) {
	r := newRig(t, false)
	if err := r.st.PatronRead(context.Background(), pageB, patron); err != nil {
		t.Fatal(err)
	}
	ev := r.sink.wait(t, 1)[0]
	if ev.Kind != messenger.KindRead || ev.Page != pageB || ev.Patron != patron || ev.Watermark.IsZero() {
		t.Errorf("event %+v", ev)
	}
}

func TestPostSignedRawBody(t *testing.T) {
	r := newRig(t, false)
	body := fixtureBody(t)
	status, err := r.st.PostSigned(context.Background(), body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("PostSigned = %d, %v", status, err)
	}
	if got := r.rawBodies()[0]; !bytes.Equal(got, body) {
		t.Errorf("bridge got %s, want the body unchanged", got)
	}
	status, err = r.st.PostSigned(context.Background(), []byte(`{"object":`))
	if err != nil || status != http.StatusBadRequest {
		t.Errorf("malformed body: %d, %v; want 400", status, err)
	}
}

// fixtureBody is a webhook body with escapes and a standby event.
func fixtureBody(t *testing.T) []byte {
	t.Helper()
	return []byte(`{"object":"page","entry":[{"id":"510249619162304","time":1468152703635,"standby":[` +
		`{"sender":{"id":"1066835436691078"},"recipient":{"id":"510249619162304"},"timestamp":1468152703534,` +
		`"message":{"mid":"mid.1","text":"caf\u00e9"}}]}]}`)
}

func TestFBJSON(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"ä", `"\u00e4"`},
		{"📚", `"\ud83d\udcda"`},
		{"a/b", `"a\/b"`},
		{"<&>", `"<&>"`},
		{"\u2028", `"\u2028"`},
		{map[string]any{"n": 1708188056130407}, `{"n":1708188056130407}`},
	}
	for _, tt := range tests {
		got, err := fbJSON(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("fbJSON(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
