package bridge

import (
	"strings"
	"unicode"
)

// Everything the bridge itself writes into a patron's chat — notices,
// answers to commands, copies of automatic replies, descriptions of what
// the patron did — starts with "[": a bracketed tag such as
// "[answered by …]", or ownVoice. A patron's own text that starts with
// an opening bracket of any script (after spaces and invisible
// characters) is shown after patronVoice, so nothing a patron types can
// look like a line of the bridge's, in any client.
const (
	ownVoice    = "[askbridge] "
	patronVoice = "(patron) "
)

// bridgeSays marks text as the bridge's own, unless it already starts
// with one of the bridge's bracketed tags.
func bridgeSays(text string) string {
	if strings.HasPrefix(text, "[") {
		return text
	}
	return ownVoice + text
}

// patronSays is the patron's text as librarians read it: escaped when it
// could pass for a line of the bridge's.
func patronSays(text string) string {
	if opensLikeBracket(text) {
		return patronVoice + text
	}
	return text
}

// opensLikeBracket reports whether the first visible character of text is
// an opening bracket or a character drawn like "[".
func opensLikeBracket(text string) bool {
	for _, r := range text {
		switch {
		case unicode.IsSpace(r), unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me, unicode.Cc, unicode.Other_Default_Ignorable_Code_Point),
			r == 0x2800: // braille blank
			continue // invisible, or nothing to draw (Hangul fillers, say)
		case r == '(':
			return false // the patron's own parenthesis; no bridge line starts so
		case unicode.Is(unicode.Ps, r):
			return true // [ ［ ⟦ 【 〔 ⁅ and every other opening bracket
		case r >= 0x23A1 && r <= 0x23A3, r == 0x2308, r == 0x230A, r == 0x231C, r == 0x231E, r == 0xFE5D, r == 0x2E22:
			return true // bracket pieces and corners drawn like "["
		}
		return false
	}
	return false
}
