package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"
)

// render encodes tokens the way the session does, minus the stream
// namespace on the top-level element.
func render(t *testing.T, toks []xml.Token) string {
	t.Helper()
	var buf bytes.Buffer
	e := xml.NewEncoder(&buf)
	for _, tok := range toks {
		if err := e.EncodeToken(tok); err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestEncodeMessage(t *testing.T) {
	domain := jid.MustParse("fb.test")
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"body only", Message{ID: "1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "hi <there> & bye"},
			`<message type="chat" id="1" from="12@fb.test" to="lib@example.org"><body>hi &lt;there&gt; &amp; bye</body><origin-id xmlns="urn:xmpp:sid:0" id="1"></origin-id></message>`},
		{"everything", Message{ID: "2", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org/pidgin"), Type: "normal", Body: "b",
			Thread: "t", Nick: "Facebook patron 7f3a", OOB: "https://x.example/a?b=1&c=2", ChatState: "active"},
			`<message type="normal" id="2" from="12@fb.test" to="lib@example.org/pidgin"><body>b</body><thread>t</thread>` +
				`<nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick>` +
				`<x xmlns="jabber:x:oob"><url>https://x.example/a?b=1&amp;c=2</url></x>` +
				`<active xmlns="http://jabber.org/protocol/chatstates"></active><origin-id xmlns="urn:xmpp:sid:0" id="2"></origin-id></message>`},
		{"chat state only", Message{ID: "3", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), ChatState: "composing"},
			`<message type="chat" id="3" from="12@fb.test" to="lib@example.org"><composing xmlns="http://jabber.org/protocol/chatstates"></composing></message>`},
		{"from the domain, normalised", Message{ID: "4", From: jid.MustParse("FB.test"), To: jid.MustParse("Lib@Example.org"), Body: "x"},
			`<message type="chat" id="4" from="fb.test" to="lib@example.org"><body>x</body><origin-id xmlns="urn:xmpp:sid:0" id="4"></origin-id></message>`},
		{"forbidden characters", Message{ID: "5", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "\x00a\x01", Nick: "\x02"},
			`<message type="chat" id="5" from="12@fb.test" to="lib@example.org"><body>a</body><origin-id xmlns="urn:xmpp:sid:0" id="5"></origin-id></message>`},
		{"only forbidden characters", Message{ID: "5b", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "\x00\x01\x08\uFFFE"},
			`<message type="chat" id="5b" from="12@fb.test" to="lib@example.org"><body>[message with no displayable text]</body><origin-id xmlns="urn:xmpp:sid:0" id="5b"></origin-id></message>`},
		{"receipt request, markable", Message{ID: "6", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "b", ReceiptRequest: true, Markable: true},
			`<message type="chat" id="6" from="12@fb.test" to="lib@example.org"><body>b</body>` +
				`<request xmlns="urn:xmpp:receipts"></request><markable xmlns="urn:xmpp:chat-markers:0"></markable><origin-id xmlns="urn:xmpp:sid:0" id="6"></origin-id></message>`},
		{"correction", Message{ID: "7", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), Body: "b2", Replace: "6"},
			`<message type="chat" id="7" from="12@fb.test" to="lib@example.org"><body>b2</body>` +
				`<replace xmlns="urn:xmpp:message-correct:0" id="6"></replace><origin-id xmlns="urn:xmpp:sid:0" id="7"></origin-id></message>`},
		{"receipts and markers", Message{ID: "8", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), ReceiptFor: "m1", MarkerReceivedFor: "m1", DisplayedFor: "m0", NoStore: true},
			`<message type="chat" id="8" from="12@fb.test" to="lib@example.org">` +
				`<received xmlns="urn:xmpp:receipts" id="m1"></received><received xmlns="urn:xmpp:chat-markers:0" id="m1"></received>` +
				`<displayed xmlns="urn:xmpp:chat-markers:0" id="m0"></displayed><no-store xmlns="urn:xmpp:hints"></no-store></message>`},
		{"ids are escaped", Message{ID: "a&b", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org"), ReceiptFor: `"<'`},
			`<message type="chat" id="a&amp;b" from="12@fb.test" to="lib@example.org"><received xmlns="urn:xmpp:receipts" id="&#34;&lt;&#39;"></received></message>`},
	}
	for _, tt := range tests {
		toks, err := encodeMessage(tt.m, domain)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := render(t, toks); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestEncodeMessageInvalid(t *testing.T) {
	domain := jid.MustParse("fb.test")
	ok := Message{ID: "1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("lib@example.org")}
	tests := []struct {
		name string
		mod  func(*Message)
	}{
		{"no id", func(m *Message) { m.ID = "" }},
		{"control character in id", func(m *Message) { m.ID = "\x01" }},
		{"no from", func(m *Message) { m.From = jid.JID{} }},
		{"foreign from", func(m *Message) { m.From = jid.MustParse("12@example.org") }},
		{"subdomain from", func(m *Message) { m.From = jid.MustParse("12@x.fb.test") }},
		{"no to", func(m *Message) { m.To = jid.JID{} }},
		{"error type", func(m *Message) { m.Type = "error" }},
		{"unknown type", func(m *Message) { m.Type = "private" }},
		{"unknown chat state", func(m *Message) { m.ChatState = "typing" }},
		{"control character in receipt id", func(m *Message) { m.ReceiptFor = "a\x00" }},
		{"control character in marker id", func(m *Message) { m.DisplayedFor = "\uFFFE" }},
		{"control character in corrected id", func(m *Message) { m.Replace = "\x1b" }},
		{"receipt requesting a receipt", func(m *Message) { m.ReceiptFor, m.ReceiptRequest = "m1", true }},
	}
	for _, tt := range tests {
		m := ok
		tt.mod(&m)
		if _, err := encodeMessage(m, domain); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", tt.name, err)
		}
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		e    StanzaError
		want string
	}{
		{"with text", StanzaError{Type: "cancel", Condition: "forbidden", Text: "not an operator"},
			`<message type="error" id="m1" from="12@fb.test" to="lib@example.org/r"><error type="cancel">` +
				`<forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></forbidden>` +
				`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">not an operator</text></error></message>`},
		{"unknown type and condition", StanzaError{Type: "bogus", Condition: "no such thing"},
			`<message type="error" id="m1" from="12@fb.test" to="lib@example.org/r"><error type="cancel">` +
				`<undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></undefined-condition></error></message>`},
	}
	for _, tt := range tests {
		got := render(t, encodeError("message", "m1", "12@fb.test", "lib@example.org/r", tt.e))
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if got := render(t, encodeError("iq", "q", "fb.test", "a@b", StanzaError{Type: "wait", Condition: "resource-constraint"})); !strings.HasPrefix(got, `<iq type="error" id="q"`) || !strings.Contains(got, `<error type="wait"><resource-constraint`) {
		t.Errorf("iq error: %s", got)
	}
}

func TestEncodePresence(t *testing.T) {
	domain := jid.MustParse("fb.test")
	tests := []struct {
		name string
		p    Presence
		want string
	}{
		{"available with nick", Presence{ID: "1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("op@example.org"), Nick: "Facebook patron 7f3a", Show: "chat", Status: "waiting", Priority: -1},
			`<presence id="1" from="12@fb.test" to="op@example.org"><show>chat</show><status>waiting</status><priority>-1</priority>` +
				`<nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick></presence>`},
		{"subscribe from the domain", Presence{ID: "2", From: jid.MustParse("FB.test"), To: jid.MustParse("Op@Example.org"), Type: "subscribe", Nick: "Ask \x00bridge"},
			`<presence type="subscribe" id="2" from="fb.test" to="op@example.org"><nick xmlns="http://jabber.org/protocol/nick">Ask bridge</nick></presence>`},
		{"unavailable", Presence{ID: "3", From: jid.MustParse("12@fb.test"), To: jid.MustParse("op@example.org/r"), Type: "unavailable", Status: "bye\x01"},
			`<presence type="unavailable" id="3" from="12@fb.test" to="op@example.org/r"><status>bye</status></presence>`},
		{"probe", Presence{ID: "4", From: jid.MustParse("fb.test"), To: jid.MustParse("op@example.org"), Type: "probe"},
			`<presence type="probe" id="4" from="fb.test" to="op@example.org"></presence>`},
		{"error", Presence{ID: "5", From: jid.MustParse("12@fb.test"), To: jid.MustParse("op@example.org"), Type: "error", Error: &StanzaError{Type: "cancel", Condition: "item-not-found"}},
			`<presence type="error" id="5" from="12@fb.test" to="op@example.org"><error type="cancel">` +
				`<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found></error></presence>`},
	}
	for _, tt := range tests {
		toks, err := encodePresence(tt.p, domain)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := render(t, toks); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestEncodePresenceInvalid(t *testing.T) {
	domain := jid.MustParse("fb.test")
	ok := Presence{ID: "1", From: jid.MustParse("12@fb.test"), To: jid.MustParse("op@example.org")}
	tests := []struct {
		name string
		mod  func(*Presence)
	}{
		{"no id", func(p *Presence) { p.ID = "" }},
		{"control character in id", func(p *Presence) { p.ID = "\x01" }},
		{"foreign from", func(p *Presence) { p.From = jid.MustParse("12@example.org") }},
		{"no to", func(p *Presence) { p.To = jid.JID{} }},
		{"unknown type", func(p *Presence) { p.Type = "invisible" }},
		{"unknown show", func(p *Presence) { p.Show = "busy" }},
		{"show when unavailable", func(p *Presence) { p.Type, p.Show = "unavailable", "away" }},
		{"priority too high", func(p *Presence) { p.Priority = 128 }},
		{"priority too low", func(p *Presence) { p.Priority = -129 }},
		{"error without error", func(p *Presence) { p.Type = "error" }},
		{"error on available", func(p *Presence) { p.Error = &StanzaError{Condition: "gone"} }},
	}
	for _, tt := range tests {
		p := ok
		tt.mod(&p)
		if _, err := encodePresence(p, domain); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", tt.name, err)
		}
	}
}

func TestEncodeForm(t *testing.T) {
	f := &Form{Title: "Tag", Instructions: "Line one\nline two", Fields: []FormField{
		{Var: "c", Label: "Conversation", Type: "list-single", Required: true, Value: []string{"1"},
			Options: []FormOption{{Label: "Patron 7f3a", Value: "1"}, {Value: "2"}}},
		{Var: "t", Type: "text-multi", Value: []string{"a\nb", "c"}},
		{Var: "x", Type: "bogus", Label: "l\x00"},
		{Type: "fixed", Value: []string{"note"}},
	}}
	// mellium's form package always names the type, and writes an option
	// without a label with its value as the label.
	want := `<x xmlns="jabber:x:data" type="form"><title>Tag</title><instructions>Line one</instructions><instructions>line two</instructions>` +
		`<field type="list-single" var="c" label="Conversation"><required></required><value>1</value>` +
		`<option label="Patron 7f3a"><value>1</value></option><option label="2"><value>2</value></option></field>` +
		`<field type="text-multi" var="t"><value>a</value><value>b</value><value>c</value></field>` +
		`<field type="text-single" var="x" label="l"></field><field type="fixed"><value>note</value></field></x>`
	if got := render(t, readTokens(f.data().TokenReader())); got != want {
		t.Errorf("form:\n got %s\nwant %s", got, want)
	}
}
