// Package textsplit cuts long text into parts at paragraph, line or word
// boundaries, never inside a rune. The Send API side (Facebook's limit in
// characters) and the XMPP side (the Jabber server's limit in bytes of a
// stanza) share it.
package textsplit

import "strings"

// Cost is what one rune counts against a part's limit: 1 for a limit in
// characters, its escaped length in bytes for a limit in bytes.
type Cost func(r rune) int

// Split cuts s into parts whose runes cost at most limit in all, in order.
// cost nil counts each rune 1. It prefers to cut at a paragraph break (a
// blank line) in the second half of a part, then at a line break there,
// then at the last space, then at any line break; only text without any of
// these is cut mid-word. Whitespace at a cut is dropped; a rune is never
// split (a single rune costing more than limit makes a part of its own).
// Text within the limit comes back unchanged as the only part; empty text
// yields nil.
func Split(s string, limit int, cost Cost) []string {
	if s == "" {
		return nil
	}
	if cost == nil {
		cost = func(rune) int { return 1 }
	}
	rest := []rune(s)
	n, all := prefix(rest, limit, cost)
	if all {
		return []string{s}
	}
	var parts []string
	for !all {
		window := rest[:max(n, 1)]
		cut := cutPoint(window)
		if part := strings.TrimRight(string(rest[:cut]), " \t\r\n"); part != "" {
			parts = append(parts, part)
		}
		rest = trimLeftSpace(rest[cut:])
		n, all = prefix(rest, limit, cost)
	}
	if len(rest) > 0 {
		parts = append(parts, string(rest))
	}
	return parts
}

// prefix returns how many runes of rs cost at most limit together, and
// whether that is all of them.
func prefix(rs []rune, limit int, cost Cost) (int, bool) {
	total := 0
	for i, r := range rs {
		total += cost(r)
		if total > limit {
			return i, false
		}
	}
	return len(rs), true
}

// cutPoint picks where to end a part within window (a full window): the
// rune index of the break's first character, or len(window) for a hard
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
