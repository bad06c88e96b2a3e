package messenger

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	words := func(n int, word string) string { // n words separated by spaces
		return strings.TrimSpace(strings.Repeat(word+" ", n))
	}
	para := words(60, "library") // 479 runes
	lines := func(n int) string {
		var ls []string
		for i := 0; i < n; i++ {
			ls = append(ls, words(12, "catalog")) // 95 runes
		}
		return strings.Join(ls, "\n")
	}
	tests := []struct {
		name  string
		in    string
		parts []int  // rune count of each part
		join  string // joining the parts with this gives the input back
	}{
		{name: "empty"},
		{name: "short", in: "Hello, patron!", parts: []int{14}, join: ""},
		{name: "just under the limit", in: strings.Repeat("a", MaxTextLength-1), parts: []int{MaxTextLength - 1}, join: ""},
		{name: "at the limit, no breaks", in: strings.Repeat("a", MaxTextLength), parts: []int{1999, 1}, join: ""},
		{name: "5000 runes without breaks", in: strings.Repeat("z", 5000), parts: []int{1999, 1999, 1002}, join: ""},
		{name: "5000 multibyte runes", in: strings.Repeat("ä", 5000), parts: []int{1999, 1999, 1002}, join: ""},
		{name: "4-byte runes", in: strings.Repeat("😀", 4100), parts: []int{1999, 1999, 102}, join: ""},
		// "book " is 5 runes: the last space in a 1999-rune window is at 1994.
		{name: "words break at spaces", in: words(1000, "book"), parts: []int{1994, 1994, 1009}, join: " "},
		{name: "paragraphs break at blank lines", in: strings.Repeat(para+"\n\n", 10) + para,
			parts: []int{4*479 + 3*2, 4*479 + 3*2, 3*479 + 2*2}, join: "\n\n"},
		{name: "lines break at newlines", in: lines(50), parts: []int{20*95 + 19, 20*95 + 19, 10*95 + 9}, join: "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.in)
			if tt.in == "" {
				if got != nil {
					t.Fatalf("SplitText(\"\") = %q, want nil", got)
				}
				return
			}
			var counts []int
			for _, p := range got {
				if !utf8.ValidString(p) {
					t.Errorf("part is not valid UTF-8: %q…", p[:10])
				}
				n := utf8.RuneCountInString(p)
				if n >= MaxTextLength {
					t.Errorf("part of %d runes, want < %d", n, MaxTextLength)
				}
				counts = append(counts, n)
			}
			if len(counts) != len(tt.parts) {
				t.Fatalf("parts of %v runes, want %v", counts, tt.parts)
			}
			for i := range counts {
				if counts[i] != tt.parts[i] {
					t.Fatalf("parts of %v runes, want %v", counts, tt.parts)
				}
			}
			if joined := strings.Join(got, tt.join); joined != tt.in {
				t.Errorf("parts joined with %q differ from the input", tt.join)
			}
		})
	}
}
