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
		{"body only", Message{ID: "1", From: "12@fb.test", To: "lib@example.org", Body: "hi <there> & bye"},
			`<message type="chat" id="1" from="12@fb.test" to="lib@example.org"><body>hi &lt;there&gt; &amp; bye</body></message>`},
		{"everything", Message{ID: "2", From: "12@fb.test", To: "lib@example.org/pidgin", Type: "normal", Body: "b",
			Thread: "t", Nick: "Facebook patron 7f3a", OOB: "https://x.example/a?b=1&c=2", ChatState: "active"},
			`<message type="normal" id="2" from="12@fb.test" to="lib@example.org/pidgin"><body>b</body><thread>t</thread>` +
				`<nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick>` +
				`<x xmlns="jabber:x:oob"><url>https://x.example/a?b=1&amp;c=2</url></x>` +
				`<active xmlns="http://jabber.org/protocol/chatstates"></active></message>`},
		{"chat state only", Message{ID: "3", From: "12@fb.test", To: "lib@example.org", ChatState: "composing"},
			`<message type="chat" id="3" from="12@fb.test" to="lib@example.org"><composing xmlns="http://jabber.org/protocol/chatstates"></composing></message>`},
		{"from the domain, normalised", Message{ID: "4", From: "FB.test", To: "Lib@Example.org", Body: "x"},
			`<message type="chat" id="4" from="fb.test" to="lib@example.org"><body>x</body></message>`},
		{"forbidden characters", Message{ID: "5", From: "12@fb.test", To: "lib@example.org", Body: "\x00a\x01", Nick: "\x02"},
			`<message type="chat" id="5" from="12@fb.test" to="lib@example.org"><body>a</body></message>`},
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
	ok := Message{ID: "1", From: "12@fb.test", To: "lib@example.org"}
	tests := []struct {
		name string
		mod  func(*Message)
	}{
		{"no id", func(m *Message) { m.ID = "" }},
		{"control character in id", func(m *Message) { m.ID = "\x01" }},
		{"no from", func(m *Message) { m.From = "" }},
		{"foreign from", func(m *Message) { m.From = "12@example.org" }},
		{"subdomain from", func(m *Message) { m.From = "12@x.fb.test" }},
		{"no to", func(m *Message) { m.To = "" }},
		{"malformed to", func(m *Message) { m.To = "@example.org" }},
		{"error type", func(m *Message) { m.Type = "error" }},
		{"unknown type", func(m *Message) { m.Type = "private" }},
		{"unknown chat state", func(m *Message) { m.ChatState = "typing" }},
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
