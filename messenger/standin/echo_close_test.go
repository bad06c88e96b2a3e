package standin

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestCloseStopsEchoRetries: an echo the bridge cannot take is retried
// until Close, which returns once nothing is being posted any more.
func TestCloseStopsEchoRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/webhook"
	ln.Close() // nobody listens: every post fails
	s := New(Config{AppID: "1", AppSecret: "s", WebhookURL: url, Echoes: true,
		Pages: []Page{{ID: "42", AccessToken: "tok"}}})
	s.queueEcho(SentMessage{Page: "42", Recipient: "7", Text: "hi", MID: "m_1", At: time.Now()})
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the echo retries")
	}
	s.queueEcho(SentMessage{Page: "42", Recipient: "7", Text: "after", MID: "m_2", At: time.Now()})
	if _, err := s.PostSigned(context.Background(), []byte(`{}`)); err == nil {
		t.Error("the webhook was reachable")
	}
	s.mu.Lock()
	n := len(s.echoQueue)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d echoes queued after Close", n)
	}
}
