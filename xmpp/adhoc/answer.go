package adhoc

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/commands"
	"mellium.im/xmpp/stanza"
)

// Application conditions of XEP-0050 §4.6, sent with bad-request.
const (
	condBadAction       = "bad-action"
	condMalformedAction = "malformed-action"
	condBadSessionID    = "bad-sessionid"
)

// singlePage is the <actions/> offered with a form: complete it, the
// default.
const singlePage = commands.Complete | commands.Complete<<3

// payload is the <command/> of a call's result.
func (r Response) payload(node, sid string, status Status) xml.TokenReader {
	withForm := status == Executing && r.Form != nil
	var inner []xml.TokenReader
	if withForm {
		inner = append(inner, singlePage.TokenReader())
	}
	if r.Note != "" {
		inner = append(inner, commands.Note{Type: commands.NoteInfo, Value: r.Note}.TokenReader())
	}
	if withForm {
		inner = append(inner, r.Form.TokenReader())
	}
	return xmlstream.Wrap(xmlstream.MultiReader(inner...), xml.StartElement{
		Name: xml.Name{Space: NS, Local: "command"},
		Attr: []xml.Attr{
			{Name: xml.Name{Local: "node"}, Value: node},
			{Name: xml.Name{Local: "sessionid"}, Value: sid},
			{Name: xml.Name{Local: "status"}, Value: string(status)},
		},
	})
}

// errorAnswer is the error answering iq: e, followed by the XEP-0050
// condition cond if not empty.
func errorAnswer(iq stanza.IQ, e stanza.Error, cond string) xml.TokenReader {
	var app xml.TokenReader
	if cond != "" {
		app = xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: NS, Local: cond}})
	}
	iq.Type = stanza.ErrorIQ
	iq.From, iq.To = iq.To, iq.From
	return iq.Wrap(e.Wrap(app))
}

// badRequest is a bad-request error with the XEP-0050 condition cond.
func badRequest(iq stanza.IQ, cond string) xml.TokenReader {
	return errorAnswer(iq, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}, cond)
}
