package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/stanza"
)

// replyWriter is the TokenReadEncoder the IQ handlers of the mux get: it
// reads the request from Serve's reader and collects what the handlers
// write, sending each complete top-level element (an answer) with send,
// which is link.write. So answers get the write deadline, and a failed one kills
// the link, as every other write; nothing goes through Serve's own
// writer. Each element's namespace is written only where it changes, the
// stream's (jabber:component:accept) included: mellium's stanzas and
// disco elements name theirs on every element.
type replyWriter struct {
	xml.TokenReader
	send func([]xml.Token) error
	toks []xml.Token
	open []openElement
	// answered is set when a whole top-level element was written (or its
	// write failed).
	answered bool
}

// openElement is an element replyWriter has started: its namespace and
// the name it was written with.
type openElement struct {
	ns   string
	name xml.Name
}

// EncodeToken implements xmlstream.TokenWriter.
func (w *replyWriter) EncodeToken(t xml.Token) error {
	switch tok := t.(type) {
	case xml.StartElement:
		tok = tok.Copy()
		parent := component.NSAccept
		if n := len(w.open); n > 0 {
			parent = w.open[n-1].ns
		}
		ns := tok.Name.Space
		if ns == "" {
			ns = parent
		}
		if tok.Name.Space == parent {
			tok.Name.Space = ""
		}
		w.open = append(w.open, openElement{ns: ns, name: tok.Name})
		w.toks = append(w.toks, tok)
	case xml.EndElement:
		n := len(w.open)
		if n == 0 {
			return errors.New("xmpp: answer: end element without a start")
		}
		w.toks = append(w.toks, xml.EndElement{Name: w.open[n-1].name})
		w.open = w.open[:n-1]
		if n == 1 {
			toks := w.toks
			w.toks, w.answered = nil, true
			if err := w.send(toks); err != nil {
				return fmt.Errorf("xmpp: writing an answer: %w", err)
			}
		}
	default:
		if len(w.open) > 0 { // between elements: whitespace, nothing to send
			w.toks = append(w.toks, xml.CopyToken(t))
		}
	}
	return nil
}

// Encode implements xmlstream.Encoder.
func (w *replyWriter) Encode(v any) error { return w.marshal(v, nil) }

// EncodeElement implements xmlstream.Encoder.
func (w *replyWriter) EncodeElement(v any, start xml.StartElement) error { return w.marshal(v, &start) }

// marshal encodes v with encoding/xml and writes its tokens.
func (w *replyWriter) marshal(v any, start *xml.StartElement) error {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	var err error
	if start == nil {
		err = e.Encode(v)
	} else {
		err = e.EncodeElement(v, *start)
	}
	if err != nil {
		return fmt.Errorf("xmpp: encoding an answer: %w", err)
	}
	d := xml.NewDecoder(&b)
	for {
		t, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("xmpp: encoding an answer: %w", err)
		}
		if s, ok := t.(xml.StartElement); ok { // the names carry the namespaces
			attrs := s.Attr[:0]
			for _, a := range s.Attr {
				if a.Name.Space != "xmlns" && (a.Name.Space != "" || a.Name.Local != "xmlns") {
					attrs = append(attrs, a)
				}
			}
			s.Attr = attrs
			t = s
		}
		if err := w.EncodeToken(t); err != nil {
			return err
		}
	}
}

// reply writes the answer r to w.
func reply(w xmlstream.TokenWriter, r xml.TokenReader) error {
	_, err := xmlstream.Copy(w, r)
	return err
}

// replyError writes the error e answering iq to w.
func replyError(w xmlstream.TokenWriter, iq stanza.IQ, e StanzaError) error {
	return reply(w, iq.Error(e.stanza()))
}

// Errors the IQ handlers answer with.
var (
	errItemNotFound       = StanzaError{Type: "cancel", Condition: "item-not-found"}
	errServiceUnavailable = StanzaError{Type: "cancel", Condition: "service-unavailable"}
)
