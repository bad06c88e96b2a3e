package messenger

import (
	"strings"
	"unicode/utf8"
)

// MaxTextLength is the Send API's limit on a message's text, in characters.
// SplitText makes parts shorter than it.
const MaxTextLength = 2000

// SplitText cuts s into parts of fewer than MaxTextLength characters (runes)
// each, in order. It prefers to cut at a paragraph break (a blank line) in
// the second half of a part, then at a line break there, then at the last
// space, then at any line break; only text without any of these is cut
// mid-word. Whitespace at a cut is dropped; a rune is never split. Text
// already short enough comes back unchanged as the only part; empty text
// yields nil.
func SplitText(s string) []string {
	if s == "" {
		return nil
	}
	if utf8.RuneCountInString(s) < MaxTextLength {
		return []string{s}
	}
	const limit = MaxTextLength - 1 // runes per part
	var parts []string
	rest := []rune(s)
	for len(rest) > limit {
		cut := cutPoint(rest[:limit])
		if part := strings.TrimRight(string(rest[:cut]), " \t\r\n"); part != "" {
			parts = append(parts, part)
		}
		rest = trimLeftSpace(rest[cut:])
	}
	if len(rest) > 0 {
		parts = append(parts, string(rest))
	}
	return parts
}

// cutPoint picks where to end a part within window (a full-length window):
// the rune index of the break's first character, or len(window) for a hard
// cut.
func cutPoint(window []rune) int {
	half := len(window) / 2
	if i := lastIndex(window, "\n\n"); i >= half {
		return i
	}
	if i := lastIndex(window, "\n"); i >= half {
		return i
	}
	if i := lastIndex(window, " "); i > 0 {
		return i
	}
	if i := lastIndex(window, "\n"); i > 0 {
		return i
	}
	return len(window)
}

// lastIndex is the rune index of the last occurrence of sep in rs, or -1.
func lastIndex(rs []rune, sep string) int {
	seps := []rune(sep)
outer:
	for i := len(rs) - len(seps); i >= 0; i-- {
		for j, r := range seps {
			if rs[i+j] != r {
				continue outer
			}
		}
		return i
	}
	return -1
}

// trimLeftSpace drops leading spaces, tabs and line breaks.
func trimLeftSpace(rs []rune) []rune {
	for len(rs) > 0 && (rs[0] == ' ' || rs[0] == '\t' || rs[0] == '\r' || rs[0] == '\n') {
		rs = rs[1:]
	}
	return rs
}
