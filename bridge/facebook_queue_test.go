package bridge

import (
	"slices"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// TestSequencer: hand-overs arriving past a gap wait for the earlier one,
// then come out in sequence order; one below what was taken says the
// bucket must be read again; a gap is overdue after gapWait.
func TestSequencer(t *testing.T) {
	var s sequencer[int]
	s.reset(5)
	t0 := time.Unix(1000, 0)
	if got, stale := s.admit(7, 7, t0); got != nil || stale {
		t.Fatalf("7 before 5 and 6: %v %v", got, stale)
	}
	if got, _ := s.admit(6, 6, t0); got != nil {
		t.Fatalf("6 before 5: %v", got)
	}
	if !s.gap() || s.overdue(t0.Add(gapWait)) || !s.overdue(t0.Add(gapWait+time.Millisecond)) {
		t.Error("gap not reported as waiting, or overdue at the wrong time")
	}
	if got, _ := s.admit(5, 5, t0); !slices.Equal(got, []int{5, 6, 7}) {
		t.Errorf("5 came: %v, want [5 6 7]", got)
	}
	if s.gap() {
		t.Error("a gap is left after it closed")
	}
	if got, stale := s.admit(6, 6, t0); got != nil || !stale {
		t.Errorf("6 again: %v stale=%v, want stale", got, stale)
	}
	if got, _ := s.admit(8, 8, t0); !slices.Equal(got, []int{8}) {
		t.Errorf("8 in order: %v", got)
	}
}

// TestForgetWhileReplyWaits: a patron forgotten while their reply waits
// for a retry gets no call for it, and their conversation's sender ends;
// another patron's reply goes on.
func TestForgetWhileReplyWaits(t *testing.T) {
	h := newHarness(t)
	h.fakeTimers = true
	h.close()
	h.open() // with the bridge's Facebook waits on h.clock
	h.run()
	const other = "2066835436691078"
	h.accept(patronText("mid.w1", "question", h.clock.Now()),
		messenger.Event{Kind: messenger.KindMessage, Page: testPage, Patron: other, Time: h.clock.Now(), MID: "mid.w2", Text: "me too"})
	h.link.next(t)
	h.link.next(t)
	h.api.failWith(errTransport)
	h.replyTo(testPSID, "to be forgotten")
	waitFor(t, func() bool { return h.api.callCount() == 1 && len(h.clock.waiting()) == 1 })
	if n, err := h.b.Forget(testPSID); err != nil || n == 0 {
		t.Fatalf("Forget: %d %v", n, err)
	}
	h.replyTo(other, "for the other patron")
	if m := h.api.next(t); m.Recipient != other {
		t.Fatalf("first call delivered: %+v, want the other patron's reply", m)
	}
	h.clock.Advance(retryMax)
	waitFor(t, func() bool { return h.b.fq.convs.Load() == 0 })
	if n := h.api.callCount(); n != 2 {
		t.Errorf("%d Send API calls, want 2: the failed one and the other patron's", n)
	}
}
