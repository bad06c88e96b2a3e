package xmpp

import (
	"encoding/xml"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// TestReplyWriter: answers written through a replyWriter are sent one
// stanza at a time, with namespaces only where they change, as the
// component wrote them before mellium built them.
func TestReplyWriter(t *testing.T) {
	var sent []string
	w := &replyWriter{send: func(toks []xml.Token) error {
		sent = append(sent, render(t, toks))
		return nil
	}}
	iq := stanza.IQ{XMLName: xml.Name{Space: component.NSAccept, Local: "iq"}, ID: "1", Type: stanza.GetIQ,
		From: jid.MustParse("lib@x/r"), To: jid.MustParse("fb.test")}
	query := xml.StartElement{Name: xml.Name{Space: nsDiscoInfo, Local: "query"}}
	payload := xmlstream.Wrap(xmlstream.MultiReader(
		info.Identity{Category: "gateway", Type: "facebook"}.TokenReader(),
		info.Feature{Var: nsPing}.TokenReader()), query)
	if err := reply(w, iq.Result(payload)); err != nil {
		t.Fatal(err)
	}
	if w.answered != true || len(sent) != 1 {
		t.Fatalf("answered %v, sent %q", w.answered, sent)
	}
	want := `<iq type="result" to="lib@x/r" from="fb.test" id="1"><query xmlns="http://jabber.org/protocol/disco#info">` +
		`<identity category="gateway" type="facebook"></identity><feature var="urn:xmpp:ping"></feature></query></iq>`
	if sent[0] != want {
		t.Errorf("sent\n %s\nwant\n %s", sent[0], want)
	}

	sent = nil
	if err := w.Encode(struct {
		XMLName xml.Name `xml:"jabber:component:accept iq"`
		Type    string   `xml:"type,attr"`
		Q       struct {
			XMLName xml.Name `xml:"jabber:iq:version query"`
			Name    string   `xml:"name"`
		}
	}{Type: "result"}); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || !strings.HasPrefix(sent[0], `<iq type="result"><query xmlns="jabber:iq:version"><name></name>`) {
		t.Errorf("Encode sent %q", sent)
	}
}
