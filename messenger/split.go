package messenger

import "github.com/askbridge/askbridge/internal/textsplit"

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
	return textsplit.Split(s, MaxTextLength-1, nil)
}
