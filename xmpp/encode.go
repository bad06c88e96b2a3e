package xmpp

import (
	"encoding/xml"
	"fmt"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// checkID reports an error if the stanza id (or an id a stanza refers to)
// has characters XML cannot carry: sanitizing it would make it a
// different id.
func checkID(what, id string) error {
	if sanitize(id) != id {
		return fmt.Errorf("%w: %s %q has characters XML cannot carry", ErrInvalidMessage, what, id)
	}
	return nil
}

// checkAddresses checks a stanza's from and to. From must be domain or a
// JID in it: Prosody closes the whole stream on a foreign from. To may be
// any JID but the zero JID.
func checkAddresses(from, to, domain jid.JID) error {
	if from.Domainpart() == "" {
		return fmt.Errorf("%w: empty from", ErrInvalidMessage)
	}
	if from.Domainpart() != domain.Domainpart() {
		return fmt.Errorf("%w: from %q is outside the component domain %s", ErrInvalidMessage, from, domain)
	}
	if to.Domainpart() == "" {
		return fmt.Errorf("%w: empty to", ErrInvalidMessage)
	}
	return nil
}

// encodeMessage checks m and returns it as the tokens of a message stanza.
// Text is sanitized (a body left without displayable text becomes
// NoDisplayableText).
func encodeMessage(m Message, domain jid.JID) ([]xml.Token, error) {
	if m.ID == "" {
		return nil, fmt.Errorf("%w: empty id", ErrInvalidMessage)
	}
	for _, id := range []struct{ what, id string }{
		{"id", m.ID}, {"receipt id", m.ReceiptFor}, {"displayed marker id", m.DisplayedFor},
		{"received marker id", m.MarkerReceivedFor}, {"corrected message id", m.Replace},
	} {
		if err := checkID(id.what, id.id); err != nil {
			return nil, err
		}
	}
	if err := checkAddresses(m.From, m.To, domain); err != nil {
		return nil, err
	}
	typ := m.Type
	if typ == "" {
		typ = "chat"
	}
	if !messageTypes[typ] {
		return nil, fmt.Errorf("%w: type %q", ErrInvalidMessage, m.Type)
	}
	if m.ChatState != "" && !chatStates[m.ChatState] {
		return nil, fmt.Errorf("%w: chat state %q", ErrInvalidMessage, m.ChatState)
	}
	if m.ReceiptRequest && m.ReceiptFor != "" {
		return nil, fmt.Errorf("%w: a receipt must not request a receipt (XEP-0184)", ErrInvalidMessage)
	}

	start := xml.StartElement{Name: xml.Name{Local: "message"}, Attr: []xml.Attr{
		attr("type", typ), attr("id", m.ID), attr("from", m.From.String()), attr("to", m.To.String()),
	}}
	var inner [][]xml.Token
	if body := displayBody(m.Body); body != "" {
		inner = append(inner, textElem(xml.Name{Local: "body"}, body))
	}
	if thread := sanitize(m.Thread); thread != "" {
		inner = append(inner, textElem(xml.Name{Local: "thread"}, thread))
	}
	if nick := sanitize(m.Nick); nick != "" {
		inner = append(inner, textElem(xml.Name{Space: nsNick, Local: "nick"}, nick))
	}
	if url := sanitize(m.OOB); url != "" {
		inner = append(inner, wrap(xml.StartElement{Name: xml.Name{Space: nsOOB, Local: "x"}},
			textElem(xml.Name{Local: "url"}, url)))
	}
	if m.ChatState != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsChatStates, Local: m.ChatState}))
	}
	if m.ReceiptRequest {
		inner = append(inner, emptyElem(xml.Name{Space: nsReceipts, Local: "request"}))
	}
	if m.ReceiptFor != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsReceipts, Local: "received"}, attr("id", m.ReceiptFor)))
	}
	if m.Markable {
		inner = append(inner, emptyElem(xml.Name{Space: nsMarkers, Local: "markable"}))
	}
	if m.MarkerReceivedFor != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsMarkers, Local: "received"}, attr("id", m.MarkerReceivedFor)))
	}
	if m.DisplayedFor != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsMarkers, Local: "displayed"}, attr("id", m.DisplayedFor)))
	}
	if m.Replace != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsCorrect, Local: "replace"}, attr("id", m.Replace)))
	}
	if m.NoStore {
		inner = append(inner, emptyElem(xml.Name{Space: nsHints, Local: "no-store"}))
	}
	// XEP-0359 for a message someone reads: the id is the component's own
	// and stable (a message sent again after a crash carries the same
	// one), so clients that deduplicate by origin-id can.
	if displayBody(m.Body) != "" {
		inner = append(inner, emptyElem(xml.Name{Space: nsSID, Local: "origin-id"}, attr("id", m.ID)))
	}
	return wrap(start, inner...), nil
}

// encodeError returns an error stanza of the given kind ("message", "iq"
// or "presence") answering the stanza with id, from and to (so it goes
// from to to from).
func encodeError(kind, id, from, to string, e StanzaError) []xml.Token {
	start := xml.StartElement{Name: xml.Name{Local: kind}, Attr: []xml.Attr{
		attr("type", "error"), attr("id", sanitize(id)), attr("from", from), attr("to", to),
	}}
	return wrap(start, errorElem(e))
}

// errorElem is the <error/> child of an error stanza.
func errorElem(e StanzaError) []xml.Token {
	return readTokens(e.stanza().TokenReader())
}

// stanza returns e as mellium's stanza.Error, text sanitized. Unknown
// types and conditions become "cancel" and "undefined-condition": a
// malformed error would end the stream.
func (e StanzaError) stanza() stanza.Error {
	typ, cond := e.Type, e.Condition
	if !errorTypes[typ] {
		typ = "cancel"
	}
	if !errorConditions[cond] {
		cond = "undefined-condition"
	}
	se := stanza.Error{Type: stanza.ErrorType(typ), Condition: stanza.Condition(cond)}
	if text := sanitize(e.Text); text != "" {
		se.Text = map[string]string{"": text}
	}
	return se
}
