package xmpp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"
)

// TestSplitMessage: a long patron text becomes several messages, in order,
// each of whose stanzas fits the limit, cut between words, and together
// holding the whole text.
func TestSplitMessage(t *testing.T) {
	const limit = 4096
	domain := jid.MustParse("fb.test")
	words := []string{"Do", "you", "have", "<Moby-Dick>", "&", "\"Ulysses\"", "in", "stock?", "Ünïcödé", "📚"}
	var b strings.Builder
	for i := 0; b.Len() < 40000; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[i%len(words)])
	}
	text := b.String()
	m := Message{ID: "fb-1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: text, Nick: "Facebook patron 7f3a",
		Markable: true, OOB: "https://cdn.example/a.jpg", ChatState: "active", Replace: "fb-0"}
	parts, err := SplitMessage(m, "fb.test", limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 10 {
		t.Fatalf("%d parts for %d bytes with a %d-byte limit", len(parts), len(text), limit)
	}
	var bodies []string
	for i, p := range parts {
		toks, err := encodeMessage(p, domain)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if n := len(render(t, toks)); n+stanzaSlack > limit {
			t.Errorf("part %d takes %d bytes (with slack %d), over %d", i, n, n+stanzaSlack, limit)
		}
		if err := checkSize(toks, limit); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		wantID := "fb-1"
		if i > 0 {
			wantID = "fb-1" + partSuffix(i+1)
		}
		last := i == len(parts)-1
		if p.ID != wantID || p.Nick != m.Nick || !p.Markable || !p.To.Equal(m.To) || !p.From.Equal(m.From) ||
			(p.Replace != "") != (i == 0) || (p.OOB != "") != last || (p.ChatState != "") != last {
			t.Errorf("part %d: %+v", i, p)
		}
		for _, w := range strings.Fields(p.Body) {
			if !strings.Contains(strings.Join(words, " "), w) {
				t.Fatalf("part %d was cut inside a word: %q", i, w)
			}
		}
		bodies = append(bodies, p.Body)
	}
	if strings.Join(bodies, " ") != text {
		t.Fatal("the parts do not add up to the text")
	}

	short := Message{ID: "fb-2", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "hours?"}
	if parts, err := SplitMessage(short, "fb.test", limit); err != nil || len(parts) != 1 || !reflect.DeepEqual(parts[0], short) {
		t.Errorf("a short message came back as %+v, %v", parts, err)
	}
	huge := Message{ID: "fb-3", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "x", Nick: strings.Repeat("n", 2*limit)}
	if _, err := SplitMessage(huge, "fb.test", limit); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a message too large without its text: %v, want ErrTooLarge", err)
	}
}

// TestCheckSize: the cheap bound never lets a stanza over the limit pass.
func TestCheckSize(t *testing.T) {
	domain := jid.MustParse("fb.test")
	for _, body := range []string{strings.Repeat("a", 3900), strings.Repeat("&", 900), strings.Repeat("<\"'>", 300), strings.Repeat("é\t\r", 700)} {
		toks, err := encodeMessage(Message{ID: "1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: body}, domain)
		if err != nil {
			t.Fatal(err)
		}
		size := len(render(t, toks)) + stanzaSlack
		for _, limit := range []int{size - 1, size, size + 1} {
			err := checkSize(toks, limit)
			if (err != nil) != (size > limit) || (err != nil && !errors.Is(err, ErrTooLarge)) {
				t.Errorf("size %d, limit %d: %v", size, limit, err)
			}
		}
	}
}
