package bridge

import (
	"strings"
	"testing"
	"time"
)

// TestTypingBurst checks that 200 chat states in a burst become one
// typing_on and, once the librarian stopped, one typing_off; and that a
// message ends typing without a typing_off.
func TestTypingBurst(t *testing.T) {
	h, st := newGraphHarness(t)
	h.openConversations(testPage, testPSID)
	burst := func(last string) {
		for i := range 200 {
			state := "composing"
			if i%2 == 1 {
				state = "paused"
			}
			if i == 199 {
				state = last
			}
			h.chatState(testPSID, state)
		}
	}
	burst("paused")
	if _, err := st.WaitSent(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	h.lookWithin(t, typingOffAfter) // the typing_off, later
	h.clock.Advance(typingOffAfter)
	if _, err := st.WaitSent(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	// Again, ending with composing, within typingGap of the typing_off.
	burst("composing")
	h.lookWithin(t, typingGap)
	h.clock.Advance(typingGap)
	if _, err := st.WaitSent(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	h.replyTo(testPSID, "Here it is.")
	if _, err := st.WaitSent(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	h.chatState(testPSID, "active") // after the message: nothing to end
	h.clock.Advance(time.Minute)
	h.stop() // waits for every sender action started
	var got []string
	for _, m := range st.Sent() {
		got = append(got, m.SenderAction+m.Text)
	}
	want := []string{"typing_on", "typing_off", "typing_on", "Here it is."}
	t.Logf("400 chat states and a message: %d Send API calls %q", len(got), got)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Send API calls %q, want %q", got, want)
	}
}

// TestTypingShownWhileComposing: clients send "composing" once; the
// indicator, which Messenger hides after about 20 seconds, is shown again
// every typingEvery while the librarian is composing, and no longer once
// the chat state is typingKeep old (a client that went away).
func TestTypingShownWhileComposing(t *testing.T) {
	h, st := newGraphHarness(t)
	h.openConversations(testPage, testPSID)
	h.chatState(testPSID, "composing")
	if _, err := st.WaitSent(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 4; n++ { // at 8, 16 and 24 s
		h.lookWithin(t, typingEvery)
		h.clock.Advance(typingEvery)
		if _, err := st.WaitSent(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	// At 32 s the state is older than typingKeep: nothing more.
	h.lookWithin(t, typingEvery)
	h.clock.Advance(typingEvery)
	h.clock.Advance(time.Minute)
	h.stop()
	var got []string
	for _, m := range st.Sent() {
		got = append(got, m.SenderAction)
	}
	if want := "typing_on|typing_on|typing_on|typing_on"; strings.Join(got, "|") != want {
		t.Errorf("sender actions %q, want %s", got, want)
	}
}

// lookWithin waits until the bridge has a timer due within d of the fake
// clock's now (a later look at a conversation's typing state).
func (h *harness) lookWithin(t *testing.T, d time.Duration) {
	t.Helper()
	waitFor(t, func() bool {
		w := h.clock.waiting()
		return len(w) > 0 && !w[0].After(h.clock.Now().Add(d))
	})
}
