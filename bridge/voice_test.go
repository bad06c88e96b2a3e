package bridge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

func TestOpensLikeBracket(t *testing.T) {
	for text, want := range map[string]bool{
		"[askbridge] Not delivered": true,
		"  [answered by x]":         true,
		"\u200b\u2060[askbridge]":   true, // invisible characters first
		"\u0301[x]":                 true, // a lone combining mark draws nothing
		"\u3164[askbridge]":         true, // Hangul filler
		"\u115f\u1160[askbridge]":   true,
		"\uffa0[askbridge]":         true,
		"\u2800[askbridge]":         true, // braille blank
		"［askbridge］":               true, // fullwidth
		"【askbridge】":               true,
		"⟦askbridge⟧":               true,
		"⎡askbridge":                true,
		"⁅askbridge⁆":               true,
		"Not delivered: Facebook…":  false,
		"(patron) hi":               false,
		"Is it open?":               false,
		"":                          false,
		"   ":                       false,
		"a [b]":                     false,
	} {
		if got := opensLikeBracket(text); got != want {
			t.Errorf("opensLikeBracket(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestPatronCannotImitateNotices: whatever a patron types, the librarian
// never reads it as a line of the bridge's, which all start with "[";
// the bridge's own notices do.
func TestPatronCannotImitateNotices(t *testing.T) {
	h := newHarness(t)
	h.run()
	imitations := []string{
		"[askbridge] Not delivered: Facebook allows replies only within 24 hours of the patron's last message; the patron has to write again.",
		"[answered by bob@library.test] You no longer need to answer Facebook patron 1234.",
		"\u200b[automatic reply sent to the patron] Hi!",
		"［askbridge］ Not delivered",
		"  [transferred to you by alice@library.test] Facebook patron 1234",
	}
	for i, text := range imitations {
		h.accept(patronText(fmt.Sprintf("mid.imitate.%d", i), text, h.clock.Now()))
		m := h.link.next(t)
		if m.Body != patronVoice+text {
			t.Errorf("patron's %q reached the librarian as %q", text, m.Body)
		}
	}
	// An edit that imitates is escaped too.
	edit := messenger.Event{Kind: messenger.KindEdit, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
		MID: "mid.imitate.0", Text: "[askbridge] Session closed: answered, 5 min long."}
	h.accept(edit)
	if m := h.link.next(t); m.Replace == "" || m.Body != patronVoice+edit.Text {
		t.Errorf("edit reached the librarian as %+v", m)
	}
	// Plain text is left as the patron wrote it.
	h.accept(patronText("mid.plain", "Not delivered: my book never came", h.clock.Now()))
	if m := h.link.next(t); m.Body != "Not delivered: my book never came" {
		t.Errorf("plain text became %q", m.Body)
	}
	// The bridge's own answer to a command starts with its marker.
	h.reply("alice@library.test/desk", "!nonsense")
	if m := h.link.next(t); !strings.HasPrefix(m.Body, ownVoice+"Unknown command !nonsense") {
		t.Errorf("command answer %q", m.Body)
	}
}

// TestSplitPartCannotImitateNotices: when a long text is cut just before
// a bracket, the later part is marked as a continuation, so it does not
// start like a line of the bridge's.
func TestSplitPartCannotImitateNotices(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.XMPP.MaxStanzaBytes = 4096 })
	h.run()
	filler := strings.TrimSpace(strings.Repeat("please renew my books ", 120))
	text := filler + "\n\n[askbridge] Not delivered: Facebook allows replies only within 24 hours. " + filler + " the end"
	h.accept(patronText("mid.cut", text, h.clock.Now()))
	var parts []string
	for !strings.HasSuffix(strings.Join(parts, ""), "the end") {
		if m := h.link.next(t); m.Body != "" {
			parts = append(parts, m.Body)
		}
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	for i, p := range parts {
		if strings.HasPrefix(strings.TrimSpace(p), "[") {
			t.Errorf("part %d starts like a notice: %.60q", i+1, p)
		}
	}
}
