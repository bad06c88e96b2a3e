package standin

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// sentLog collects what Config.OnSent reports.
type sentLog struct {
	mu   sync.Mutex
	msgs []SentMessage
}

func (l *sentLog) add(m SentMessage) {
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	l.mu.Unlock()
}

func (l *sentLog) snapshot() []SentMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]SentMessage(nil), l.msgs...)
}

// newHooked starts a stand-in whose OnSent writes to a sentLog, and a
// Send API client for it.
func newHooked(t *testing.T) (*Server, *sentLog, *messenger.Client) {
	t.Helper()
	log := &sentLog{}
	st := New(Config{AppID: testAppID, AppSecret: testSecret, OnSent: log.add,
		Pages: []Page{{ID: pageA, Name: "Central Library", AccessToken: tokenA}}})
	t.Cleanup(st.Close)
	srv := httptest.NewServer(st.Handler())
	t.Cleanup(srv.Close)
	return st, log, messenger.NewClient(srv.URL, "v21.0", srv.Client())
}

// TestOnSent: the hook sees each accepted call, as Sent records it, before
// the caller has its answer; never a refused call.
func TestOnSent(t *testing.T) {
	st, log, client := newHooked(t)
	ctx := context.Background()
	calls := []struct {
		name   string
		token  string
		before func() // arranges a refusal
		msg    messenger.OutgoingMessage
		accept bool
	}{
		{name: "text", token: tokenA, msg: messenger.OutgoingMessage{Recipient: patron, Text: "We open at 10.", Metadata: "ab:1"}, accept: true},
		{name: "sender action", token: tokenA, msg: messenger.OutgoingMessage{Recipient: patron, SenderAction: messenger.SenderActionTypingOn}, accept: true},
		{name: "unknown token", token: "EAAG-guess", msg: messenger.OutgoingMessage{Recipient: patron, Text: "x"}},
		{name: "FailNext", token: tokenA, msg: messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			before: func() {
				st.FailNext(pageA, messenger.GraphError{Code: 2, Message: "(#2) Service temporarily unavailable"})
			}},
		{name: "throttled", token: tokenA, msg: messenger.OutgoingMessage{Recipient: patron, Text: "x"},
			before: func() { st.StartThrottle(Throttle{Page: pageA, For: time.Hour, Code: 32}) }},
		{name: "after the throttle", token: tokenA, msg: messenger.OutgoingMessage{Recipient: patron, Text: "again"}, accept: true,
			before: func() { st.StopThrottle(pageA) }},
	}
	accepted := 0
	for _, c := range calls {
		if c.before != nil {
			c.before()
		}
		res, err := client.Send(ctx, c.token, pageA, c.msg)
		if c.accept != (err == nil) {
			t.Fatalf("%s: Send = %+v, %v", c.name, res, err)
		}
		if c.accept {
			accepted++
		}
		// No wait: the hook has returned before the answer was written.
		got := log.snapshot()
		if len(got) != accepted {
			t.Fatalf("%s: OnSent called %d times, want %d", c.name, len(got), accepted)
		}
		if !c.accept {
			continue
		}
		last, sent := got[len(got)-1], st.Sent()
		if rec := sent[len(sent)-1]; !sentEqual(last, rec) {
			t.Errorf("%s: OnSent got\n %+v\nSent recorded\n %+v", c.name, last, rec)
		}
		if last.Text != c.msg.Text || last.SenderAction != c.msg.SenderAction || last.MID != res.MessageID || last.At.IsZero() {
			t.Errorf("%s: OnSent got %+v for %+v answered %+v", c.name, last, c.msg, res)
		}
	}
}

// TestOnSentConcurrent: concurrent calls each reach the hook once.
func TestOnSentConcurrent(t *testing.T) {
	_, log, client := newHooked(t)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := client.Send(context.Background(), tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, Text: fmt.Sprintf("reply %d", i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, m := range log.snapshot() {
		seen[m.Text]++
	}
	for i := range n {
		if k := fmt.Sprintf("reply %d", i); seen[k] != 1 {
			t.Errorf("%q reached OnSent %d times", k, seen[k])
		}
	}
	if len(seen) != n {
		t.Errorf("OnSent saw %d texts, want %d", len(seen), n)
	}
}
