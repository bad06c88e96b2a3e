package main

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

// TestReplyCounter: replies are matched by their token, timed from their
// send, and counted as lost, duplicated or reordered per patron; other
// calls are not counted.
func TestReplyCounter(t *testing.T) {
	tl := newTimeline(5)
	start := time.Unix(1768000000, 0)
	for seq := range int64(5) {
		tl.sent(seq, start.Add(time.Duration(seq)*time.Second))
	}
	c := newReplyCounter("abcd", tl, true, false)
	at := func(seq int64, ms int) time.Time {
		return start.Add(time.Duration(seq)*time.Second + time.Duration(ms)*time.Millisecond)
	}
	for _, m := range []standin.SentMessage{
		{Recipient: "7000001000000001", Text: replyBody("abcd", 0), At: at(0, 2)},
		{Recipient: "7000001000000001", Text: replyBody("abcd", 2), At: at(2, 4)},
		{Recipient: "7000001000000001", Text: replyBody("abcd", 1), At: at(1, 3)}, // overtaken by 2
		{Recipient: "7000001000000002", Text: replyBody("abcd", 3), At: at(3, 1)},
		{Recipient: "7000001000000002", Text: replyBody("abcd", 3), At: at(3, 9)}, // a second copy
		{Recipient: "7000001000000002", Text: replyBody("ffff", 4), At: at(4, 1)}, // another phase's
		{Recipient: "7000001000000002", SenderAction: messenger.SenderActionTypingOff, At: at(4, 1)},
		{Recipient: "7000001000000002", Text: replyBody("abcd", 99), At: at(4, 1)}, // out of range
	} {
		c.sent(m)
	}
	written := make([]atomic.Bool, 5)
	for i := range written {
		written[i].Store(true)
	}
	var p PhaseResult
	c.fill(&p, written)
	if p.Received != 4 || p.Duplicated != 1 || p.Reordered != 1 || p.Lost != 1 {
		t.Errorf("received %d, duplicated %d, reordered %d, lost %d; want 4, 1, 1, 1", p.Received, p.Duplicated, p.Reordered, p.Lost)
	}
	if want := (Percentiles{N: 4, P50: 2, P90: 4, P99: 4, Max: 4}); p.E2ELatency != want {
		t.Errorf("latency %+v, want %+v", p.E2ELatency, want)
	}
	if n := c.foreignCalls(); n != 3 {
		t.Errorf("foreign calls %d, want 3", n)
	}
	// From the first send (seq 0) to the last first arrival (seq 3 at 3.001 s).
	if p.Seconds != 3.001 || p.E2EPerSec != round3(4/3.001) {
		t.Errorf("seconds %v, rate %v", p.Seconds, p.E2EPerSec)
	}
}

// TestReplyCounterAwait: in a closed loop a sender learns when its reply
// has arrived.
func TestReplyCounterAwait(t *testing.T) {
	tl := newTimeline(2)
	tl.sent(0, time.Now())
	c := newReplyCounter("abcd", tl, true, true)
	c.sent(standin.SentMessage{Recipient: "7000001000000001", Text: replyBody("abcd", 0), At: time.Now()})
	c.sent(standin.SentMessage{Recipient: "7000001000000001", Text: replyBody("abcd", 0), At: time.Now()}) // no second close
	if !c.await(context.Background(), 0, time.Minute) {
		t.Error("await of an arrived reply = false")
	}
	if c.await(context.Background(), 1, time.Millisecond) {
		t.Error("await of a reply that never came = true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c.await(ctx, 1, time.Minute) {
		t.Error("await after ctx ended = true")
	}
}

func TestRepliesFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Phases, ",") != "prosody,webhook,bolt,bridge" {
		t.Errorf("default phases %v: the replies phase is not one of them", o.Phases)
	}
	for _, c := range []struct {
		args []string
		rate float64
	}{
		{[]string{"-phases", "replies"}, 100},
		{[]string{"-phases", "replies", "-rate", "0"}, 0},
		{[]string{"-phases", "replies,bridge", "-rate", "250"}, 250},
		{[]string{"-phases", "replies", "-rate", "0", "-reply-rate", "50"}, 50},
	} {
		o, err := parseFlags(c.args)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if o.ReplyRate != c.rate || o.Replies != 6000 || o.Phases[len(o.Phases)-1] != phaseReplies {
			t.Errorf("%v: reply rate %v, replies %d, phases %v", c.args, o.ReplyRate, o.Replies, o.Phases)
		}
	}
	for _, args := range [][]string{
		{"-phases", "replies", "-replies", "0"},
		{"-phases", "replies", "-reply-rate", "-1"},
		{"-phases", "replies", "-webhook-url", "http://127.0.0.1:1/webhook", "-c2s", "127.0.0.1:2", "-receiver", "q@x", "-receiver-password", "p"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestRepliesReport: the replies phase prints its own lines and keeps its
// figures in the medians and the JSON.
func TestRepliesReport(t *testing.T) {
	p := &PhaseResult{Phase: phaseReplies, Throughput: 99.5, Seconds: 60, Conversations: 256, EventsSent: 6000, Received: 6000,
		E2ELatency: Percentiles{N: 6000, P50: 3, P90: 5, P99: 18, Max: 40}, CPUPerMsg: map[string]float64{"daemon": 900},
		HTTPErrors: map[string]int{}}
	var buf bytes.Buffer
	writeHuman(&buf, "[round 1]", p)
	out := buf.String()
	for _, want := range []string{"askbridge replies", "100 replies/s", "256 conversations", "p99 18.00", "sent 6000 replies, received 6000", "CPU µs/reply: daemon 900"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	med := medianPhases([]Round{{Phases: map[string]*PhaseResult{phaseReplies: p}}})
	if m := med[phaseReplies]; m == nil || m.Conversations != 256 || m.E2ELatency.P99 != 18 {
		t.Errorf("median = %+v", m)
	}
}

func TestTrouble(t *testing.T) {
	for _, c := range []struct {
		m    jabberclient.Received
		want string
	}{
		{jabberclient.Received{Type: "error", ErrorCondition: "forbidden", Body: "lr abcd 1"}, "stanza forbidden"},
		{jabberclient.Received{Type: "error"}, "stanza error"},
		{jabberclient.Received{Type: "chat", Body: "[askbridge] Not delivered: outside the 24-hour window"}, "bridge notice"},
		{jabberclient.Received{Type: "chat", Body: "lg ffff 3"}, ""},
	} {
		if got := trouble(c.m); got != c.want {
			t.Errorf("trouble(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}
