package xmpp

import (
	"encoding/xml"
)

// langText is an element with text and an optional xml:lang.
type langText struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Text string `xml:",chardata"`
}

// errorXML is a stanza's <error/> child.
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
	Error     *errorXML `xml:"error"`
}

// message converts the stanza to a Message.
func (x *messageXML) message() Message {
	m := Message{ID: x.ID, From: x.From, To: x.To, Type: x.Type, Thread: x.Thread, Nick: x.Nick}
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
	return m
}

// body picks the body in the stanza's language (or without one), else the
// first.
func (x *messageXML) body() string {
	for _, b := range x.Bodies {
		if b.Lang == "" || b.Lang == x.Lang {
			return b.Text
		}
	}
	if len(x.Bodies) > 0 {
		return x.Bodies[0].Text
	}
	return ""
}

// iqXML is what the component reads of an IQ stanza.
type iqXML struct {
	ID      string `xml:"id,attr"`
	From    string `xml:"from,attr"`
	To      string `xml:"to,attr"`
	Type    string `xml:"type,attr"`
	Payload []struct {
		XMLName xml.Name
		Node    string `xml:"node,attr"`
	} `xml:",any"`
}

// payload returns the name and node of the IQ's first child that is not an
// error.
func (x *iqXML) payload() (name xml.Name, node string) {
	for _, p := range x.Payload {
		if p.XMLName.Local != "error" {
			return p.XMLName, p.Node
		}
	}
	return xml.Name{}, ""
}
