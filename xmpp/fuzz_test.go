package xmpp

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/zap"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
)

// Fuzz targets for the stanza encoder (what patrons' text becomes on the
// component stream) and for the handler that decodes stanzas arriving on
// it (what librarians and the server send).

// xmlChar reports whether r is a Char of XML 1.0 (§2.2), written out
// independently of isXMLChar.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(0x20 <= r && r <= 0xD7FF) || (0xE000 <= r && r <= 0xFFFD) || (0x10000 <= r && r <= 0x10FFFF)
}

// wantSanitized is sanitize's specification: the XML characters of s, with
// bytes that are not UTF-8 dropped.
func wantSanitized(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				continue // an invalid byte, not U+FFFD itself
			}
		}
		if xmlChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "Are you open?", "a\tb\nc\rd", "a\x00b", "\x01\x02\x08\x0b\x0c\x0e\x1f.",
		"a\x7f\u0085b", "a\uFFFEb\uFFFFc", "a\uFFFDb", "a\xed\xa0\x80b\xed\xbf\xbfc", "a\xffb\xc3", "📚 books",
		"\uE000\U0010FFFD", "\xf4\x90\x80\x80", "\xc0\x80", "]]>", "&amp;<![CDATA[x]]>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sanitize(s)
		if want := wantSanitized(s); got != want {
			t.Fatalf("sanitize(%q) = %q, want %q", s, got, want)
		}
		if sanitize(got) != got {
			t.Fatalf("sanitize is not idempotent on %q", s)
		}
		if clean(s) != (got == s) {
			t.Fatalf("clean(%q) = %v, but sanitize changes it to %q", s, clean(s), got)
		}
	})
}

// renderTokens writes toks with encoding/xml, as the stream does.
func renderTokens(toks []xml.Token) ([]byte, error) {
	var buf bytes.Buffer
	e := xml.NewEncoder(&buf)
	for _, tok := range toks {
		if err := e.EncodeToken(tok); err != nil {
			return nil, err
		}
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// wellFormed reads all of doc with a strict decoder.
func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fuzzJID parses a fuzzed address; one that does not parse is the zero
// JID, which the encoder must refuse as it refused the string before
// addresses were typed.
func fuzzJID(s string) jid.JID {
	j, _ := jid.Parse(s)
	return j
}

var (
	fuzzTypes  = []string{"", "chat", "normal", "groupchat", "headline", "error", "bogus"}
	fuzzStates = []string{"", "active", "composing", "paused", "inactive", "gone", "typing"}
)

func FuzzEncodeMessage(f *testing.F) {
	f.Add("fb-1", "12", "lib@example.org/pidgin", "hi <there> & bye", "", "Facebook patron 7f3a", "https://x.example/a?b=1&c=2", uint8(0), uint8(0))
	f.Add("fb-2", "", "lib@example.org", "", "t", "", "", uint8(1), uint8(1))
	f.Add("\x01", "12", "lib@example.org", "x", "", "", "", uint8(0), uint8(0))
	f.Add("ab-3", "12/res", "Lib@Example.org", "\x00a\x01\r\n\r\t]]>\uFFFE\xff", "\x0b", "\x02", "\x1b[31m", uint8(2), uint8(3))
	f.Add("4", "Ünïcödé", "ask@chat.library.test", "📚\ud7ff\ue000\U0010ffff", "\r", "\n", " ", uint8(3), uint8(5))
	f.Add("5", "12", "", "x", "", "", "", uint8(0), uint8(0))
	f.Add("6", "12", "@example.org", "x", "", "", "", uint8(5), uint8(6))
	f.Add("7", "a b", "l@x/\u0000", "x", "", "", "", uint8(0), uint8(0))
	f.Add("8", "12", "l@x/r\uFFFE", "x", "", "", "", uint8(0), uint8(0))
	f.Add("9\n\t", "12", "l@x/ r ", strings.Repeat("long text ", 1000), "", "", "", uint8(0), uint8(0))
	domain := jid.MustParse("fb.test")
	f.Fuzz(func(t *testing.T, id, fromLocal, to, body, thread, nick, oob string, typ, state uint8) {
		from := "fb.test"
		if fromLocal != "" {
			from = fromLocal + "@fb.test"
		}
		m := Message{ID: id, From: fuzzJID(from), To: fuzzJID(to), Type: fuzzTypes[int(typ)%len(fuzzTypes)],
			ChatState: fuzzStates[int(state)%len(fuzzStates)], Body: body, Thread: thread, Nick: nick, OOB: oob}
		toks, err := encodeMessage(m, domain)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
			}
			return
		}
		if id == "" || sanitize(id) != id {
			t.Fatalf("encoded a message with id %q", id)
		}
		doc, err := renderTokens(toks)
		if err != nil {
			t.Fatalf("encoding the stanza: %v", err)
		}
		if err := wellFormed(doc); err != nil {
			t.Fatalf("stanza is not well-formed XML: %v\n%q", err, doc)
		}
		var x messageXML
		if err := xml.Unmarshal(doc, &x); err != nil {
			t.Fatalf("stanza does not decode: %v\n%q", err, doc)
		}
		got := x.message(m.From, m.To)
		wantFrom, wantTo := jid.MustParse(from).String(), jid.MustParse(to).String()
		if x.ID != id || x.From != wantFrom || x.To != wantTo {
			t.Errorf("addresses: got id %q from %q to %q, want %q %q %q", x.ID, x.From, x.To, id, wantFrom, wantTo)
		}
		if !strings.HasSuffix(wantFrom, "fb.test") {
			t.Errorf("from %q is outside the component domain", wantFrom)
		}
		wantType := m.Type
		if wantType == "" {
			wantType = "chat"
		}
		if got.Type != wantType || got.ChatState != m.ChatState {
			t.Errorf("type %q state %q, want %q %q", got.Type, got.ChatState, wantType, m.ChatState)
		}
		for _, c := range []struct{ name, got, in string }{
			{"body", got.Body, body}, {"thread", got.Thread, thread}, {"nick", got.Nick, nick}, {"oob", got.OOB, oob},
		} {
			want := wantSanitized(c.in)
			if c.name == "body" && want != c.in && strings.TrimSpace(want) == "" {
				want = NoDisplayableText
			}
			if c.got != want {
				t.Errorf("%s came back as %q, want %q (sent %q)\n%q", c.name, c.got, want, c.in, doc)
			}
		}
	})
}

func FuzzEncodeError(f *testing.F) {
	f.Add("m1", "12@fb.test", "lib@example.org/r", "cancel", "forbidden", "not an operator")
	f.Add("", "", "", "", "", "")
	f.Add("\x00id\xff", "a\x01", "\uFFFE", "bogus", "no such thing", "\x1b\r\n]]>")
	f.Add("q", "fb.test", "a@b", "wait", "resource-constraint", strings.Repeat("é", 3000))
	f.Fuzz(func(t *testing.T, id, from, to, typ, cond, text string) {
		for _, kind := range []string{"message", "iq"} {
			doc, err := renderTokens(encodeError(kind, id, from, to, StanzaError{Type: typ, Condition: cond, Text: text}))
			if err != nil {
				t.Fatalf("encoding the error: %v", err)
			}
			if err := wellFormed(doc); err != nil {
				t.Fatalf("error stanza is not well-formed XML: %v\n%q", err, doc)
			}
			var x struct {
				XMLName xml.Name
				Type    string   `xml:"type,attr"`
				ID      string   `xml:"id,attr"`
				Error   errorXML `xml:"error"`
			}
			if err := xml.Unmarshal(doc, &x); err != nil {
				t.Fatalf("error stanza does not decode: %v\n%q", err, doc)
			}
			se := x.Error.stanzaError()
			if x.XMLName.Local != kind || x.Type != "error" || x.ID != sanitize(id) {
				t.Errorf("got <%s type=%q id=%q>, want <%s type=\"error\" id=%q>", x.XMLName.Local, x.Type, x.ID, kind, sanitize(id))
			}
			if !errorTypes[se.Type] || !errorConditions[se.Condition] {
				t.Errorf("type %q condition %q are not defined ones", se.Type, se.Condition)
			}
			if errorTypes[typ] && se.Type != typ || errorConditions[cond] && se.Condition != cond {
				t.Errorf("type %q condition %q, want %q %q", se.Type, se.Condition, typ, cond)
			}
			if se.Text != sanitize(text) {
				t.Errorf("text %q, want %q", se.Text, sanitize(text))
			}
		}
	})
}

// fuzzHandler records what the link hands it and answers messages with
// a fixed error, if any. It offers one command, "tag", which asks for a
// form first.
type fuzzHandler struct {
	msgs      []Message
	bounces   []Bounce
	presences []Presence
	runs      []CommandRequest
	reply     *StanzaError
}

func (h *fuzzHandler) HandlePresence(_ context.Context, p Presence) {
	h.presences = append(h.presences, p)
}

func (h *fuzzHandler) Commands(jid.JID) []Command { return []Command{{Node: "tag", Name: "Tag"}} }

func (h *fuzzHandler) RunCommand(_ context.Context, _ jid.JID, req CommandRequest) CommandResponse {
	h.runs = append(h.runs, req)
	if req.Values == nil {
		return CommandResponse{Form: &Form{Fields: []FormField{{Var: "tags", Type: "text-multi"}}}}
	}
	return CommandResponse{Note: "done", Error: h.reply}
}

func (h *fuzzHandler) HandleMessage(_ context.Context, m Message) *StanzaError {
	h.msgs = append(h.msgs, m)
	return h.reply
}

func (h *fuzzHandler) HandleBounce(_ context.Context, b Bounce) { h.bounces = append(h.bounces, b) }

func (h *fuzzHandler) LinkChanged(bool) {}

// readOnly is the TokenReadEncoder Serve hands the handler; the handler
// must answer through link.write, never through it.
type readOnly struct {
	xml.TokenReader
	t *testing.T
}

func (r readOnly) EncodeToken(xml.Token) error {
	r.t.Error("handler wrote through Serve's encoder")
	return errors.New("read only")
}
func (r readOnly) Flush() error                              { return nil }
func (r readOnly) Encode(any) error                          { return r.EncodeToken(nil) }
func (r readOnly) EncodeElement(any, xml.StartElement) error { return r.EncodeToken(nil) }

// fuzzStreamHeader opens a component stream, so that stanzas get its
// namespace as they do from the server.
const fuzzStreamHeader = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams" from="fb.test" id="s1">`

func FuzzHandleStanza(f *testing.F) {
	for _, s := range []string{
		`<message type="chat" id="a" from="l@x/r" to="1@fb.test"><body>hi</body></message>`,
		`<message id="b" from="l@x" to="1@fb.test"><body xml:lang="en">hello</body><body>bonjour</body></message>`,
		`<message type="chat" id="c" from="l@x" to="1@fb.test"><thread>t9</thread><paused xmlns="http://jabber.org/protocol/chatstates"/>` +
			`<x xmlns="jabber:x:oob"><url>https://u</url></x><x xmlns="jabber:x:oob"><url>https://v</url></x>` +
			`<nick xmlns="http://jabber.org/protocol/nick">Ann</nick><request xmlns="urn:xmpp:receipts"/></message>`,
		`<message type="chat" id="d" from="l@x" to="other.example"><body>not for us</body></message>`,
		`<message type="chat" id="e" to="fb.test"><body>to the component, from the server</body></message>`,
		`<message type="error" id="f" from="l@x" to="1@fb.test"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`<message type="error" id="g" from="l@x" to="1@fb.test"/>`,
		`<message type="chat" id="h" from="l@x" to="@@@"><body>&#x1;</body></message>`,
		`<message type="chat" id="i" from="l@x" to="1@fb.test"><body>&amp;&lt;&#xD;&#x10FFFF;<![CDATA[<x>]]></body><body><b/></body></message>`,
		`<message><body><body><body>nested</body></body></body></message>`,
		`<iq type="get" id="1" from="l@x/r" to="fb.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
		`<iq type="get" id="2" from="l@x/r" to="1@fb.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		`<iq type="get" id="3" from="l@x/r" to="fb.test"><query xmlns="http://jabber.org/protocol/disco#items" node="n"/></iq>`,
		`<iq type="get" id="4" from="l@x/r" to="fb.test"><query xmlns="jabber:iq:version"/></iq>`,
		`<iq type="set" id="5" from="l@x/r" to="elsewhere"><query xmlns="jabber:iq:roster"/></iq>`,
		`<iq type="result" id="ka-1" from="fb.test" to="fb.test"/>`,
		`<iq type="get" from="l@x/r" to="fb.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
		`<iq type="bogus" id="6"/>`,
		`<presence from="l@x/r" to="1@fb.test"><show>away</show></presence>`,
		`<presence type="subscribe" from="l@x" to="fb.test"><nick xmlns="http://jabber.org/protocol/nick">Ann</nick></presence>`,
		`<presence type="error" id="p1" from="l@x" to="1@fb.test"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`,
		`<presence type="invisible" from="l@x" to="1@fb.test"/>`,
		`<presence from="l@x/r" to="elsewhere"><priority>-999999999999999999999</priority></presence>`,
		`<message type="chat" id="k" from="l@x" to="1@fb.test"><received xmlns="urn:xmpp:receipts"/><displayed xmlns="urn:xmpp:chat-markers:0" id="z"/><replace xmlns="urn:xmpp:message-correct:0" id="y"/></message>`,
		`<iq type="set" id="7" from="l@x/r" to="fb.test"><command xmlns="http://jabber.org/protocol/commands" node="tag"/></iq>`,
		`<iq type="set" id="8" from="l@x/r" to="fb.test"><command xmlns="http://jabber.org/protocol/commands" node="tag" sessionid="s" action="complete"><x xmlns="jabber:x:data" type="submit"><field var="tags"><value>a</value></field></x></command></iq>`,
		`<iq type="set" id="9" from="l@x/r" to="fb.test"><command xmlns="http://jabber.org/protocol/commands" node="nope" action="bogus"/></iq>`,
		`<iq type="get" id="10" from="l@x/r" to="fb.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
		`<message xmlns="jabber:client" type="chat" id="j" from="l@x" to="1@fb.test"><body>other ns</body></message>`,
		`<foo:message xmlns:foo="urn:x" to="1@fb.test"><body>prefixed</body></foo:message>`,
		`<message to="1@fb.test"><body>unclosed</message>`,
		`<message to="1@fb.test"><body>truncated`,
		`</stream:stream>`,
		`  `,
		"<message to=\"1@fb.test\"><body>\x00</body></message>",
		"<message to=\"1@fb.test\"><body>\xff</body></message>",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, stanza string, refuse bool) {
		h := &fuzzHandler{}
		if refuse {
			h.reply = &StanzaError{Type: "auth", Condition: "forbidden", Text: "no"}
		}
		c := &Component{cfg: Config{Name: "askbridge-fuzz", Version: "0"}, domain: jid.MustParse("fb.test"), h: h, log: zap.NewNop(),
			presence: h, commands: h}
		l := &link{c: c, dead: make(chan struct{}), handlers: make(chan func(), handlerQueue)}
		close(l.dead) // answers go nowhere; write fails at once

		d := xml.NewDecoder(strings.NewReader(fuzzStreamHeader + stanza))
		if _, err := d.Token(); err != nil { // the stream header
			t.Fatal(err)
		}
		var start xml.StartElement
		for {
			tok, err := d.Token()
			if err != nil {
				return // no stanza: the stream would end here
			}
			if s, ok := tok.(xml.StartElement); ok {
				start = s
				break
			}
			if _, ok := tok.(xml.CharData); !ok {
				return // mellium ends the stream on anything else
			}
		}
		r := readOnly{TokenReader: xmlstream.InnerElement(d), t: t}
		handled := make(chan struct{})
		go func() {
			defer close(handled)
			l.runHandlers()
		}()
		if err := l.handler(context.Background())(r, &start); err != nil {
			t.Fatalf("handler returned %v: that ends the stream", err)
		}
		_, _ = xmlstream.Copy(xmlstream.Discard(), r) // as Serve does
		close(l.handlers)
		<-handled // the Handler calls the stanza made

		for _, m := range h.msgs {
			if start.Name.Local != "message" {
				t.Fatalf("a <%s> reached HandleMessage", start.Name.Local)
			}
			if m.To.Domainpart() != "fb.test" {
				t.Errorf("message to %q reached HandleMessage", m.To)
			}
			if m.Type == "error" || m.Type == "" {
				t.Errorf("message of type %q reached HandleMessage", m.Type)
			}
			if m.From.Domainpart() == "" {
				t.Error("message without from reached HandleMessage")
			}
			for _, s := range []string{m.ID, m.From.String(), m.To.String(), m.Type, m.Body, m.Thread, m.Nick, m.OOB} {
				if sanitize(s) != s {
					t.Errorf("decoded text %q has characters XML cannot carry", s)
				}
			}
			if h.reply != nil {
				// What handleMessage writes back must be well-formed.
				doc, err := renderTokens(encodeError("message", m.ID, m.To.String(), m.From.String(), *h.reply))
				if err != nil {
					t.Fatal(err)
				}
				if err := wellFormed(doc); err != nil {
					t.Fatalf("error answer is not well-formed: %v\n%q", err, doc)
				}
			}
		}
		for _, p := range h.presences {
			if start.Name.Local != "presence" {
				t.Fatalf("a <%s> reached HandlePresence", start.Name.Local)
			}
			if p.To.Domainpart() != "fb.test" {
				t.Errorf("presence to %q reached HandlePresence", p.To)
			}
			if !presenceTypes[p.Type] || (p.Show != "" && !showValues[p.Show]) || p.Priority < -128 || p.Priority > 127 ||
				(p.Type == "error") != (p.Error != nil) || p.From.Domainpart() == "" {
				t.Errorf("HandlePresence got %+v", p)
			}
			for _, s := range []string{p.ID, p.From.String(), p.To.String(), p.Status, p.Nick} {
				if sanitize(s) != s {
					t.Errorf("decoded text %q has characters XML cannot carry", s)
				}
			}
		}
		for _, r := range h.runs {
			if start.Name.Local != "iq" || r.Node != "tag" || r.SessionID == "" {
				t.Errorf("RunCommand got %+v from a <%s>", r, start.Name.Local)
			}
		}
		if len(h.msgs)+len(h.bounces)+len(h.presences)+len(h.runs) > 1 {
			t.Fatalf("one stanza gave %d messages, %d bounces, %d presences and %d command runs",
				len(h.msgs), len(h.bounces), len(h.presences), len(h.runs))
		}
		for _, b := range h.bounces {
			if start.Name.Local != "message" || b.Error.Condition == "" {
				t.Errorf("bounce %+v from a <%s>", b, start.Name.Local)
			}
		}
	})
}

var fuzzPresenceTypes = []string{"", "unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error", "bogus"}

func FuzzEncodePresence(f *testing.F) {
	f.Add("p1", "12", "op@example.org", "", "Facebook patron 7f3a", "waiting", 0, uint8(0))
	f.Add("p2", "", "op@example.org/r", "away", "\x00", "\uFFFE]]>", 5, uint8(0))
	f.Add("", "12", "@x", "busy", "n", "s", 128, uint8(7))
	f.Add("p3", "12", "op@example.org", "", "", "", -128, uint8(2))
	domain := jid.MustParse("fb.test")
	f.Fuzz(func(t *testing.T, id, fromLocal, to, show, nick, status string, prio int, typ uint8) {
		from := "fb.test"
		if fromLocal != "" {
			from = fromLocal + "@fb.test"
		}
		p := Presence{ID: id, From: fuzzJID(from), To: fuzzJID(to), Type: fuzzPresenceTypes[int(typ)%len(fuzzPresenceTypes)],
			Show: show, Nick: nick, Status: status, Priority: prio}
		if p.Type == "error" {
			p.Error = &StanzaError{Type: "cancel", Condition: "not-allowed", Text: status}
		}
		toks, err := encodePresence(p, domain)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
			}
			return
		}
		doc, err := renderTokens(toks)
		if err != nil {
			t.Fatalf("encoding the stanza: %v", err)
		}
		if err := wellFormed(doc); err != nil {
			t.Fatalf("stanza is not well-formed XML: %v\n%q", err, doc)
		}
		var x presenceXML
		if err := xml.Unmarshal(doc, &x); err != nil {
			t.Fatalf("stanza does not decode: %v\n%q", err, doc)
		}
		got := x.presence(p.From, p.To)
		if got.ID != id || got.Type != p.Type || got.Show != show || got.Priority != prio ||
			got.Nick != wantSanitized(nick) || (p.Type != "error" && got.Status != wantSanitized(status)) {
			t.Errorf("round trip: got %+v, sent %+v\n%q", got, p, doc)
		}
	})
}
