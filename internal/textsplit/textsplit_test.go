package textsplit

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func bytesCost(r rune) int { return utf8.RuneLen(r) }

func TestSplitByCost(t *testing.T) {
	words := strings.TrimSpace(strings.Repeat("question ", 100)) // 899 bytes
	tests := []struct {
		name  string
		in    string
		limit int
		cost  Cost
		want  []string
	}{
		{"empty", "", 10, nil, nil},
		{"fits", "short", 5, nil, []string{"short"}},
		{"at a space", "aaa bbb ccc", 8, nil, []string{"aaa bbb", "ccc"}},
		{"at a paragraph", "first para\n\nsecond", 14, nil, []string{"first para", "second"}},
		{"mid-word when no break", "abcdefghij", 4, nil, []string{"abcd", "efgh", "ij"}},
		// "é" is 2 bytes: 3 of them fit in 7 bytes, never half of one.
		{"runes by bytes", "éééééé", 7, bytesCost, []string{"ééé", "ééé"}},
		{"a rune over the limit alone", "a📚b", 2, bytesCost, []string{"a", "📚", "b"}},
	}
	for _, tt := range tests {
		got := Split(tt.in, tt.limit, tt.cost)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s: Split(%q, %d) = %q, want %q", tt.name, tt.in, tt.limit, got, tt.want)
		}
	}
	parts := Split(words, 100, bytesCost)
	for _, p := range parts {
		if len(p) > 100 || strings.HasPrefix(p, " ") || strings.HasSuffix(p, " ") || strings.Contains(p, "questio ") {
			t.Fatalf("part %q: too long or cut inside a word", p)
		}
	}
	if strings.Join(parts, " ") != words {
		t.Fatalf("the parts do not make up the text again: %q", parts)
	}
}
