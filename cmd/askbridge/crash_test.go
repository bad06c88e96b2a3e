package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/internal/testenv"
)

// TestCrashOnTheWayIn kills the daemon with SIGKILL at each point of a
// patron message's path. Every webhook answered 200 must reach the
// librarian after the restart, exactly once and in order; webhooks that
// were not answered are retried (as Facebook does) and also arrive once.
//
// A stanza written on the stream and killed before its removal commits is
// written again after the restart: that much no daemon can avoid, so no
// kill may fall there. Each POST waits until the message before it has
// left the outboxes (askbridge_outbox_depth reads 0 only once the store
// holds nothing and the XMPP owner has let go of what it removed); the
// inbox and dispatch points fire within their commit, before the owner is
// handed anything; and the stanzas one transaction queued (a new
// session's presence and its message) leave in one removal commit, so an
// after-xmpp-commit kill never falls between the two.
func TestCrashOnTheWayIn(t *testing.T) {
	r := newRig(t)
	for i, point := range []string{crashpoint.AfterInboxCommit, crashpoint.AfterDispatch, crashpoint.AfterXMPPCommit} {
		t.Run(point, func(t *testing.T) {
			r.t = t
			psid := newPSID()
			const n = 6
			var bodies [][]byte
			for k := 0; k < n; k++ {
				bodies = append(bodies, patronBody(psid, fmt.Sprintf("mid.%d.%d", i, k), fmt.Sprintf("%s message %d", point, k), time.Now().UnixMilli()+int64(k)))
			}
			r.start(point + ":2")
			acked := map[int]bool{}
			for k, b := range bodies {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				status, err := r.Facebook.PostSigned(ctx, b)
				cancel()
				if err == nil && status == 200 {
					acked[k] = true
				}
				// One POST, one dispatch, one drain at a time, so that the
				// kill cuts between them: the next POST waits until this
				// one's message left the outboxes, or the daemon died.
				r.waitSettled()
			}
			r.waitKilled()
			if len(acked) == 0 || len(acked) == n {
				t.Fatalf("%d of %d webhooks acknowledged: the crash did not cut the stream", len(acked), n)
			}
			r.start("")
			// Facebook retries what was not acknowledged, and may deliver
			// the rest again too.
			for _, b := range bodies {
				if status, err := r.Facebook.PostSigned(context.Background(), b); err != nil || status != 200 {
					t.Fatalf("redelivery: %d %v", status, err)
				}
			}
			got := r.collectAll(n)
			var order []string
			count := map[string]int{}
			for _, m := range got {
				count[m.Body]++
				order = append(order, m.Body)
			}
			for k := 0; k < n; k++ {
				text := fmt.Sprintf("%s message %d", point, k)
				if count[text] != 1 {
					t.Errorf("%q arrived %d times (acknowledged before the crash: %v)", text, count[text], acked[k])
				}
			}
			for k := 1; k < len(order); k++ {
				if order[k] < order[k-1] {
					t.Errorf("out of order: %v", order)
					break
				}
			}
			t.Logf("%s: %d of %d acknowledged before the kill; %d delivered after restart, %d duplicates",
				point, len(acked), n, len(got), len(got)-len(count))
			r.stop()
		})
	}
}

// TestCrashOnTheWayOut kills the daemon at each point of a librarian's
// reply: a reply the daemon accepted reaches the Send API after the
// restart, once — even when Facebook had accepted it just before the kill
// (the echo of its metadata shows it went through).
func TestCrashOnTheWayOut(t *testing.T) {
	r := newRig(t)
	for _, point := range []string{crashpoint.AfterReplyStored, crashpoint.BeforeSendAPI, crashpoint.AfterSendAPI} {
		t.Run(point, func(t *testing.T) {
			r.t = t
			psid := newPSID()
			before := len(r.Facebook.Sent())
			r.start(point)
			if _, err := r.Facebook.PatronSays(context.Background(), testenv.PageID, messengerPSID(psid), "question"); err != nil {
				t.Fatal(err)
			}
			r.collect(1)
			if _, err := r.lib.SendChat(psid+"@"+testenv.ComponentDomain, "reply across "+point); err != nil {
				t.Fatal(err)
			}
			r.waitKilled()
			r.start("")
			r.waitDrained()
			if _, err := r.lib.SendChat(psid+"@"+testenv.ComponentDomain, "after restart"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := r.Facebook.WaitSent(ctx, before+2); err != nil {
				t.Fatalf("Send API calls: %v (%d)", err, len(r.Facebook.Sent())-before)
			}
			r.waitDrained()
			var texts []string
			for _, m := range r.Facebook.Sent()[before:] {
				if string(m.Recipient) == psid {
					texts = append(texts, m.Text)
				}
			}
			want := []string{"reply across " + point, "after restart"}
			if strings.Join(texts, "|") != strings.Join(want, "|") {
				t.Errorf("Send API got %q, want %q", texts, want)
			}
			r.stop()
		})
	}
}

// TestGracefulShutdown: SIGTERM stops the daemon within 10 s with exit
// status 0, and nothing it acknowledged is lost.
func TestGracefulShutdown(t *testing.T) {
	r := newRig(t)
	r.start("")
	psid := newPSID()
	for k := 0; k < 20; k++ {
		if status, err := r.Facebook.PostSigned(context.Background(), patronBody(psid, fmt.Sprintf("mid.term.%d", k), fmt.Sprintf("term %02d", k), time.Now().UnixMilli()+int64(k))); err != nil || status != 200 {
			t.Fatalf("post %d: %d %v", k, status, err)
		}
	}
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon still running 10s after SIGTERM")
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	r.start("")
	got := r.collectAll(20)
	if len(got) != 20 {
		t.Errorf("delivered %d messages for 20 acknowledged", len(got))
	}
}

// stop ends the daemon with SIGTERM and waits.
func (r *rig) stop() {
	r.t.Helper()
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		r.t.Fatal("daemon did not stop")
	}
}
