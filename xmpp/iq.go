package xmpp

import (
	"context"
	"encoding/xml"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"
)

// Payload names of the requests the component answers.
var (
	nameDiscoInfo  = xml.Name{Space: nsDiscoInfo, Local: "query"}
	nameDiscoItems = xml.Name{Space: nsDiscoItems, Local: "query"}
	namePing       = xml.Name{Space: nsPing, Local: "ping"}
	nameVersion    = xml.Name{Space: nsVersion, Local: "query"}
	nameCommand    = xml.Name{Space: nsCommands, Local: "command"}
)

// handleIQ answers requests and resolves keepalive pings. Every get or set
// gets exactly one answer: a result or an error.
func (l *link) handleIQ(ctx context.Context, x *iqXML) {
	x.From = l.self(x.From)
	switch x.Type {
	case "result", "error":
		if !l.answered(x.ID) {
			l.c.log.Debug("unexpected iq answer", zap.String("id", x.ID), zap.String("from", x.From))
		}
		return
	case "get", "set":
	default:
		return // malformed; answering could loop
	}
	if x.ID == "" {
		return
	}
	to, err := jid.Parse(x.To)
	if err != nil || to.Domainpart() != l.c.domain.Domainpart() {
		_ = l.write(encodeError("iq", x.ID, l.c.domain.String(), x.From, StanzaError{Type: "modify", Condition: "jid-malformed"}))
		return
	}
	p := x.payload()
	user := to.Localpart() != ""
	if x.Type == "set" {
		if p.XMLName == nameCommand && !user && l.c.commands != nil {
			l.handleCommand(ctx, x, &p)
			return
		}
		l.answerError(x, StanzaError{Type: "cancel", Condition: "service-unavailable"})
		return
	}
	var payload []xml.Token
	var fail *StanzaError
	switch {
	case p.XMLName == namePing:
	case p.XMLName == nameDiscoInfo:
		payload, fail = l.discoInfo(x.From, user, p.Node)
	case p.XMLName == nameDiscoItems:
		payload, fail = l.discoItems(x.From, user, p.Node)
	case p.XMLName == nameVCard && user:
		payload, fail = l.vcard(to.Localpart())
	case p.XMLName == nameVersion && !user:
		payload = wrap(xml.StartElement{Name: nameVersion},
			textElem(xml.Name{Local: "name"}, sanitize(l.c.cfg.Name)),
			textElem(xml.Name{Local: "version"}, sanitize(l.c.cfg.Version)))
	default:
		fail = &StanzaError{Type: "cancel", Condition: "service-unavailable"}
	}
	if fail != nil {
		l.answerError(x, *fail)
		return
	}
	l.answer(x, payload)
}

// answer sends the result of the request x with payload (which may be
// empty), from the address the request went to.
func (l *link) answer(x *iqXML, payload ...[]xml.Token) {
	start := xml.StartElement{Name: xml.Name{Local: "iq"}, Attr: []xml.Attr{
		attr("type", "result"), attr("id", x.ID), attr("from", x.To), attr("to", x.From),
	}}
	_ = l.write(wrap(start, payload...))
}

// answerError sends an error answer to the request x.
func (l *link) answerError(x *iqXML, e StanzaError) {
	_ = l.write(encodeError("iq", x.ID, x.To, x.From, e))
}
