package messenger

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestGraphErrorClasses(t *testing.T) {
	tests := []struct {
		e                           GraphError
		retry, token, window, unavl bool
	}{
		{e: GraphError{HTTPStatus: 400, Code: 1}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 2}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: -1}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 4}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 17}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 32}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 613}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 1200}, retry: true},
		{e: GraphError{HTTPStatus: 503}, retry: true},
		{e: GraphError{HTTPStatus: 429}, retry: true},
		{e: GraphError{HTTPStatus: 400}},
		{e: GraphError{HTTPStatus: 404}},
		{e: GraphError{HTTPStatus: 400, Code: 100, IsTransient: true}, retry: true},
		{e: GraphError{HTTPStatus: 400, Code: 100}},
		{e: GraphError{HTTPStatus: 400, Code: 100, Subcode: 2018001}, unavl: true},
		{e: GraphError{HTTPStatus: 400, Code: 551, Subcode: 1545041}, unavl: true},
		{e: GraphError{HTTPStatus: 400, Code: 190, Subcode: 460}, token: true},
		{e: GraphError{HTTPStatus: 500, Code: 190}, token: true},
		{e: GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278}, window: true},
		{e: GraphError{HTTPStatus: 400, Code: 10}},
		{e: GraphError{HTTPStatus: 400, Code: 200, Subcode: 2018278}},
		{e: GraphError{HTTPStatus: 400, Code: 10, Subcode: 1893063}},
		{e: GraphError{HTTPStatus: 400, Code: 10, Subcode: 1893063, IsTransient: true}}, // refused for this message all the same
	}
	for _, tt := range tests {
		e := tt.e
		if e.Retryable() != tt.retry || e.TokenInvalid() != tt.token || e.OutsideWindow() != tt.window || e.RecipientUnavailable() != tt.unavl {
			t.Errorf("%+v: Retryable %v TokenInvalid %v OutsideWindow %v RecipientUnavailable %v; want %v %v %v %v",
				e, e.Retryable(), e.TokenInvalid(), e.OutsideWindow(), e.RecipientUnavailable(), tt.retry, tt.token, tt.window, tt.unavl)
		}
	}
}

func TestPageRestricted(t *testing.T) {
	if !(&GraphError{Code: 10, Subcode: 1893063}).PageRestricted() || (&GraphError{Code: 10, Subcode: 2018278}).PageRestricted() {
		t.Error("PageRestricted misclassifies")
	}
}

func TestGraphErrorText(t *testing.T) {
	e := &GraphError{HTTPStatus: 400, Type: "OAuthException", Code: 10, Subcode: 2018278, Message: "(#10) outside window", FBTraceID: "Ax"}
	want := "messenger: Graph API error (HTTP 400, code 10/2018278, OAuthException): (#10) outside window [fbtrace_id Ax]"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if got := (&GraphError{HTTPStatus: 502}).Error(); got != "messenger: Graph API error (HTTP 502)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseGraphErrorSnippet(t *testing.T) {
	long := strings.Repeat("x", 1000)
	e := parseGraphError(502, http.Header{}, []byte(long), time.Now())
	if e.Code != 0 || e.HTTPStatus != 502 || len([]rune(e.Message)) != maxErrorSnippet+1 {
		t.Errorf("got %+v (message %d runes)", e, len([]rune(e.Message)))
	}
	e = parseGraphError(500, http.Header{}, []byte{0xff, 0xfe}, time.Now())
	if e.Message != "(2 bytes, not UTF-8)" {
		t.Errorf("message %q", e.Message)
	}
}
