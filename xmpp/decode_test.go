package xmpp

import (
	"encoding/xml"
	"strings"
	"testing"
)

const nsStream = ` xmlns="jabber:component:accept"`

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		name, in string
		want     Message
	}{
		{"chat", `<message` + nsStream + ` type="chat" id="a" from="l@x/r" to="1@fb.test"><body>hi</body></message>`,
			Message{ID: "a", From: "l@x/r", To: "1@fb.test", Type: "chat", Body: "hi"}},
		{"no type is normal", `<message` + nsStream + ` id="b" from="l@x" to="1@fb.test"><body>hi</body></message>`,
			Message{ID: "b", From: "l@x", To: "1@fb.test", Type: "normal", Body: "hi"}},
		{"extensions", `<message` + nsStream + ` type="chat" id="c" from="l@x" to="1@fb.test"><thread>t9</thread>` +
			`<paused xmlns="http://jabber.org/protocol/chatstates"/><x xmlns="jabber:x:oob"><url>https://u</url><desc>d</desc></x>` +
			`<nick xmlns="http://jabber.org/protocol/nick">Ann</nick><request xmlns="urn:xmpp:receipts"/></message>`,
			Message{ID: "c", From: "l@x", To: "1@fb.test", Type: "chat", Thread: "t9", ChatState: "paused", OOB: "https://u", Nick: "Ann"}},
		{"bodies in languages", `<message` + nsStream + ` xml:lang="fr" type="chat" id="d" from="l@x" to="1@fb.test">` +
			`<body xml:lang="en">hello</body><body>bonjour</body></message>`,
			Message{ID: "d", From: "l@x", To: "1@fb.test", Type: "chat", Body: "bonjour"}},
		{"only foreign bodies", `<message` + nsStream + ` type="chat" id="e" from="l@x" to="1@fb.test"><body xml:lang="de">hallo</body></message>`,
			Message{ID: "e", From: "l@x", To: "1@fb.test", Type: "chat", Body: "hallo"}},
	}
	for _, tt := range tests {
		var x messageXML
		if err := xml.NewDecoder(strings.NewReader(tt.in)).Decode(&x); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := x.message(); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeStanzaError(t *testing.T) {
	tests := []struct {
		name, in string
		want     StanzaError
	}{
		{"prosody's bounce", `<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			StanzaError{Type: "cancel", Condition: "service-unavailable"}},
		{"text first", `<error type="cancel"><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no s2s</text><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			StanzaError{Type: "cancel", Condition: "not-allowed", Text: "no s2s"}},
		{"application condition ignored", `<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><too-many xmlns="urn:example"/></error>`,
			StanzaError{Type: "modify", Condition: "bad-request"}},
		{"no condition", `<error type="wait"/>`, StanzaError{Type: "wait", Condition: "undefined-condition"}},
	}
	for _, tt := range tests {
		var x errorXML
		if err := xml.NewDecoder(strings.NewReader(tt.in)).Decode(&x); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := x.stanzaError(); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeIQPayload(t *testing.T) {
	var x iqXML
	in := `<iq` + nsStream + ` type="get" id="1" to="fb.test"><query xmlns="http://jabber.org/protocol/disco#info" node="n"/></iq>`
	if err := xml.NewDecoder(strings.NewReader(in)).Decode(&x); err != nil {
		t.Fatal(err)
	}
	name, node := x.payload()
	if name != (xml.Name{Space: nsDiscoInfo, Local: "query"}) || node != "n" || x.ID != "1" || x.Type != "get" {
		t.Errorf("payload %v node %q of %+v", name, node, x)
	}
}
