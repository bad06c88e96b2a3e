package xmpp

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"mellium.im/xmpp/jid"
)

// langText is an element with text and an optional xml:lang.
type langText struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Text string `xml:",chardata"`
}

// errorXML is a stanza's <error/> child. It is read here rather than as
// mellium's stanza.Error, whose decoding fails the whole stanza (and so
// loses a bounce) on a malformed by attribute, and which keeps the texts
// by language, not in order.
type errorXML struct {
	Type     string `xml:"type,attr"`
	Children []struct {
		XMLName xml.Name
		Text    string `xml:",chardata"`
	} `xml:",any"`
}

// stanzaError extracts the condition, type and text.
func (e *errorXML) stanzaError() StanzaError {
	se := StanzaError{Type: e.Type}
	for _, c := range e.Children {
		if c.XMLName.Space != nsStanzas {
			continue
		}
		if c.XMLName.Local == "text" {
			if se.Text == "" {
				se.Text = c.Text
			}
		} else if se.Condition == "" {
			se.Condition = c.XMLName.Local
		}
	}
	if se.Condition == "" {
		se.Condition = "undefined-condition"
	}
	return se
}

// messageXML is what the component reads of a message stanza.
type messageXML struct {
	ID     string     `xml:"id,attr"`
	From   string     `xml:"from,attr"`
	To     string     `xml:"to,attr"`
	Type   string     `xml:"type,attr"`
	Lang   string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Bodies []langText `xml:"body"`
	Thread string     `xml:"thread"`
	Nick   string     `xml:"http://jabber.org/protocol/nick nick"`
	OOB    []struct {
		URL string `xml:"url"`
	} `xml:"jabber:x:oob x"`
	Active    *struct{} `xml:"http://jabber.org/protocol/chatstates active"`
	Composing *struct{} `xml:"http://jabber.org/protocol/chatstates composing"`
	Paused    *struct{} `xml:"http://jabber.org/protocol/chatstates paused"`
	Inactive  *struct{} `xml:"http://jabber.org/protocol/chatstates inactive"`
	Gone      *struct{} `xml:"http://jabber.org/protocol/chatstates gone"`

	Request        *struct{} `xml:"urn:xmpp:receipts request"`
	Received       *idXML    `xml:"urn:xmpp:receipts received"`
	Markable       *struct{} `xml:"urn:xmpp:chat-markers:0 markable"`
	Displayed      *idXML    `xml:"urn:xmpp:chat-markers:0 displayed"`
	MarkerReceived *idXML    `xml:"urn:xmpp:chat-markers:0 received"`
	Replace        *idXML    `xml:"urn:xmpp:message-correct:0 replace"`
	NoStore        *struct{} `xml:"urn:xmpp:hints no-store"`

	Error *errorXML `xml:"error"`
}

// idXML is an element that refers to a message by its id attribute.
type idXML struct {
	ID string `xml:"id,attr"`
}

// id returns the element's id, or "" if there is no element.
func (x *idXML) id() string {
	if x == nil {
		return ""
	}
	return x.ID
}

// stanzaAddresses parses the from and to of a message or presence stanza
// that the component of domain read. An empty from is the domain: mellium
// drops from attributes equal to the session's own address. It returns an
// error for a stanza to drop: one not addressed to domain or a JID in it,
// or whose from does not parse.
func stanzaAddresses(from, to string, domain jid.JID) (jid.JID, jid.JID, error) {
	t, err := jid.Parse(to)
	if err != nil {
		return jid.JID{}, jid.JID{}, fmt.Errorf("not addressed to the component: to %q: %w", to, err)
	}
	if t.Domainpart() != domain.Domainpart() {
		return jid.JID{}, jid.JID{}, fmt.Errorf("not addressed to the component: to %q", to)
	}
	if from == "" {
		return domain, t, nil
	}
	f, err := jid.Parse(from)
	if err != nil {
		return jid.JID{}, jid.JID{}, fmt.Errorf("malformed from %q: %w", from, err)
	}
	return f, t, nil
}

// message converts the stanza to a Message, with its addresses parsed
// (stanzaAddresses).
func (x *messageXML) message(from, to jid.JID) Message {
	m := Message{ID: x.ID, From: from, To: to, Type: x.Type, Thread: x.Thread, Nick: x.Nick}
	if m.Type == "" {
		m.Type = "normal" // RFC 6121 §5.2.2
	}
	m.Body = x.body()
	if len(x.OOB) > 0 {
		m.OOB = x.OOB[0].URL
	}
	switch {
	case x.Active != nil:
		m.ChatState = "active"
	case x.Composing != nil:
		m.ChatState = "composing"
	case x.Paused != nil:
		m.ChatState = "paused"
	case x.Inactive != nil:
		m.ChatState = "inactive"
	case x.Gone != nil:
		m.ChatState = "gone"
	}
	m.ReceiptRequest = x.Request != nil
	if x.Received != nil {
		m.ReceiptFor = x.Received.ID
		if m.ReceiptFor == "" {
			m.ReceiptFor = x.ID // XEP-0184 before 1.1: the receipt carries the id
		}
	}
	m.Markable = x.Markable != nil
	m.DisplayedFor = x.Displayed.id()
	m.MarkerReceivedFor = x.MarkerReceived.id()
	m.Replace = x.Replace.id()
	m.NoStore = x.NoStore != nil
	return m
}

// body picks the body in the stanza's language (or without one), else the
// first.
func (x *messageXML) body() string { return pickLang(x.Bodies, x.Lang) }

// pickLang picks the text in the stanza's language lang (or without one),
// else the first.
func pickLang(texts []langText, lang string) string {
	for _, t := range texts {
		if t.Lang == "" || t.Lang == lang {
			return t.Text
		}
	}
	if len(texts) > 0 {
		return texts[0].Text
	}
	return ""
}

// presenceXML is what the component reads of a presence stanza.
type presenceXML struct {
	ID       string     `xml:"id,attr"`
	From     string     `xml:"from,attr"`
	To       string     `xml:"to,attr"`
	Type     string     `xml:"type,attr"`
	Lang     string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Show     string     `xml:"show"`
	Statuses []langText `xml:"status"`
	Priority string     `xml:"priority"`
	Nick     string     `xml:"http://jabber.org/protocol/nick nick"`
	Error    *errorXML  `xml:"error"`
}

// presence converts the stanza to a Presence, with its addresses parsed
// (stanzaAddresses). Show values outside RFC 6121's four and priorities
// that are not integers are dropped; priorities are clamped to -128…127.
func (x *presenceXML) presence(from, to jid.JID) Presence {
	p := Presence{ID: x.ID, From: from, To: to, Type: x.Type, Nick: x.Nick}
	if show := strings.TrimSpace(x.Show); showValues[show] && p.Type == "" {
		p.Show = show
	}
	p.Status = pickLang(x.Statuses, x.Lang)
	if n, err := strconv.Atoi(strings.TrimSpace(x.Priority)); err == nil {
		p.Priority = max(-128, min(127, n))
	}
	if p.Type == "error" {
		se := StanzaError{Condition: "undefined-condition"}
		if x.Error != nil {
			se = x.Error.stanzaError()
		}
		p.Error = &se
	}
	return p
}
