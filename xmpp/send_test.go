package xmpp_test

import (
	"errors"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"
)

func TestSendValidation(t *testing.T) {
	comp, err := xmpp.New(xmpp.Config{Server: "127.0.0.1:1", Domain: domain, Secret: "s"}, newRecorder(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := xmpp.Message{ID: "1", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "hi"}
	if err := comp.Send(ok); !errors.Is(err, xmpp.ErrNotConnected) {
		t.Errorf("Send before Run = %v, want ErrNotConnected", err)
	}
	if comp.Connected() || !comp.LastKeepalive().IsZero() {
		t.Error("a component that never ran reports a link")
	}
	bad := []func(m *xmpp.Message){
		func(m *xmpp.Message) { m.ID = "" },
		func(m *xmpp.Message) { m.ID = "a\x00b" },
		func(m *xmpp.Message) { m.From = jid.MustParse("12345@other.test") },
		func(m *xmpp.Message) { m.From = jid.MustParse("12345@sub.fb.test") },
		func(m *xmpp.Message) { m.From = jid.JID{} },
		func(m *xmpp.Message) { m.To = jid.JID{} },
		func(m *xmpp.Message) { m.Type = "error" },
		func(m *xmpp.Message) { m.ChatState = "typing" },
	}
	for i, mod := range bad {
		m := ok
		mod(&m)
		if err := comp.Send(m); !errors.Is(err, xmpp.ErrInvalidMessage) {
			t.Errorf("case %d: Send(%+v) = %v, want ErrInvalidMessage", i, m, err)
		}
	}

	okp := xmpp.Presence{From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Nick: "Facebook patron 7f3a"}
	if err := comp.SendPresence(okp); !errors.Is(err, xmpp.ErrNotConnected) {
		t.Errorf("SendPresence before Run = %v, want ErrNotConnected (an empty id is made up)", err)
	}
	badp := []func(p *xmpp.Presence){
		func(p *xmpp.Presence) { p.ID = "a\x00b" },
		func(p *xmpp.Presence) { p.From = jid.MustParse("12345@other.test") },
		func(p *xmpp.Presence) { p.To = jid.JID{} },
		func(p *xmpp.Presence) { p.Type = "available" },
		func(p *xmpp.Presence) { p.Show = "online" },
		func(p *xmpp.Presence) { p.Type = "error" },
	}
	for i, mod := range badp {
		p := okp
		mod(&p)
		if err := comp.SendPresence(p); !errors.Is(err, xmpp.ErrInvalidMessage) {
			t.Errorf("case %d: SendPresence(%+v) = %v, want ErrInvalidMessage", i, p, err)
		}
	}
}
