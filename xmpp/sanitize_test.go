package xmpp

import "testing"

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Are you open?", "Are you open?"},
		{"empty", "", ""},
		{"allowed whitespace", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"NUL", "a\x00b", "ab"},
		{"C0 controls", "\x01\x02\x08\x0b\x0c\x0e\x1f.", "."},
		{"DEL and C1 are allowed", "a\x7f\u0085b", "a\x7f\u0085b"},
		{"U+FFFE and U+FFFF", "a\uFFFEb\uFFFFc", "abc"},
		{"U+FFFD is allowed", "a\uFFFDb", "a\uFFFDb"},
		{"encoded surrogate", "a\xed\xa0\x80b\xed\xbf\xbfc", "abc"},
		{"invalid UTF-8", "a\xffb\xc3", "ab"},
		{"astral plane", "📚 books", "📚 books"},
		{"private use", "\uE000\U0010FFFD", "\uE000\U0010FFFD"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("%s: sanitize(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestNoDisplayableText: a body made only of characters XML cannot carry
// reaches the librarian as a placeholder, never as a stanza without a body.
func TestNoDisplayableText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"NUL to BS", "\x00\x01\x02\x03\x04\x05\x06\x07\x08", NoDisplayableText},
		{"U+FFFE", "\uFFFE", NoDisplayableText},
		{"forbidden and spaces", " \x00\n\uFFFF ", NoDisplayableText},
		{"invalid UTF-8", "\xff\xfe", NoDisplayableText},
		{"some text left", "\x00ok\x01", "ok"},
		{"empty stays empty", "", ""},
		{"plain whitespace stays", " ", " "},
		{"plain", "Are you open?", "Are you open?"},
	}
	for _, tt := range tests {
		if got := displayBody(tt.in); got != tt.want {
			t.Errorf("%s: displayBody(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func BenchmarkSanitizeClean(b *testing.B) {
	s := "A perfectly ordinary question about opening hours and interlibrary loans, with ünïcödé."
	for b.Loop() {
		_ = sanitize(s)
	}
}
