package xmpp

import (
	"strings"
	"unicode/utf8"
)

// sanitize removes what XML 1.0 cannot carry: NUL and the C0 controls other
// than tab, LF and CR, U+FFFE and U+FFFF, surrogates, and bytes that are not
// UTF-8. Such characters would otherwise break the stream.
func sanitize(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isXMLChar(r, size) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// NoDisplayableText stands in for a message body made only of characters
// XML cannot carry (NUL, other C0 controls, U+FFFE…): without it the
// librarian would get a message with no body, and see nothing at all.
const NoDisplayableText = "[message with no displayable text]"

// displayBody is the body a message stanza carries for s: s sanitized, or
// NoDisplayableText when sanitizing left nothing but whitespace of
// something that had more.
func displayBody(s string) string {
	c := sanitize(s)
	if c == s || strings.TrimSpace(c) != "" {
		return c
	}
	return NoDisplayableText
}

// clean reports whether s needs no sanitizing.
func clean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isXMLChar(r, size) {
			return false
		}
		i += size
	}
	return true
}

// isXMLChar reports whether the rune r, decoded from size bytes, is a Char
// of XML 1.0 (§2.2). A RuneError of size 1 is an undecodable byte, such as
// half of a UTF-8-encoded surrogate.
func isXMLChar(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return false
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000: // surrogates
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000: // U+FFFE, U+FFFF
		return false
	default:
		return r <= utf8.MaxRune
	}
}
