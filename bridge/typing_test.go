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
	waitFor(t, func() bool { return len(h.clock.waiting()) == 1 }) // the typing_off, later
	h.clock.Advance(typingOffAfter)
	if _, err := st.WaitSent(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	// Again, ending with composing, within typingGap of the typing_off.
	burst("composing")
	waitFor(t, func() bool { return len(h.clock.waiting()) == 1 })
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
