package xmpp

import (
	"encoding/xml"
	"io"
)

// Helpers to build stanzas as token lists. Top-level stanzas get no
// namespace here: mellium gives them the stream's (jabber:component:accept),
// and children without one inherit it.

func attr(name, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: name}, Value: value}
}

// textElem is <name>text</name>.
func textElem(name xml.Name, text string) []xml.Token {
	start := xml.StartElement{Name: name}
	return []xml.Token{start, xml.CharData(text), start.End()}
}

// emptyElem is <name attrs…/>.
func emptyElem(name xml.Name, attrs ...xml.Attr) []xml.Token {
	start := xml.StartElement{Name: name, Attr: attrs}
	return []xml.Token{start, start.End()}
}

// wrap surrounds inner with start and its end.
func wrap(start xml.StartElement, inner ...[]xml.Token) []xml.Token {
	toks := []xml.Token{start}
	for _, in := range inner {
		toks = append(toks, in...)
	}
	return append(toks, start.End())
}

// sliceReader is an xml.TokenReader over a slice.
type sliceReader struct{ toks []xml.Token }

func (r *sliceReader) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	t := r.toks[0]
	r.toks = r.toks[1:]
	return t, nil
}

// readTokens reads r to its end. It is for readers built in memory (such
// as mellium's TokenReaders), which do not fail: an error ends the list.
func readTokens(r xml.TokenReader) []xml.Token {
	var toks []xml.Token
	for {
		t, err := r.Token()
		if t != nil {
			toks = append(toks, xml.CopyToken(t))
		}
		if err != nil {
			return toks
		}
	}
}
