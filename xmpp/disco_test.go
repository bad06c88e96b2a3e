package xmpp_test

import (
	"fmt"
	"testing"
)

func TestDisco(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	_, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)

	tests := []struct {
		name, to, payload string
		typ               string
		want              []string
	}{
		{"info of the domain", domain, `<query xmlns='http://jabber.org/protocol/disco#info'/>`, "result", []string{
			`<query xmlns="http://jabber.org/protocol/disco#info">` +
				`<identity category="gateway" name="askbridge-test" type="facebook"></identity>` +
				`<feature var="http://jabber.org/protocol/disco#info"></feature>` +
				`<feature var="http://jabber.org/protocol/disco#items"></feature>` +
				`<feature var="urn:xmpp:ping"></feature><feature var="jabber:iq:version"></feature>` +
				`<feature var="http://jabber.org/protocol/chatstates"></feature><feature var="jabber:x:oob"></feature>` +
				`<feature var="urn:xmpp:receipts"></feature><feature var="urn:xmpp:chat-markers:0"></feature>` +
				`<feature var="urn:xmpp:message-correct:0"></feature><feature var="http://jabber.org/protocol/nick"></feature><feature var="urn:xmpp:sid:0"></feature></query>`,
		}},
		{"info of a patron", patron, `<query xmlns='http://jabber.org/protocol/disco#info'/>`, "result", []string{
			`<query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="pc"></identity>` +
				`<feature var="http://jabber.org/protocol/disco#info"></feature><feature var="urn:xmpp:ping"></feature>` +
				`<feature var="http://jabber.org/protocol/chatstates"></feature><feature var="jabber:x:oob"></feature>` +
				`<feature var="urn:xmpp:receipts"></feature><feature var="urn:xmpp:chat-markers:0"></feature>` +
				`<feature var="urn:xmpp:message-correct:0"></feature><feature var="urn:xmpp:sid:0"></feature></query>`,
		}},
		{"items", domain, `<query xmlns='http://jabber.org/protocol/disco#items'/>`, "result", []string{
			`<query xmlns="http://jabber.org/protocol/disco#items"></query>`,
		}},
		{"version", domain, `<query xmlns='jabber:iq:version'/>`, "result", []string{
			`<name>askbridge-test</name>`, `<version>1.2.3</version>`,
		}},
		{"ping the domain", domain, `<ping xmlns='urn:xmpp:ping'/>`, "result", nil},
		{"ping a patron", patron, `<ping xmlns='urn:xmpp:ping'/>`, "result", nil},
		{"unknown query", domain, `<query xmlns='jabber:iq:last'/>`, "error", []string{"<service-unavailable"}},
		{"info of a node", domain, `<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>`, "error", []string{"<item-not-found"}},
		// The recorder is no CommandHandler: no commands feature, no
		// commands node.
		{"no commands", domain, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`, "error", []string{"<item-not-found"}},
		{"no commands info", domain, `<query xmlns='http://jabber.org/protocol/disco#info' node='http://jabber.org/protocol/commands'/>`, "error", []string{"<item-not-found"}},
		{"node of a patron", patron, `<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>`, "error", []string{"<item-not-found"}},
		{"version of a patron", patron, `<query xmlns='jabber:iq:version'/>`, "error", []string{"<service-unavailable"}},
		// The recorder is no ProfileHandler either.
		{"no vCard", patron, `<vCard xmlns='vcard-temp'/>`, "error", []string{"<service-unavailable"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprint("iq", i)
			if err := lib.SendRaw(fmt.Sprintf(`<iq type='get' id='%s' to='%s'>%s</iq>`, id, tt.to, tt.payload)); err != nil {
				t.Fatal(err)
			}
			r := nextIQ(t, lib)
			if r.ID != id || r.Type != tt.typ || r.From != tt.to {
				t.Errorf("answer %+v, want type %s from %s", r, tt.typ, tt.to)
			}
			contains(t, "answer", r.Raw, tt.want...)
		})
	}
	t.Run("set", func(t *testing.T) {
		if err := lib.SendRaw(`<iq type='set' id='s1' to='` + domain + `'><query xmlns='jabber:iq:register'/></iq>`); err != nil {
			t.Fatal(err)
		}
		if r := nextIQ(t, lib); r.ID != "s1" || r.ErrorCondition != "service-unavailable" {
			t.Errorf("answer %+v, want service-unavailable", r)
		}
		if err := lib.SendRaw(`<iq type='set' id='s2' to='` + domain + `'><command xmlns='http://jabber.org/protocol/commands' node='open'/></iq>`); err != nil {
			t.Fatal(err)
		}
		if r := nextIQ(t, lib); r.ID != "s2" || r.ErrorCondition != "service-unavailable" {
			t.Errorf("command answer %+v, want service-unavailable from a handler without commands", r)
		}
	})
}
