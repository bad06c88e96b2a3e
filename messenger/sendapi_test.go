package messenger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphFake answers every request with one canned response and records the
// requests it got.
type graphFake struct {
	status int
	body   string
	header http.Header

	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	method, path, rawQuery, auth, contentType, body string
}

func (g *graphFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.reqs = append(g.reqs, recordedRequest{r.Method, r.URL.Path, r.URL.RawQuery,
		r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
	g.mu.Unlock()
	for k, v := range g.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(g.status)
	_, _ = io.WriteString(w, g.body)
}

func (g *graphFake) requests() []recordedRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recordedRequest(nil), g.reqs...)
}

func TestClientSendRequests(t *testing.T) {
	const token = "EAAtoken-secret"
	tests := []struct {
		name     string
		msg      OutgoingMessage
		wantBody string
		respBody string
		want     SendResult
	}{
		{
			name:     "text",
			msg:      OutgoingMessage{Recipient: "2894771", Text: "Hello <there> & welcome"},
			wantBody: `{"recipient":{"id":"2894771"},"messaging_type":"RESPONSE","message":{"text":"Hello <there> & welcome"}}`,
			respBody: `{"recipient_id":"2894771","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}`,
			want:     SendResult{RecipientID: "2894771", MessageID: "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"},
		},
		{
			name:     "human agent tag with metadata",
			msg:      OutgoingMessage{Recipient: "2894771", Tag: TagHumanAgent, Text: "Sorry for the wait", Metadata: "askbridge:42"},
			wantBody: `{"recipient":{"id":"2894771"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"text":"Sorry for the wait","metadata":"askbridge:42"}}`,
			respBody: `{"recipient_id":2894771,"message_id":"m_2"}`,
			want:     SendResult{RecipientID: "2894771", MessageID: "m_2"},
		},
		{
			name:     "update",
			msg:      OutgoingMessage{Recipient: "1", MessagingType: MessagingTypeUpdate, Text: "x"},
			wantBody: `{"recipient":{"id":"1"},"messaging_type":"UPDATE","message":{"text":"x"}}`,
			respBody: `{"recipient_id":"1","message_id":"m_3"}`,
			want:     SendResult{RecipientID: "1", MessageID: "m_3"},
		},
		{
			name:     "attachment",
			msg:      OutgoingMessage{Recipient: "1", Attachment: &Attachment{Type: "image", URL: "https://library.example.org/map.png"}},
			wantBody: `{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"image","payload":{"url":"https://library.example.org/map.png","is_reusable":true}}}}`,
			respBody: `{"recipient_id":"1","message_id":"m_4"}`,
			want:     SendResult{RecipientID: "1", MessageID: "m_4"},
		},
		{
			name:     "sender action",
			msg:      OutgoingMessage{Recipient: "1", SenderAction: SenderActionTypingOn},
			wantBody: `{"recipient":{"id":"1"},"sender_action":"typing_on"}`,
			respBody: `{"recipient_id":"1"}`,
			want:     SendResult{RecipientID: "1"},
		},
		{
			name:     "text of exactly the limit",
			msg:      OutgoingMessage{Recipient: "1", Text: strings.Repeat("é", MaxTextLength)},
			wantBody: `{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"text":"` + strings.Repeat("é", MaxTextLength) + `"}}`,
			respBody: `{"recipient_id":"1","message_id":"m_5"}`,
			want:     SendResult{RecipientID: "1", MessageID: "m_5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &graphFake{status: 200, body: tt.respBody}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c := NewClient(srv.URL+"/", "v21.0", srv.Client())
			got, err := c.Send(context.Background(), token, "510249619162304", tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got != tt.want {
				t.Errorf("result %+v, want %+v", got, tt.want)
			}
			reqs := fake.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != "/v21.0/510249619162304/messages" {
				t.Errorf("request %s %s", r.method, r.path)
			}
			if r.auth != "Bearer "+token || r.rawQuery != "" {
				t.Errorf("auth %q query %q: token must be a Bearer header only", r.auth, r.rawQuery)
			}
			if r.contentType != "application/json" {
				t.Errorf("Content-Type %q", r.contentType)
			}
			if r.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", r.body, tt.wantBody)
			}
		})
	}
}

func TestClientSendInvalid(t *testing.T) {
	tests := []struct {
		name  string
		token string
		page  PageID
		msg   OutgoingMessage
	}{
		{"text over the limit", "t", "1", OutgoingMessage{Recipient: "1", Text: strings.Repeat("a", MaxTextLength+1)}},
		{"no recipient", "t", "1", OutgoingMessage{Text: "x"}},
		{"empty message", "t", "1", OutgoingMessage{Recipient: "1"}},
		{"text and attachment", "t", "1", OutgoingMessage{Recipient: "1", Text: "x", Attachment: &Attachment{Type: "file", URL: "https://a.example/f"}}},
		{"attachment type", "t", "1", OutgoingMessage{Recipient: "1", Attachment: &Attachment{Type: "location", URL: "https://a.example/f"}}},
		{"attachment URL", "t", "1", OutgoingMessage{Recipient: "1", Attachment: &Attachment{Type: "file", URL: "file:///etc/passwd"}}},
		{"tag with RESPONSE", "t", "1", OutgoingMessage{Recipient: "1", MessagingType: MessagingTypeResponse, Tag: TagHumanAgent, Text: "x"}},
		{"MESSAGE_TAG without tag", "t", "1", OutgoingMessage{Recipient: "1", MessagingType: MessagingTypeMessageTag, Text: "x"}},
		{"a tag Meta refuses since 2026", "t", "1", OutgoingMessage{Recipient: "1", MessagingType: MessagingTypeMessageTag, Tag: "ACCOUNT_UPDATE", Text: "x"}},
		{"a retired tag without messaging type", "t", "1", OutgoingMessage{Recipient: "1", Tag: "CONFIRMED_EVENT_UPDATE", Text: "x"}},
		{"unknown messaging type", "t", "1", OutgoingMessage{Recipient: "1", MessagingType: "NON_PROMOTIONAL_SUBSCRIPTION", Text: "x"}},
		{"sender action with text", "t", "1", OutgoingMessage{Recipient: "1", SenderAction: SenderActionMarkSeen, Text: "x"}},
		{"unknown sender action", "t", "1", OutgoingMessage{Recipient: "1", SenderAction: "dance"}},
		{"metadata too long", "t", "1", OutgoingMessage{Recipient: "1", Text: "x", Metadata: strings.Repeat("m", MaxMetadataLength+1)}},
		{"no token", "", "1", OutgoingMessage{Recipient: "1", Text: "x"}},
		{"no page", "t", "", OutgoingMessage{Recipient: "1", Text: "x"}},
	}
	fake := &graphFake{status: 200, body: `{}`}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := NewClient(srv.URL, "v21.0", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Send(context.Background(), tt.token, tt.page, tt.msg)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Send = %v, want ErrInvalidMessage", err)
			}
		})
	}
	if n := len(fake.requests()); n != 0 {
		t.Errorf("the API was called %d times for invalid messages", n)
	}
}

func TestClientSendErrors(t *testing.T) {
	outside := string(fixture(t, "send_error_outside_window.json"))
	tests := []struct {
		name   string
		status int
		body   string
		header http.Header
		want   GraphError
		retry  bool
		token  bool
		window bool
	}{
		{
			name: "outside window fixture", status: 400, body: outside,
			want: GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 10, Subcode: 2018278, FBTraceID: "AxIIVeNpuf3y2jeXdufRcEX",
				Message: "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview"},
			window: true,
		},
		{
			name: "invalid token", status: 400,
			body: `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"A1"}}`,
			want: GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 190, FBTraceID: "A1",
				Message: "Invalid OAuth access token - Cannot parse access token"},
			token: true,
		},
		{
			name: "rate limited with usage header", status: 400,
			body:   `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"B2"}}`,
			header: http.Header{HeaderBusinessUseCaseUsage: {`{"510249619162304":[{"type":"messenger","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":5},{"type":"pages","call_count":100,"estimated_time_to_regain_access":12}]}`}},
			want: GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 613, FBTraceID: "B2", RetryAfter: 12 * time.Minute,
				Usage:   Usage{Page: 100, RegainAccess: 12 * time.Minute},
				Message: "(#613) Calls to this api have exceeded the rate limit."},
			retry: true,
		},
		{
			name: "transient unknown code", status: 500,
			body:  `{"error":{"message":"(#1200) Temporary send message failure. Please try again later","type":"OAuthException","code":1200,"is_transient":true}}`,
			want:  GraphError{HTTPStatus: 500, Type: "OAuthException", Code: 1200, IsTransient: true, Message: "(#1200) Temporary send message failure. Please try again later"},
			retry: true,
		},
		{
			name: "not a Graph error body", status: 502, body: "<html><body>Bad Gateway</body></html>",
			want:  GraphError{HTTPStatus: 502, Message: "<html><body>Bad Gateway</body></html>"},
			retry: true,
		},
		{
			name: "permanent code on a 500", status: 500,
			body: `{"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001,"fbtrace_id":"C3"}}`,
			want: GraphError{HTTPStatus: 500, Type: "OAuthException", Code: 100, Subcode: 2018001, FBTraceID: "C3", Message: "(#100) No matching user found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&graphFake{status: tt.status, body: tt.body, header: tt.header})
			defer srv.Close()
			c := NewClient(srv.URL, "v21.0", nil)
			_, err := c.Send(context.Background(), "EAAtoken", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
			var ge *GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("Send = %v, want *GraphError", err)
			}
			if *ge != tt.want {
				t.Errorf("error\n got %+v\nwant %+v", *ge, tt.want)
			}
			if ge.Retryable() != tt.retry || ge.TokenInvalid() != tt.token || ge.OutsideWindow() != tt.window {
				t.Errorf("Retryable %v TokenInvalid %v OutsideWindow %v; want %v %v %v",
					ge.Retryable(), ge.TokenInvalid(), ge.OutsideWindow(), tt.retry, tt.token, tt.window)
			}
			if strings.Contains(err.Error(), "EAAtoken") {
				t.Errorf("error text leaks the token: %v", err)
			}
		})
	}
}

func TestClientSendTransportError(t *testing.T) {
	srv := httptest.NewServer(&graphFake{status: 200, body: `{}`})
	url := srv.URL
	srv.Close()
	c := NewClient(url, "v21.0", nil)
	_, err := c.Send(context.Background(), "EAAtoken", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
	var ge *GraphError
	if err == nil || errors.As(err, &ge) || errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("Send = %v, want a wrapped transport error", err)
	}
	if strings.Contains(err.Error(), "EAAtoken") {
		t.Errorf("error text leaks the token: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv2 := httptest.NewServer(&graphFake{status: 200, body: `{}`})
	defer srv2.Close()
	_, err = NewClient(srv2.URL, "v21.0", nil).Send(ctx, "t", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with cancelled context = %v, want context.Canceled", err)
	}
}

func TestClientSendBadSuccessBody(t *testing.T) {
	srv := httptest.NewServer(&graphFake{status: 200, body: `not json`})
	defer srv.Close()
	_, err := NewClient(srv.URL, "v21.0", nil).Send(context.Background(), "t", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
	var ge *GraphError
	if err == nil || errors.As(err, &ge) {
		t.Fatalf("Send = %v, want a decoding error", err)
	}
}

// TestClientKeepsConnections: replies sent at once to several patrons,
// hour after hour, reuse the connections of the first burst instead of
// opening new ones (Go's default transport keeps only 2 idle per host).
func TestClientKeepsConnections(t *testing.T) {
	const burst, rounds = 8, 4
	var (
		mu      sync.Mutex
		arrived int
		release = make(chan struct{})
		opened  int
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ch := release
		if arrived++; arrived == burst {
			close(release) // every call of the burst is in flight: all answer
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, `{"recipient_id":"1","message_id":"m_1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, "v21.0", nil)
	for round := range rounds {
		mu.Lock()
		arrived, release = 0, make(chan struct{})
		mu.Unlock()
		var wg sync.WaitGroup
		errs := make(chan error, burst)
		for range burst {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := c.Send(ctx, "token", "1", OutgoingMessage{Recipient: "1", Text: "x"}); err != nil {
					errs <- fmt.Errorf("round %d: %w", round, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// One connection per call of the first burst; a later burst may open
	// one or two while a connection of the previous is on its way back to
	// the pool, never the burst-2 of each round that 2 idle ones would.
	if opened < burst || opened >= burst+(rounds-1)*(burst-2)/2 {
		t.Errorf("%d connections opened for %d bursts of %d calls, want %d (and not one per call)", opened, rounds, burst, burst)
	}
	t.Logf("%d connections for %d calls", opened, rounds*burst)
}
