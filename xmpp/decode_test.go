package xmpp

import (
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"
)

const nsStream = ` xmlns="jabber:component:accept"`

// testDomain is the component domain of the decoding tests.
var testDomain = jid.MustParse("fb.test")

// TestStanzaAddresses: a message or presence reaches the Handler with its
// addresses parsed, from the domain when the server left from out; one
// not addressed to the component, or with a malformed from, is dropped.
func TestStanzaAddresses(t *testing.T) {
	for _, tt := range []struct{ from, to, wantFrom, wantTo string }{
		{"Lib@X/Desk", "1@FB.test", "lib@x/Desk", "1@fb.test"},
		{"", "fb.test", "fb.test", "fb.test"},
		{"x", "1@fb.test/r", "x", "1@fb.test/r"},
	} {
		from, to, err := stanzaAddresses(tt.from, tt.to, testDomain)
		if err != nil || from.String() != tt.wantFrom || to.String() != tt.wantTo {
			t.Errorf("from %q to %q: got %q, %q, %v; want %q, %q", tt.from, tt.to, from, to, err, tt.wantFrom, tt.wantTo)
		}
	}
	for _, tt := range []struct{ name, from, to string }{
		{"no to", "l@x", ""},
		{"malformed to", "l@x", "@fb.test"},
		{"to outside the domain", "l@x", "1@example.org"},
		{"to a subdomain", "l@x", "1@sub.fb.test"},
		{"malformed from", "a@b@c", "1@fb.test"},
		{"from with an empty resource", "l@x/", "1@fb.test"},
	} {
		if from, to, err := stanzaAddresses(tt.from, tt.to, testDomain); err == nil {
			t.Errorf("%s: accepted, from %q to %q", tt.name, from, to)
		}
	}
}

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		name, in string
		want     Message
	}{
		{"chat", `<message` + nsStream + ` type="chat" id="a" from="l@x/r" to="1@fb.test"><body>hi</body></message>`,
			Message{ID: "a", From: jid.MustParse("l@x/r"), To: jid.MustParse("1@fb.test"), Type: "chat", Body: "hi"}},
		{"no type is normal", `<message` + nsStream + ` id="b" from="l@x" to="1@fb.test"><body>hi</body></message>`,
			Message{ID: "b", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "normal", Body: "hi"}},
		{"extensions", `<message` + nsStream + ` type="chat" id="c" from="l@x" to="1@fb.test"><thread>t9</thread>` +
			`<paused xmlns="http://jabber.org/protocol/chatstates"/><x xmlns="jabber:x:oob"><url>https://u</url><desc>d</desc></x>` +
			`<nick xmlns="http://jabber.org/protocol/nick">Ann</nick><request xmlns="urn:xmpp:receipts"/></message>`,
			Message{ID: "c", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", Thread: "t9", ChatState: "paused", OOB: "https://u", Nick: "Ann", ReceiptRequest: true}},
		{"correction, markable", `<message` + nsStream + ` type="chat" id="c2" from="l@x" to="1@fb.test"><body>fixed</body>` +
			`<replace xmlns="urn:xmpp:message-correct:0" id="c1"/><markable xmlns="urn:xmpp:chat-markers:0"/><no-store xmlns="urn:xmpp:hints"/></message>`,
			Message{ID: "c2", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", Body: "fixed", Replace: "c1", Markable: true, NoStore: true}},
		{"receipt and markers", `<message` + nsStream + ` type="chat" id="r" from="l@x" to="1@fb.test">` +
			`<received xmlns="urn:xmpp:chat-markers:0" id="m2"/><received xmlns="urn:xmpp:receipts" id="m1"/><displayed xmlns="urn:xmpp:chat-markers:0" id="m0"/></message>`,
			Message{ID: "r", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", ReceiptFor: "m1", MarkerReceivedFor: "m2", DisplayedFor: "m0"}},
		{"old receipt without id", `<message` + nsStream + ` type="chat" id="m5" from="l@x" to="1@fb.test"><received xmlns="urn:xmpp:receipts"/></message>`,
			Message{ID: "m5", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", ReceiptFor: "m5"}},
		{"foreign namespaces ignored", `<message` + nsStream + ` type="chat" id="f" from="l@x" to="1@fb.test">` +
			`<received xmlns="urn:example" id="no"/><replace xmlns="urn:xmpp:message-correct:1" id="no"/><displayed id="no"/></message>`,
			Message{ID: "f", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat"}},
		{"bodies in languages", `<message` + nsStream + ` xml:lang="fr" type="chat" id="d" from="l@x" to="1@fb.test">` +
			`<body xml:lang="en">hello</body><body>bonjour</body></message>`,
			Message{ID: "d", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", Body: "bonjour"}},
		{"only foreign bodies", `<message` + nsStream + ` type="chat" id="e" from="l@x" to="1@fb.test"><body xml:lang="de">hallo</body></message>`,
			Message{ID: "e", From: jid.MustParse("l@x"), To: jid.MustParse("1@fb.test"), Type: "chat", Body: "hallo"}},
	}
	for _, tt := range tests {
		var x messageXML
		if err := xml.NewDecoder(strings.NewReader(tt.in)).Decode(&x); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		from, to, err := stanzaAddresses(x.From, x.To, testDomain)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := x.message(from, to); !reflect.DeepEqual(got, tt.want) {
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

func TestDecodePresence(t *testing.T) {
	tests := []struct {
		name, in string
		want     Presence
	}{
		{"available", `<presence` + nsStream + ` id="a" from="op@x/r" to="fb.test"><show>away</show><status>lunch</status><priority>5</priority></presence>`,
			Presence{ID: "a", From: jid.MustParse("op@x/r"), To: jid.MustParse("fb.test"), Show: "away", Status: "lunch", Priority: 5}},
		{"subscribe with nick", `<presence` + nsStream + ` type="subscribe" from="op@x" to="1@fb.test"><nick xmlns="http://jabber.org/protocol/nick">Ann</nick></presence>`,
			Presence{From: jid.MustParse("op@x"), To: jid.MustParse("1@fb.test"), Type: "subscribe", Nick: "Ann"}},
		{"statuses in languages", `<presence` + nsStream + ` xml:lang="fr" type="unavailable" from="op@x/r" to="fb.test">` +
			`<status xml:lang="en">gone</status><status>parti</status></presence>`,
			Presence{From: jid.MustParse("op@x/r"), To: jid.MustParse("fb.test"), Type: "unavailable", Status: "parti"}},
		{"bad show and priority", `<presence` + nsStream + ` from="op@x/r" to="fb.test"><show>busy</show><priority>x</priority></presence>`,
			Presence{From: jid.MustParse("op@x/r"), To: jid.MustParse("fb.test")}},
		{"priority clamped", `<presence` + nsStream + ` from="op@x/r" to="fb.test"><priority> 1000 </priority></presence>`,
			Presence{From: jid.MustParse("op@x/r"), To: jid.MustParse("fb.test"), Priority: 127}},
		{"show only when available", `<presence` + nsStream + ` type="unavailable" from="op@x/r" to="fb.test"><show>dnd</show></presence>`,
			Presence{From: jid.MustParse("op@x/r"), To: jid.MustParse("fb.test"), Type: "unavailable"}},
	}
	for _, tt := range tests {
		var x presenceXML
		if err := xml.NewDecoder(strings.NewReader(tt.in)).Decode(&x); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		from, to, err := stanzaAddresses(x.From, x.To, testDomain)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := x.presence(from, to); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}

	var x presenceXML
	in := `<presence` + nsStream + ` type="error" id="e" from="op@x" to="1@fb.test"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`
	if err := xml.NewDecoder(strings.NewReader(in)).Decode(&x); err != nil {
		t.Fatal(err)
	}
	if p := x.presence(jid.MustParse(x.From), jid.MustParse(x.To)); p.Type != "error" || p.Error == nil || *p.Error != (StanzaError{Type: "cancel", Condition: "not-allowed"}) {
		t.Errorf("error presence decoded as %+v (error %v)", p, p.Error)
	}
}
