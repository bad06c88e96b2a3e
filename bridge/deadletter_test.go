package bridge

import (
	"bytes"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestPoisonEntryParked: an entry after which the server closes the stream
// each time is parked after the repeated failures; the others go on in
// order, the librarian is told, the metric counts it, and the administrator
// can list, requeue and drop it.
func TestPoisonEntryParked(t *testing.T) {
	h := newHarness(t)
	h.link.closeOn = "poison"
	h.link.reconnect = func() {
		h.b.LinkChanged(false)
		h.link.setUp(true)
		h.b.LinkChanged(true)
	}
	now := h.clock.Now()
	var events []messenger.Event
	for i, text := range []string{"before", "poison", "after 1", "after 2"} {
		events = append(events, patronText("mid.p"+text, text, now.Add(time.Duration(i)*time.Millisecond)))
	}
	h.accept(events...)
	h.run()
	all := h.bodiesUntilParkNotice()
	waitFor(t, func() bool { return bucketLen(t, h, store.BucketToXMPP) == 0 })
	if n := h.link.closes.Load(); n != 1+poisonStrikes {
		t.Errorf("the stream closed %d times, want %d", n, 1+poisonStrikes)
	}
	// What was written with the poison before the first close is written
	// again (at least once); after the last try of the poison, the others
	// follow in order, and the notice.
	last, tries := 0, 0
	for i, b := range all {
		if b == "poison" {
			last, tries = i, tries+1
		}
	}
	if tries != 1+poisonStrikes || all[0] != "before" {
		t.Errorf("written %q: the poison %d times", all, tries)
	}
	got := all[last+1:]
	want := []string{"after 1", "after 2", parkNoticeText}
	if len(got) != len(want) {
		t.Fatalf("the librarian got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the librarian got %q, want %q", got, want)
		}
	}
	if v := counterValue(t, h.b.metrics.parked.WithLabelValues(reasonStreamClosed)); v != 1 {
		t.Errorf("askbridge_xmpp_parked_total{reason=stream_closed} = %v, want 1", v)
	}
	parked, err := h.store.Parked()
	if err != nil || len(parked) != 1 {
		t.Fatalf("parked = %+v, %v", parked, err)
	}
	p := parked[0]
	if p.Reason != reasonStreamClosed || p.Failures != 1+poisonStrikes || p.Kind != "message" || p.To != testQueue ||
		p.Bytes != len("poison") || p.Guest == "" {
		t.Errorf("parked entry %+v", p)
	}
	states := map[string]string{}
	for _, r := range h.records() {
		states[r.XMPPID] = r.State
	}
	if states[p.StanzaID] != StateParked {
		t.Errorf("ledger state of the parked message: %q", states[p.StanzaID])
	}
	if n, _ := h.b.ParkedCount(); n != 1 {
		t.Errorf("ParkedCount = %d", n)
	}

	// Requeued, it closes the stream again and is parked again, with no
	// second notice of the notice.
	if n, err := h.b.RequeueParked([]uint64{p.ID}); err != nil || n != 1 {
		t.Fatalf("requeue: %d, %v", n, err)
	}
	for m := h.link.next(t); m.Body != parkNoticeText; m = h.link.next(t) {
	}
	waitFor(t, func() bool { n, _ := h.b.ParkedCount(); return n == 1 })
	parked, _ = h.store.Parked()
	if n, err := h.store.DropParked([]uint64{parked[0].ID + 1000}); err != nil || n != 0 {
		t.Errorf("dropping an unknown id: %d, %v", n, err)
	}
	if n, err := h.store.DropParked(nil); err != nil || n != 1 {
		t.Fatalf("drop: %d, %v", n, err)
	}
	if n, _ := h.b.ParkedCount(); n != 0 {
		t.Errorf("after drop, %d parked", n)
	}
	for _, r := range h.records() {
		if r.XMPPID == p.StanzaID && r.State != StateFailed {
			t.Errorf("after drop the ledger says %q", r.State)
		}
	}
}

// TestTooLargeEntryParked: an entry the link refuses as too large (queued
// before xmpp.max_stanza_bytes was lowered, say) is parked at once, the
// librarian told, and the others go on; forgetting the patron removes it.
func TestTooLargeEntryParked(t *testing.T) {
	h := newHarness(t)
	h.link.tooLarge = "huge"
	now := h.clock.Now()
	h.accept(patronText("mid.t1", "huge", now), patronText("mid.t2", "small", now.Add(time.Millisecond)))
	h.run()
	var got []string
	for len(got) < 2 {
		if m := h.link.next(t); m.Body != "" {
			got = append(got, m.Body)
		}
	}
	if got[0] != "small" || got[1] != parkNoticeText {
		t.Fatalf("the librarian got %q", got)
	}
	waitFor(t, func() bool { n, _ := h.b.ParkedCount(); return n == 1 })
	if v := counterValue(t, h.b.metrics.parked.WithLabelValues(reasonTooLarge)); v != 1 {
		t.Errorf("askbridge_xmpp_parked_total{reason=too_large} = %v", v)
	}
	if n := h.link.closes.Load(); n != 0 {
		t.Errorf("the stream closed %d times", n)
	}
	// A deletion request removes the patron's parked messages too.
	if _, err := h.b.Forget(testPSID); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.b.ParkedCount(); n != 0 {
		t.Errorf("after forget, %d parked", n)
	}
}

// TestParkedEntriesExpire: a parked message nobody requeued is dropped
// with the PSIDs, 7 days later, so it does not keep the patron's ID.
func TestParkedEntriesExpire(t *testing.T) {
	h := newHarness(t)
	h.link.tooLarge = "huge"
	h.accept(patronText("mid.t1", "huge", h.clock.Now()))
	h.run()
	waitFor(t, func() bool { n, _ := h.b.ParkedCount(); return n == 1 })
	// Like the queues, the dead-letter bucket keeps its text sealed.
	err := h.store.view(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketParkedXMPP).ForEach(func(k, v []byte) error {
			if !store.IsSealed(v) || bytes.Contains(v, []byte("huge")) {
				t.Errorf("parked entry %x stored in the clear: %q", k, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := h.store.Parked(); err != nil || len(list) != 1 || list[0].Bytes != len("huge") {
		t.Errorf("parked list %+v, %v", list, err)
	}
	h.clock.Advance(6 * 24 * time.Hour)
	if res, err := h.b.Purge(false); err != nil || res.Parked != 0 {
		t.Fatalf("after 6 days: %+v, %v", res, err)
	}
	h.clock.Advance(25 * time.Hour)
	res, err := h.b.Purge(false)
	if err != nil || res.Parked != 1 {
		t.Fatalf("after 7 days: %+v, %v", res, err)
	}
	if n, _ := h.b.ParkedCount(); n != 0 {
		t.Errorf("%d still parked", n)
	}
	for _, r := range h.records() {
		if r.MID == "mid.t1" && r.State != StateFailed {
			t.Errorf("the dropped message's record says %q", r.State)
		}
	}
}

// bodiesUntilParkNotice collects the bodies of the messages written on the
// link, up to and with the notice that an entry was parked.
func (h *harness) bodiesUntilParkNotice() []string {
	h.t.Helper()
	var all []string
	for len(all) == 0 || all[len(all)-1] != parkNoticeText {
		if m := h.link.next(h.t); m.Body != "" {
			all = append(all, m.Body)
		}
	}
	return all
}
