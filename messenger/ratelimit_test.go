package messenger

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"8", 8 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"86400", MaxRetryAfter, true},
		{"184467440737095516160", MaxRetryAfter, true},            // beyond uint64
		{"Wed, 21 Oct 2026 07:28:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Wednesday, 21-Oct-26 07:29:00 GMT", time.Minute, true},  // RFC 850
		{"Wed Oct 21 07:28:05 2026", 5 * time.Second, true},       // asctime
		{"Wed, 21 Oct 2026 07:00:00 GMT", 0, true},                // in the past
		{"Thu, 22 Oct 2026 07:28:00 GMT", MaxRetryAfter, true},    // capped
		{"", 0, false},
		{"-5", 0, false},
		{"8.5", 0, false},
		{"8s", 0, false},
		{"soon", 0, false},
		{"Wed, 32 Oct 2026 07:28:30 GMT", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRetryAfterUsageHeaders(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		header http.Header
		want   Usage
	}{
		{"none", http.Header{}, Usage{}},
		{"app usage", http.Header{HeaderAppUsage: {`{"call_count":28,"total_time":96,"total_cputime":12}`}}, Usage{App: 96}},
		{"page usage", http.Header{HeaderPageUsage: {`{"call_count":91,"total_time":2,"total_cputime":3}`}}, Usage{Page: 91}},
		{"business use case", http.Header{HeaderBusinessUseCaseUsage: {`{"510249619162304":[{"type":"messenger","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":3},{"type":"pages","call_count":40,"total_cputime":97,"total_time":1,"estimated_time_to_regain_access":0}],"2":[{"type":"pages","call_count":1,"estimated_time_to_regain_access":7}]}`}},
			Usage{Page: 100, RegainAccess: 7 * time.Minute}},
		{"regain capped", http.Header{HeaderBusinessUseCaseUsage: {`{"1":[{"call_count":100,"estimated_time_to_regain_access":100000}]}`}},
			Usage{Page: 100, RegainAccess: MaxRetryAfter}},
		{"retry after", http.Header{HeaderRetryAfter: {"8"}}, Usage{RetryAfter: 8 * time.Second}},
		{"garbage", http.Header{HeaderAppUsage: {"not json"}, HeaderBusinessUseCaseUsage: {`{"1":{}}`}, HeaderRetryAfter: {"later"}}, Usage{}},
	}
	for _, tt := range tests {
		if got := ParseUsage(tt.header, now); got != tt.want {
			t.Errorf("%s: ParseUsage = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if _, err := ParseAppUsage("{"); err == nil {
		t.Error("ParseAppUsage of broken JSON: no error")
	}
	if _, _, err := ParseBusinessUseCaseUsage("[]"); err == nil {
		t.Error("ParseBusinessUseCaseUsage of a list: no error")
	}
}

// TestRetryAfterOnEveryStatus checks that Retry-After reaches
// GraphError.RetryAfter whatever the status, and that the longer of it
// and estimated_time_to_regain_access wins.
func TestRetryAfterOnEveryStatus(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		header http.Header
		retry  time.Duration
		scope  ThrottleScope
	}{
		{"429 without a Graph body", 429, "Too Many Requests", http.Header{HeaderRetryAfter: {"8"}}, 8 * time.Second, ThrottlePage},
		{"503 with a date", 503, "unavailable", http.Header{HeaderRetryAfter: {time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}}, 90 * time.Second, ThrottleApp},
		{"503 without Retry-After", 503, "unavailable", http.Header{}, 0, ThrottleNone},
		{"400 app limit", 400, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"A"}}`,
			http.Header{HeaderRetryAfter: {"30"}, HeaderAppUsage: {`{"call_count":100}`}}, 30 * time.Second, ThrottleApp},
		{"403 Page limit, BUC longer", 403, `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32,"fbtrace_id":"B"}}`,
			http.Header{HeaderRetryAfter: {"30"}, HeaderBusinessUseCaseUsage: {`{"1":[{"call_count":100,"estimated_time_to_regain_access":2}]}`}}, 2 * time.Minute, ThrottlePage},
		{"Messenger BUC limit", 400, `{"error":{"message":"(#80006) There have been too many messenger api calls to this Page account.","type":"OAuthException","code":80006,"fbtrace_id":"C"}}`,
			http.Header{}, 0, ThrottlePage},
		{"613", 400, `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}}`, http.Header{}, 0, ThrottlePage},
		{"not a limit", 400, `{"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001}}`,
			http.Header{HeaderRetryAfter: {"5"}}, 5 * time.Second, ThrottleNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&graphFake{status: tt.status, body: tt.body, header: tt.header})
			defer srv.Close()
			_, err := NewClient(srv.URL, "v25.0", nil).Send(context.Background(), "EAAtoken", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
			var ge *GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("Send = %v, want *GraphError", err)
			}
			// An HTTP-date has one-second resolution.
			if d := ge.RetryAfter - tt.retry; d > 0 || d < -time.Second {
				t.Errorf("RetryAfter = %v, want %v", ge.RetryAfter, tt.retry)
			}
			if got := ge.Throttle(); got != tt.scope {
				t.Errorf("Throttle() = %v, want %v", got, tt.scope)
			}
			if tt.scope != ThrottleNone && !ge.Retryable() {
				t.Error("a rate limit is not retryable")
			}
		})
	}
}

// TestRetryAfterUsageOnSuccess checks that a successful answer reports
// its usage headers.
func TestRetryAfterUsageOnSuccess(t *testing.T) {
	srv := httptest.NewServer(&graphFake{status: 200, body: `{"recipient_id":"2","message_id":"m.1"}`,
		header: http.Header{HeaderAppUsage: {`{"call_count":95,"total_time":1,"total_cputime":1}`}}})
	defer srv.Close()
	res, err := NewClient(srv.URL, "v25.0", nil).Send(context.Background(), "EAAtoken", "1", OutgoingMessage{Recipient: "2", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.App != 95 {
		t.Errorf("usage %+v", res.Usage)
	}
}
