package standin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

func TestSendAPIThroughClient(t *testing.T) {
	r := newRig(t, false)
	ctx := context.Background()
	tests := []struct {
		name  string
		token string
		page  messenger.PageID
		fail  *messenger.GraphError // queued with FailNext before the call
		msg   messenger.OutgoingMessage
		want  SentMessage // zero when the call must fail
		err   messenger.GraphError
	}{
		{name: "text", token: tokenA, page: pageA,
			msg:  messenger.OutgoingMessage{Recipient: patron, Text: "We open at 10.", Metadata: "ab:1"},
			want: SentMessage{Page: pageA, Recipient: patron, MessagingType: "RESPONSE", Text: "We open at 10.", Metadata: "ab:1"}},
		{name: "human agent tag", token: tokenB, page: pageB,
			msg:  messenger.OutgoingMessage{Recipient: patron, Tag: messenger.TagHumanAgent, Text: "Late answer"},
			want: SentMessage{Page: pageB, Recipient: patron, MessagingType: "MESSAGE_TAG", Tag: "HUMAN_AGENT", Text: "Late answer"}},
		{name: "attachment", token: tokenA, page: pageA,
			msg: messenger.OutgoingMessage{Recipient: patron, Attachment: &messenger.Attachment{Type: "file", URL: "https://library.example.org/guide.pdf"}},
			want: SentMessage{Page: pageA, Recipient: patron, MessagingType: "RESPONSE",
				Attachment: &messenger.Attachment{Type: "file", URL: "https://library.example.org/guide.pdf"}}},
		{name: "sender action", token: tokenA, page: pageA,
			msg:  messenger.OutgoingMessage{Recipient: patron, SenderAction: messenger.SenderActionTypingOn},
			want: SentMessage{Page: pageA, Recipient: patron, SenderAction: "typing_on"}},
		{name: "unknown token", token: "EAAG-guess", page: pageA,
			msg: messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			err: messenger.GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}},
		{name: "token of another page", token: tokenB, page: pageA,
			msg: messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			err: messenger.GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 190,
				Message: "Error validating access token: the token does not belong to Page 510249619162304"}},
		{name: "FailNext outside window", token: tokenA, page: pageA,
			fail: &messenger.GraphError{Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."},
			msg:  messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			err:  messenger.GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."}},
		{name: "FailNext throttled", token: tokenB, page: pageB,
			fail: &messenger.GraphError{HTTPStatus: 503, Type: "OAuthException", Code: 2, Message: "(#2) Service temporarily unavailable", RetryAfter: 3 * time.Minute, IsTransient: true, FBTraceID: "trace-1"},
			msg:  messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			err: messenger.GraphError{HTTPStatus: 503, Type: "OAuthException", Code: 2, Message: "(#2) Service temporarily unavailable",
				RetryAfter: 3 * time.Minute, IsTransient: true, FBTraceID: "trace-1",
				Usage: messenger.Usage{Page: 100, RegainAccess: 3 * time.Minute}}},
		{name: "the call after a failure succeeds", token: tokenB, page: pageB,
			msg:  messenger.OutgoingMessage{Recipient: patron, Text: "again"},
			want: SentMessage{Page: pageB, Recipient: patron, MessagingType: "RESPONSE", Text: "again"}},
	}
	var accepted int
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail != nil {
				r.st.FailNext(tt.page, *tt.fail)
			}
			before := time.Now()
			res, err := r.client.Send(ctx, tt.token, tt.page, tt.msg)
			if tt.want.Page == "" {
				var ge *messenger.GraphError
				if !errors.As(err, &ge) {
					t.Fatalf("Send = %+v, %v; want a GraphError", res, err)
				}
				got := *ge
				if tt.err.FBTraceID == "" {
					if got.FBTraceID == "" {
						t.Error("no fbtrace_id")
					}
					got.FBTraceID = ""
				}
				if got != tt.err {
					t.Errorf("error\n got %+v\nwant %+v", got, tt.err)
				}
				if len(r.st.Sent()) != accepted {
					t.Errorf("a refused call was recorded")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			accepted++
			sent := r.st.Sent()
			if len(sent) != accepted {
				t.Fatalf("Sent has %d, want %d", len(sent), accepted)
			}
			got := sent[accepted-1]
			if got.At.Before(before) || got.At.After(time.Now()) {
				t.Errorf("At %v not during the call", got.At)
			}
			if res.RecipientID != string(patron) || res.MessageID != got.MID {
				t.Errorf("result %+v, recorded MID %q", res, got.MID)
			}
			if (got.MID == "") != (tt.msg.SenderAction != "") || (got.MID != "" && !strings.HasPrefix(string(got.MID), "m_")) {
				t.Errorf("MID %q", got.MID)
			}
			got.At, got.MID = time.Time{}, ""
			if !sentEqual(got, tt.want) {
				t.Errorf("recorded\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// sentEqual compares SentMessages, attachments by value.
func sentEqual(a, b SentMessage) bool {
	aa, ba := a.Attachment, b.Attachment
	a.Attachment, b.Attachment = nil, nil
	if a != b || (aa == nil) != (ba == nil) {
		return false
	}
	return aa == nil || *aa == *ba
}

func TestSendAPIRawRequests(t *testing.T) {
	r := newRig(t, false)
	long := strings.Repeat("ü", messenger.MaxTextLength+1)
	tests := []struct {
		name    string
		path    string
		auth    string
		body    string
		status  int
		code    int
		message string // prefix
	}{
		{"access_token parameter", "/v21.0/" + string(pageA) + "/messages?access_token=" + tokenA, "",
			`{"recipient":{"id":"2894771000000001"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`, 200, 0, ""},
		{"numeric recipient id", "/v19.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":2894771000000001},"messaging_type":"UPDATE","message":{"text":"hi"}}`, 200, 0, ""},
		{"no token", "/v21.0/" + string(pageA) + "/messages", "",
			`{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`, 400, 190, "Invalid OAuth access token"},
		{"bad version", "/latest/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{}`, 400, 2500, "Unknown path components"},
		{"bad JSON", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":`, 400, 100, "(#100)"},
		{"no recipient", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"messaging_type":"RESPONSE","message":{"text":"hi"}}`, 400, 100, "(#100) The parameter recipient is required"},
		{"no messaging_type", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"message":{"text":"hi"}}`, 400, 100, "(#100) The parameter messaging_type is required"},
		{"text too long", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"text":"` + long + `"}}`, 400, 100, "(#100) Length of param message[text]"},
		{"tag missing", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"messaging_type":"MESSAGE_TAG","message":{"text":"hi"}}`, 400, 100, "(#100) The parameter tag"},
		{"message and sender action", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"sender_action":"typing_on","message":{"text":"hi"}}`, 400, 100, "(#100) Cannot send both"},
		{"neither", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"messaging_type":"RESPONSE"}`, 400, 100, "(#100) Must send either"},
		{"empty text", "/v21.0/" + string(pageA) + "/messages", "Bearer " + tokenA,
			`{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"text":""}}`, 400, 100, "(#100) Param message must be non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, r.graph.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			var body struct {
				RecipientID string `json:"recipient_id"`
				MessageID   string `json:"message_id"`
				Error       *struct {
					Message   string `json:"message"`
					Type      string `json:"type"`
					Code      int    `json:"code"`
					FBTraceID string `json:"fbtrace_id"`
				} `json:"error"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if tt.status == 200 {
				if body.RecipientID != "2894771000000001" || !strings.HasPrefix(body.MessageID, "m_") {
					t.Errorf("success body %s", raw)
				}
				return
			}
			if body.Error == nil || body.Error.Code != tt.code || body.Error.Type != "OAuthException" ||
				body.Error.FBTraceID == "" || !strings.HasPrefix(body.Error.Message, tt.message) {
				t.Errorf("error body %s, want code %d message %q…", raw, tt.code, tt.message)
			}
		})
	}
	if n := len(r.st.Sent()); n != 2 {
		t.Errorf("Sent has %d messages, want the 2 accepted", n)
	}
}

func TestWaitSent(t *testing.T) {
	r := newRig(t, false)
	go func() {
		for i := 0; i < 3; i++ {
			// Pacing, not a wait for a result: the calls come while
			// WaitSent waits.
			time.Sleep(10 * time.Millisecond)
			_, _ = r.client.Send(context.Background(), tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, Text: "x"})
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sent, err := r.st.WaitSent(ctx, 3)
	if err != nil || len(sent) != 3 {
		t.Fatalf("WaitSent = %d messages, %v", len(sent), err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := r.st.WaitSent(short, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitSent for a 4th = %v, want DeadlineExceeded", err)
	}
}

func TestMaxSent(t *testing.T) {
	st := New(Config{MaxSent: 2, Pages: []Page{{ID: pageA, AccessToken: tokenA}}})
	for _, text := range []string{"one", "two", "three"} {
		st.record(SentMessage{Page: pageA, Recipient: patron, Text: text})
	}
	sent := st.Sent()
	if len(sent) != 2 || sent[0].Text != "two" || sent[1].Text != "three" {
		t.Fatalf("Sent = %+v, want the latest two", sent)
	}
	if got, err := st.WaitSent(context.Background(), 3); err != nil || len(got) != 2 {
		t.Fatalf("WaitSent(3) = %d, %v; want it to count all three", len(got), err)
	}
}
