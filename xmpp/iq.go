package xmpp

import (
	"encoding/xml"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"
)

// Features advertised through service discovery (XEP-0030).
var (
	domainFeatures = []string{nsDiscoInfo, nsDiscoItems, nsPing, nsVersion, nsOOB}
	userFeatures   = []string{nsDiscoInfo, nsPing, nsOOB}
)

// handleIQ answers requests and resolves keepalive pings.
func (l *link) handleIQ(x *iqXML) {
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
	name, node := x.payload()
	user := to.Localpart() != ""
	var payload []xml.Token
	fail := StanzaError{Type: "cancel", Condition: "service-unavailable"}
	ok := x.Type == "get"
	if ok {
		switch {
		case name == xml.Name{Space: nsPing, Local: "ping"}:
		case (name == xml.Name{Space: nsDiscoInfo, Local: "query"} || name == xml.Name{Space: nsDiscoItems, Local: "query"}) && node != "":
			ok, fail = false, StanzaError{Type: "cancel", Condition: "item-not-found"} // we have no nodes
		case name == xml.Name{Space: nsDiscoInfo, Local: "query"}:
			payload = l.discoInfo(user)
		case name == xml.Name{Space: nsDiscoItems, Local: "query"}:
			payload = emptyElem(name)
		case name == xml.Name{Space: nsVersion, Local: "query"} && !user:
			payload = wrap(xml.StartElement{Name: name},
				textElem(xml.Name{Local: "name"}, sanitize(l.c.cfg.Name)),
				textElem(xml.Name{Local: "version"}, sanitize(l.c.cfg.Version)))
		default:
			ok = false
		}
	}
	if !ok {
		_ = l.write(encodeError("iq", x.ID, x.To, x.From, fail))
		return
	}
	start := xml.StartElement{Name: xml.Name{Local: "iq"}, Attr: []xml.Attr{
		attr("type", "result"), attr("id", x.ID), attr("from", x.To), attr("to", x.From),
	}}
	_ = l.write(wrap(start, payload))
}

// discoInfo is the disco#info answer for the domain (a gateway) or for one
// of its users (a patron, seen as a client).
func (l *link) discoInfo(user bool) []xml.Token {
	identity := emptyElem(xml.Name{Local: "identity"},
		attr("category", "gateway"), attr("type", "facebook"), attr("name", sanitize(l.c.cfg.Name)))
	features := domainFeatures
	if user {
		identity = emptyElem(xml.Name{Local: "identity"}, attr("category", "client"), attr("type", "pc"))
		features = userFeatures
	}
	inner := [][]xml.Token{identity}
	for _, f := range features {
		inner = append(inner, emptyElem(xml.Name{Local: "feature"}, attr("var", f)))
	}
	return wrap(xml.StartElement{Name: xml.Name{Space: nsDiscoInfo, Local: "query"}}, inner...)
}
