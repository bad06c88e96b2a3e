package bridge

import (
	"slices"
	"testing"
)

// TestMailboxOverflow: hand-overs past the limit are dropped for one
// reload; other events are always kept; taking empties it and resets the
// count.
func TestMailboxOverflow(t *testing.T) {
	m := newMailbox(2, "reload")
	m.post("a", 1)
	m.post("linkdown", 0)
	m.post("b", 2) // past the limit
	m.post("c", 1) // dropped too: the reload reads it
	m.post("synced", 0)
	if got := m.take(); !slices.Equal(got, []string{"a", "linkdown", "reload", "synced"}) {
		t.Errorf("took %q", got)
	}
	select {
	case <-m.wake:
	default:
		t.Error("posting did not wake the owner")
	}
	m.post("d", 2)
	if got := m.take(); !slices.Equal(got, []string{"d"}) {
		t.Errorf("after taking, took %q", got)
	}
}
