package messenger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// HeaderBusinessUseCaseUsage is the Graph API header that reports rate-limit
// usage per business object, including estimated_time_to_regain_access.
const HeaderBusinessUseCaseUsage = "X-Business-Use-Case-Usage"

// GraphError is a Graph API error: a Send API call Facebook refused.
type GraphError struct {
	// HTTPStatus is the response's HTTP status code.
	HTTPStatus int
	// Message, Type, Code and Subcode are error.message, error.type,
	// error.code and error.error_subcode of Meta's error body. Code is 0
	// when the body was not a Graph error.
	Message string
	Type    string
	Code    int
	Subcode int
	// FBTraceID identifies the failed call for Meta's support.
	FBTraceID string
	// RetryAfter is how long Facebook says to wait before calling again:
	// the longer of the Retry-After header (on any status) and
	// estimated_time_to_regain_access of X-Business-Use-Case-Usage, at
	// most MaxRetryAfter; 0 when the answer says neither.
	RetryAfter time.Duration
	// Usage is what the answer's rate-limit headers report.
	Usage Usage
	// IsTransient is error.is_transient: Meta says a retry may succeed.
	IsTransient bool
	// UserMessage is error.error_user_msg, a message meant for people,
	// when Meta gives one.
	UserMessage string
}

// Error implements error. It never contains the access token.
func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "messenger: Graph API error (HTTP %d", e.HTTPStatus)
	if e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, "/%d", e.Subcode)
		}
	}
	if e.Type != "" {
		fmt.Fprintf(&b, ", %s", e.Type)
	}
	b.WriteString(")")
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", e.FBTraceID)
	}
	return b.String()
}

// Retryable reports whether the same call may succeed later: Meta's
// temporary and rate-limit codes (1, 2, -1, 4, 17, 32, 613, 1200,
// 80000–80014), errors Meta marks is_transient, and HTTP 5xx or 429
// answers without a Graph error code.
func (e *GraphError) Retryable() bool {
	if e.PageRestricted() {
		return false // for this message; the Page is told apart
	}
	switch e.Code {
	case 1, 2, -1, 4, 17, 32, 613, 1200:
		return true
	case 0:
		return e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests
	}
	return e.IsTransient || e.Throttle() != ThrottleNone
}

// PageRestricted reports whether Facebook has temporarily restricted the
// Page from sending messages (code 10, subcode 1893063), for example
// after reports of spam. The message is refused for good; later ones may
// go through once the restriction ends.
func (e *GraphError) PageRestricted() bool { return e.Code == 10 && e.Subcode == 1893063 }

// TokenInvalid reports whether the Page access token is invalid, expired or
// revoked (code 190).
func (e *GraphError) TokenInvalid() bool { return e.Code == 190 }

// OutsideWindow reports whether the message was refused because the patron's
// last message is older than the 24-hour messaging window (code 10, subcode
// 2018278).
func (e *GraphError) OutsideWindow() bool { return e.Code == 10 && e.Subcode == 2018278 }

// RecipientUnavailable reports whether the patron cannot be reached: code
// 551 ("This person isn't available right now") or 100/2018001 ("No
// matching user found").
func (e *GraphError) RecipientUnavailable() bool {
	return e.Code == 551 || (e.Code == 100 && e.Subcode == 2018001)
}

// wireGraphError is Meta's error body.
type wireGraphError struct {
	Error *struct {
		Message      string  `json:"message"`
		Type         string  `json:"type"`
		Code         flexInt `json:"code"`
		Subcode      flexInt `json:"error_subcode"`
		FBTraceID    string  `json:"fbtrace_id"`
		IsTransient  bool    `json:"is_transient"`
		ErrorUserMsg string  `json:"error_user_msg"`
	} `json:"error"`
}

// maxErrorSnippet is how much of a non-Graph error body goes into Message.
const maxErrorSnippet = 200

// parseGraphError makes a GraphError of a non-2xx response received at
// now. A body that is not a Graph error leaves Code 0 and a snippet of the
// body in Message.
func parseGraphError(status int, h http.Header, body []byte, now time.Time) *GraphError {
	u := ParseUsage(h, now)
	e := &GraphError{HTTPStatus: status, RetryAfter: u.Wait(), Usage: u}
	var w wireGraphError
	if err := json.Unmarshal(body, &w); err != nil || w.Error == nil {
		e.Message = snippet(body)
		return e
	}
	e.Message = w.Error.Message
	e.Type = w.Error.Type
	e.Code = int(w.Error.Code)
	e.Subcode = int(w.Error.Subcode)
	e.FBTraceID = w.Error.FBTraceID
	e.IsTransient = w.Error.IsTransient
	e.UserMessage = w.Error.ErrorUserMsg
	return e
}

// snippet is a short, printable excerpt of body for error messages.
func snippet(body []byte) string {
	body = bytes.TrimSpace(body)
	if !utf8.Valid(body) {
		return fmt.Sprintf("(%d bytes, not UTF-8)", len(body))
	}
	s := string(body)
	if utf8.RuneCountInString(s) > maxErrorSnippet {
		s = string([]rune(s)[:maxErrorSnippet]) + "…"
	}
	return strings.Join(strings.Fields(s), " ")
}
