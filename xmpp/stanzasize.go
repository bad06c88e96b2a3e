package xmpp

import (
	"encoding/xml"
	"fmt"
	"unicode/utf8"
)

// DefaultMaxStanzaBytes caps an outgoing stanza's size when Config leaves
// MaxStanzaBytes zero: well under what Jabber servers accept from a
// component (Prosody's component_stanza_size_limit is 512 KiB by default,
// its c2s limit 256 KiB), so that a long patron text never makes the
// server close the stream.
const DefaultMaxStanzaBytes = 64 << 10

// ErrTooLarge is returned (wrapped) for a stanza larger than
// Config.MaxStanzaBytes. It wraps ErrInvalidMessage: such a stanza is
// never written. SplitMessage cuts a message's body so that each part
// fits.
var ErrTooLarge = fmt.Errorf("%w: stanza larger than the configured limit (xmpp.max_stanza_bytes)", ErrInvalidMessage)

// stanzaSlack is added to an encoded stanza's size for what the session
// adds around it (the stream's namespace on the top-level element).
const stanzaSlack = 64

// countWriter counts the bytes written through it.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// encodedSize is the size in bytes of toks written as XML, plus
// stanzaSlack.
func encodedSize(toks []xml.Token) (int, error) {
	var w countWriter
	e := xml.NewEncoder(&w)
	for _, t := range toks {
		if err := e.EncodeToken(t); err != nil {
			return 0, fmt.Errorf("xmpp: measuring a stanza: %w", err)
		}
	}
	if err := e.Flush(); err != nil {
		return 0, fmt.Errorf("xmpp: measuring a stanza: %w", err)
	}
	return w.n + stanzaSlack, nil
}

// sizeBound is an upper bound of encodedSize that is cheap to compute:
// every character escaped to the longest escape, every name written twice.
func sizeBound(toks []xml.Token) int {
	n := stanzaSlack
	for _, t := range toks {
		switch t := t.(type) {
		case xml.StartElement:
			n += 2*(len(t.Name.Local)+len(t.Name.Space)) + 16
			for _, a := range t.Attr {
				n += len(a.Name.Local) + len(a.Name.Space) + 6*len(a.Value) + 8
			}
		case xml.EndElement:
			n += len(t.Name.Local) + 4
		case xml.CharData:
			n += 6 * len(t)
		}
	}
	return n
}

// checkSize returns an error wrapping ErrTooLarge when toks written as XML
// take more than limit bytes; limit 0 means no limit.
func checkSize(toks []xml.Token, limit int) error {
	if limit <= 0 || sizeBound(toks) <= limit {
		return nil
	}
	n, err := encodedSize(toks)
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("%w: about %d bytes, the limit is %d", ErrTooLarge, n, limit)
	}
	return nil
}

// escapedLen is how many bytes r takes in XML character data, as
// encoding/xml escapes it there.
func escapedLen(r rune) int {
	switch r {
	case '"', '\'', '&', '\t', '\r':
		return 5 // &#34; &#39; &amp; &#x9; &#xD;
	case '<', '>':
		return 4
	}
	return utf8.RuneLen(r)
}
