package bridge

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// closeStreamOn makes the fake server close the stream after the body,
// as in TestPoisonEntryParked: the link comes back at once, except after
// the closes numbered in stayDown, after which it stays down and the
// close's number is sent on the channel returned (the daemon is then
// restarted by the test, as systemd would).
func (h *harness) closeStreamOn(body string, stayDown ...int32) <-chan int32 {
	down := make(chan int32, len(stayDown))
	h.setCloseOn(body)
	h.link.reconnect = func() {
		n := h.link.closes.Load()
		h.b.LinkChanged(false)
		if slices.Contains(stayDown, n) {
			down <- n
			return
		}
		h.link.setUp(true)
		h.b.LinkChanged(true)
	}
	return down
}

// setCloseOn changes the body after which the fake server closes the
// stream.
func (h *harness) setCloseOn(body string) {
	h.link.mu.Lock()
	h.link.closeOn = body
	h.link.mu.Unlock()
}

// awaitClose waits for the close the channel reports.
func awaitClose(t *testing.T, down <-chan int32, want int32) {
	t.Helper()
	select {
	case n := <-down:
		if n != want {
			t.Fatalf("the link stayed down after close %d, want %d", n, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the stream did not close a %d. time within 10s (%d closes)", want, want-1)
	}
}

// restartStopped starts the bridge again on the store, reopened, with
// the link up: the daemon restarted.
func (h *harness) restartStopped() {
	h.close()
	h.link.setUp(true)
	h.open()
	h.run()
}

// suspicionRecords reads the suspect_xmpp bucket: each record by the body
// of its outbox entry ("presence" for a presence, "gone <key>" when the
// outbox has none).
func suspicionRecords(t *testing.T, h *harness) map[string]suspicion {
	t.Helper()
	got := map[string]suspicion{}
	err := h.store.view(func(tx *store.Tx) error {
		out := tx.Bolt().Bucket(store.BucketToXMPP)
		return tx.Bolt().Bucket(store.BucketSuspectXMPP).ForEach(func(k, v []byte) error {
			var s suspicion
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("suspicion record %x: %w", k, err)
			}
			name := "gone " + hex.EncodeToString(k)
			if e := out.Get(k); e != nil {
				entry, err := tx.XMPPOutbox().Decode(e)
				if err != nil {
					return err
				}
				name = entry.Msg.Body
				if entry.Presence != nil {
					name = "presence"
				}
			}
			got[name] = s
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPoisonParkedAcrossRestarts: a poison entry that closed the stream
// once or twice before the daemon restarted (systemd restarting it after
// each close, say) is parked after the remaining closes, not after a
// whole new series: the suspicion and the strikes survive the restart,
// and nothing of them is left once the entries are confirmed or parked.
func TestPoisonParkedAcrossRestarts(t *testing.T) {
	for _, restartAfter := range [][]int32{{1}, {2}, {1, 2}} {
		t.Run(fmt.Sprint("restart after closes ", restartAfter), func(t *testing.T) {
			h := newHarness(t)
			down := h.closeStreamOn("poison", restartAfter...)
			now := h.clock.Now()
			var events []messenger.Event
			for i, text := range []string{"before", "poison", "after 1", "after 2"} {
				events = append(events, patronText("mid.p"+text, text, now.Add(time.Duration(i)*time.Millisecond)))
			}
			h.accept(events...)
			h.run()
			for _, n := range restartAfter {
				awaitClose(t, down, n)
				h.stop() // the owner records what it knows before it returns
				// The first close made suspects of all four and the
				// patron's presence, written in one batch; the presence
				// and "before", written alone next, are confirmed before
				// the poison's next close, which strikes it.
				want := map[string]suspicion{"presence": {Suspect: true}, "before": {Suspect: true},
					"poison": {Suspect: true}, "after 1": {Suspect: true}, "after 2": {Suspect: true}}
				if n == 2 {
					delete(want, "presence")
					delete(want, "before")
					want["poison"] = suspicion{Suspect: true, Strikes: 1}
				}
				if got := suspicionRecords(t, h); !maps.Equal(got, want) {
					t.Fatalf("recorded after close %d: %+v, want %+v", n, got, want)
				}
				h.restartStopped()
			}
			all := h.bodiesUntilParkNotice()
			waitFor(t, func() bool { return bucketLen(t, h, store.BucketToXMPP) == 0 })
			if n := h.link.closes.Load(); n != 1+poisonStrikes {
				t.Errorf("the stream closed %d times, want %d (written: %q)", n, 1+poisonStrikes, all)
			}
			last, tries := 0, 0
			for i, b := range all {
				if b == "poison" {
					last, tries = i, tries+1
				}
			}
			if tries != 1+poisonStrikes || all[0] != "before" {
				t.Errorf("written %q: the poison %d times", all, tries)
			}
			if got, want := all[last+1:], []string{"after 1", "after 2", parkNoticeText}; !slices.Equal(got, want) {
				t.Errorf("after the poison's last try the librarian got %q, want %q", got, want)
			}
			parked, err := h.store.Parked()
			if err != nil || len(parked) != 1 {
				t.Fatalf("parked = %+v, %v", parked, err)
			}
			if p := parked[0]; p.Reason != reasonStreamClosed || p.Failures != 1+poisonStrikes || p.Bytes != len("poison") {
				t.Errorf("parked entry %+v", p)
			}
			h.stop()
			if got := suspicionRecords(t, h); len(got) != 0 {
				t.Errorf("suspicion left once the entries are confirmed or parked: %+v", got)
			}
		})
	}
}

// TestPoisonSuspectConfirmedAfterRestart: a suspect with a strike, once
// confirmed after a restart (the server no longer minds it), leaves no
// record behind, and the restart needs no more closes.
func TestPoisonSuspectConfirmedAfterRestart(t *testing.T) {
	h := newHarness(t)
	down := h.closeStreamOn("flaky", 2)
	h.accept(patronText("mid.flaky", "flaky", h.clock.Now()))
	h.run()
	awaitClose(t, down, 2)
	h.stop()
	if got, want := suspicionRecords(t, h), map[string]suspicion{"flaky": {Suspect: true, Strikes: 1}}; !maps.Equal(got, want) {
		t.Fatalf("recorded before the restart: %+v, want %+v", got, want)
	}
	h.setCloseOn("")
	h.restartStopped()
	if m := h.link.next(t); m.Body != "flaky" {
		t.Fatalf("written after the restart: %+v", m)
	}
	h.settle(t) // the entry's removal committed
	if got := suspicionRecords(t, h); len(got) != 0 {
		t.Errorf("suspicion left once the suspect was confirmed: %+v", got)
	}
	h.stop()
	if got := suspicionRecords(t, h); len(got) != 0 {
		t.Errorf("suspicion recorded again at shutdown: %+v", got)
	}
	if n := h.link.closes.Load(); n != 2 {
		t.Errorf("the stream closed %d times, want the 2 before the restart", n)
	}
	for _, r := range h.records() {
		if r.MID == "mid.flaky" && r.State != StateSent {
			t.Errorf("the suspect's ledger record says %q, want %q", r.State, StateSent)
		}
	}
	if n, _ := h.b.ParkedCount(); n != 0 {
		t.Errorf("%d parked", n)
	}
}

// TestForgetClearsPoisonSuspects: forgetting the patron removes the
// suspicion recorded against their queued messages with the messages, and
// nothing records it again.
func TestForgetClearsPoisonSuspects(t *testing.T) {
	h := newHarness(t)
	down := h.closeStreamOn("poison", 1)
	now := h.clock.Now()
	h.accept(patronText("mid.f1", "before", now), patronText("mid.f2", "poison", now.Add(time.Millisecond)))
	h.run()
	awaitClose(t, down, 1)
	for _, body := range []string{"before", "poison"} { // written before the close
		if m := h.link.next(t); m.Body != body {
			t.Fatalf("written %q, want %q", m.Body, body)
		}
	}
	want := map[string]suspicion{"presence": {Suspect: true}, "before": {Suspect: true}, "poison": {Suspect: true}}
	waitFor(t, func() bool { return maps.Equal(suspicionRecords(t, h), want) })
	if _, err := h.b.Forget(testPSID); err != nil {
		t.Fatal(err)
	}
	if got := suspicionRecords(t, h); len(got) != 0 {
		t.Fatalf("suspicion left after forget: %+v", got)
	}
	// Another patron's message goes out, in a link that stays up.
	h.setCloseOn("")
	h.link.setUp(true)
	h.b.LinkChanged(true)
	other := patronText("mid.o1", "someone else", now.Add(2*time.Millisecond))
	other.Patron = "2066835436691078"
	h.accept(other)
	for m := h.link.next(t); m.Body != "someone else"; m = h.link.next(t) {
		if m.Body == "before" || m.Body == "poison" {
			t.Fatalf("a forgotten message was written: %+v", m)
		}
	}
	h.settle(t)
	h.stop()
	if got := suspicionRecords(t, h); len(got) != 0 {
		t.Errorf("suspicion recorded again after forget: %+v", got)
	}
}

// TestPoisonSuspicionLeftBehind: a record whose entry is no longer in the
// outbox (an older release, which knows nothing of them, confirmed it) is
// removed when the bridge starts, and puts nothing on probation.
func TestPoisonSuspicionLeftBehind(t *testing.T) {
	h := newHarness(t)
	err := h.store.update(func(tx *store.Tx) error {
		return putJSON(tx.Bolt().Bucket(store.BucketSuspectXMPP), store.U64(999), suspicion{Suspect: true, Strikes: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	waitFor(t, func() bool { return len(suspicionRecords(t, h)) == 0 })
	now := h.clock.Now()
	h.accept(patronText("mid.l1", "one", now), patronText("mid.l2", "two", now.Add(time.Millisecond)))
	for _, want := range []string{"one", "two"} {
		if m := h.link.next(t); m.Body != want {
			t.Fatalf("written %q, want %q", m.Body, want)
		}
	}
	h.settle(t)
}
