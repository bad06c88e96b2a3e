package xmpp_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"
)

func TestMessagesBothWays(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	comp, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)
	if !comp.Connected() {
		t.Error("Connected() false after LinkChanged(true)")
	}

	t.Run("to librarian", func(t *testing.T) {
		m := xmpp.Message{
			ID: "out-1", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "Are you open on Sunday?",
			Nick: "Facebook patron 7f3a", OOB: "https://example.org/photo.jpg", ChatState: "active", Thread: "t-1",
		}
		if err := comp.Send(m); err != nil {
			t.Fatal(err)
		}
		r := next(t, lib)
		if r.ID != m.ID || r.From != patron || r.Type != "chat" || r.Body != m.Body {
			t.Errorf("librarian received %+v", r)
		}
		contains(t, "stanza", r.Raw,
			`<nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick>`,
			`<x xmlns="jabber:x:oob"><url>https://example.org/photo.jpg</url></x>`,
			`<active xmlns="http://jabber.org/protocol/chatstates">`,
			`<thread>t-1</thread>`)
	})

	t.Run("from librarian", func(t *testing.T) {
		id, err := lib.SendChat(patron, "Yes, 1 to 5 pm.")
		if err != nil {
			t.Fatal(err)
		}
		m := rec.nextMessage(t)
		want := xmpp.Message{ID: id, From: jid.MustParse(lib.JID()), To: jid.MustParse(patron), Type: "chat", Body: "Yes, 1 to 5 pm."}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("handler got %+v, want %+v", m, want)
		}

		err = lib.SendRaw(`<message type='chat' id='cs1' to='` + patron + `'><composing xmlns='http://jabber.org/protocol/chatstates'/>` +
			`<x xmlns='jabber:x:oob'><url>https://example.org/map.png</url></x><thread>th</thread></message>`)
		if err != nil {
			t.Fatal(err)
		}
		m = rec.nextMessage(t)
		want = xmpp.Message{ID: "cs1", From: jid.MustParse(lib.JID()), To: jid.MustParse(patron), Type: "chat", ChatState: "composing", OOB: "https://example.org/map.png", Thread: "th"}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("handler got %+v, want %+v", m, want)
		}
	})

	t.Run("extensions to librarian", func(t *testing.T) {
		tests := []struct {
			m    xmpp.Message
			want []string
		}{
			{xmpp.Message{ID: "ext-1", Body: "Is the library open?", ReceiptRequest: true, Markable: true},
				[]string{`<body>Is the library open?</body>`, `<request xmlns="urn:xmpp:receipts"></request>`,
					`<markable xmlns="urn:xmpp:chat-markers:0"></markable>`}},
			{xmpp.Message{ID: "ext-2", Body: "Is the library open today?", Replace: "ext-1", ReceiptRequest: true},
				[]string{`<body>Is the library open today?</body>`, `<replace xmlns="urn:xmpp:message-correct:0" id="ext-1"></replace>`}},
			// Delivery and read reports on the librarian's message lib-7:
			// no body, and still delivered.
			{xmpp.Message{ID: "ext-3", ReceiptFor: "lib-7", NoStore: true},
				[]string{`<received xmlns="urn:xmpp:receipts" id="lib-7"></received>`, `<no-store xmlns="urn:xmpp:hints"></no-store>`}},
			{xmpp.Message{ID: "ext-4", DisplayedFor: "lib-7", MarkerReceivedFor: "lib-6", NoStore: true},
				[]string{`<displayed xmlns="urn:xmpp:chat-markers:0" id="lib-7"></displayed>`,
					`<received xmlns="urn:xmpp:chat-markers:0" id="lib-6"></received>`}},
			{xmpp.Message{ID: "ext-5", ChatState: "composing", NoStore: true},
				[]string{`<composing xmlns="http://jabber.org/protocol/chatstates"></composing>`, `<no-store xmlns="urn:xmpp:hints"></no-store>`}},
		}
		for _, tt := range tests {
			tt.m.From, tt.m.To = jid.MustParse(patron), jid.MustParse("librarian@localhost")
			if err := comp.Send(tt.m); err != nil {
				t.Fatal(err)
			}
			r := next(t, lib)
			if r.ID != tt.m.ID || r.From != patron {
				t.Errorf("librarian received %s, want %s", r.Raw, tt.m.ID)
			}
			contains(t, "stanza", r.Raw, tt.want...)
		}
	})

	t.Run("extensions from librarian", func(t *testing.T) {
		tests := []struct {
			stanza string
			want   xmpp.Message
		}{
			{`<message type='chat' id='x1' to='` + patron + `'><received xmlns='urn:xmpp:receipts' id='ext-1'/></message>`,
				xmpp.Message{ID: "x1", ReceiptFor: "ext-1"}},
			{`<message type='chat' id='x2' to='` + patron + `'><displayed xmlns='urn:xmpp:chat-markers:0' id='ext-2'/><no-store xmlns='urn:xmpp:hints'/></message>`,
				xmpp.Message{ID: "x2", DisplayedFor: "ext-2", NoStore: true}},
			{`<message type='chat' id='x3' to='` + patron + `'><received xmlns='urn:xmpp:chat-markers:0' id='ext-2'/></message>`,
				xmpp.Message{ID: "x3", MarkerReceivedFor: "ext-2"}},
			{`<message type='chat' id='x4' to='` + patron + `'><body>Yes, until 9 pm.</body><replace xmlns='urn:xmpp:message-correct:0' id='m-old'/>` +
				`<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
				xmpp.Message{ID: "x4", Body: "Yes, until 9 pm.", Replace: "m-old", ReceiptRequest: true, Markable: true, ChatState: "active"}},
			{`<message type='chat' id='x5' to='` + patron + `'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
				xmpp.Message{ID: "x5", ChatState: "composing"}},
			{`<message type='chat' id='x6' to='` + patron + `'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`,
				xmpp.Message{ID: "x6", ChatState: "paused"}},
		}
		for _, tt := range tests {
			if err := lib.SendRaw(tt.stanza); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.From, want.To, want.Type = jid.MustParse(lib.JID()), jid.MustParse(patron), "chat"
			if m := rec.nextMessage(t); !reflect.DeepEqual(m, want) {
				t.Errorf("handler got %+v,\nwant %+v", m, want)
			}
		}
	})

	t.Run("handler refuses", func(t *testing.T) {
		rec.setReply(&xmpp.StanzaError{Type: "cancel", Condition: "forbidden", Text: "not an operator"})
		defer rec.setReply(nil)
		id, err := lib.SendChat(patron, "let me in")
		if err != nil {
			t.Fatal(err)
		}
		rec.nextMessage(t)
		r := next(t, lib)
		if r.ID != id || r.Type != "error" || r.ErrorCondition != "forbidden" || r.From != patron {
			t.Errorf("librarian received %+v, want a forbidden error for %s", r, id)
		}
		contains(t, "error", r.Raw, `<error type="cancel">`, "not an operator")
	})

	t.Run("message to the domain", func(t *testing.T) {
		if _, err := lib.SendChat(domain, "hello gateway"); err != nil {
			t.Fatal(err)
		}
		if m := rec.nextMessage(t); m.To.String() != domain || m.Body != "hello gateway" {
			t.Errorf("handler got %+v", m)
		}
	})
}

func TestBounces(t *testing.T) {
	e := newEnv(t)
	comp, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)

	tests := []struct{ to, condition string }{
		{"nobody@localhost", "service-unavailable"},  // no such account
		{"someone@elsewhere.example", "not-allowed"}, // no s2s on the test server
	}
	for i, tt := range tests {
		id := fmt.Sprint("bounce-", i)
		if err := comp.Send(xmpp.Message{ID: id, From: jid.MustParse(patron), To: jid.MustParse(tt.to), Body: "hello?"}); err != nil {
			t.Fatal(err)
		}
		b := rec.nextBounce(t)
		if b.ID != id || b.From.String() != tt.to || b.To.String() != patron || b.Error.Condition != tt.condition || b.Error.Type != "cancel" {
			t.Errorf("bounce %+v, want %s for %s", b, tt.condition, id)
		}
	}
	if !comp.Connected() {
		t.Error("a bounce took the link down")
	}
}

func TestForbiddenCharacters(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	comp, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)

	nasty := "a\x00b\x01c\x1bd\uFFFEe\uFFFFf\xed\xa0\x80g\xffh\ti\nj"
	if err := comp.Send(xmpp.Message{ID: "bad-1", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: nasty, Nick: "n\x00ick", Thread: "\x02"}); err != nil {
		t.Fatal(err)
	}
	if err := comp.Send(xmpp.Message{ID: "after-1", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "still here"}); err != nil {
		t.Fatal(err)
	}
	r := next(t, lib)
	if r.ID != "bad-1" || r.Body != "abcdefgh\ti\nj" {
		t.Errorf("received %q (id %s), want the body without forbidden characters", r.Body, r.ID)
	}
	contains(t, "stanza", r.Raw, ">nick</nick>")
	if strings.Contains(r.Raw, "<thread>") {
		t.Errorf("a thread of only forbidden characters was sent: %s", r.Raw)
	}
	if r := next(t, lib); r.ID != "after-1" || r.Body != "still here" {
		t.Errorf("message after the bad one: %+v", r)
	}
	if !comp.Connected() {
		t.Error("link went down")
	}
}
