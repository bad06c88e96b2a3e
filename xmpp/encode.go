package xmpp

import (
	"encoding/xml"
	"fmt"

	"mellium.im/xmpp/jid"
)

// encodeMessage checks m and returns it as the tokens of a message stanza.
// Text is sanitized; addresses are normalised. From must be domain or a JID
// in it: Prosody closes the whole stream on a foreign from.
func encodeMessage(m Message, domain jid.JID) ([]xml.Token, error) {
	if m.ID == "" {
		return nil, fmt.Errorf("%w: empty id", ErrInvalidMessage)
	}
	if sanitize(m.ID) != m.ID {
		return nil, fmt.Errorf("%w: id %q has characters XML cannot carry", ErrInvalidMessage, m.ID)
	}
	from, err := jid.Parse(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from %q: %v", ErrInvalidMessage, m.From, err)
	}
	if from.Domainpart() != domain.Domainpart() {
		return nil, fmt.Errorf("%w: from %q is outside the component domain %s", ErrInvalidMessage, m.From, domain)
	}
	if m.To == "" {
		return nil, fmt.Errorf("%w: empty to", ErrInvalidMessage)
	}
	to, err := jid.Parse(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: to %q: %v", ErrInvalidMessage, m.To, err)
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

	start := xml.StartElement{Name: xml.Name{Local: "message"}, Attr: []xml.Attr{
		attr("type", typ), attr("id", m.ID), attr("from", from.String()), attr("to", to.String()),
	}}
	var inner [][]xml.Token
	if body := sanitize(m.Body); body != "" {
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
	return wrap(start, inner...), nil
}

// encodeError returns an error stanza of the given kind ("message" or "iq")
// answering the stanza with id, from and to (so it goes from to to from).
// Unknown types and conditions become "cancel" and "undefined-condition":
// a malformed error would end the stream.
func encodeError(kind, id, from, to string, e StanzaError) []xml.Token {
	typ, cond := e.Type, e.Condition
	if !errorTypes[typ] {
		typ = "cancel"
	}
	if !errorConditions[cond] {
		cond = "undefined-condition"
	}
	inner := [][]xml.Token{emptyElem(xml.Name{Space: nsStanzas, Local: cond})}
	if text := sanitize(e.Text); text != "" {
		inner = append(inner, textElem(xml.Name{Space: nsStanzas, Local: "text"}, text))
	}
	start := xml.StartElement{Name: xml.Name{Local: kind}, Attr: []xml.Attr{
		attr("type", "error"), attr("id", sanitize(id)), attr("from", from), attr("to", to),
	}}
	return wrap(start, wrap(xml.StartElement{Name: xml.Name{Local: "error"}, Attr: []xml.Attr{attr("type", typ)}}, inner...))
}
