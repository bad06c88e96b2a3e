package xmpp

import "encoding/xml"

// Features advertised through service discovery (XEP-0030): exactly what
// the component handles. The domain adds nsCommands when the Handler is a
// CommandHandler.
var (
	domainFeatures = []string{nsDiscoInfo, nsDiscoItems, nsPing, nsVersion,
		nsChatStates, nsOOB, nsReceipts, nsMarkers, nsCorrect, nsNick, nsSID}
	userFeatures = []string{nsDiscoInfo, nsPing, nsChatStates, nsOOB, nsReceipts, nsMarkers, nsCorrect, nsSID}
)

var errItemNotFound = &StanzaError{Type: "cancel", Condition: "item-not-found"}

// discoInfo is the disco#info answer for the domain (a gateway), one of
// its users (a patron, seen as a client), the commands node or one of the
// commands offered to from.
func (l *link) discoInfo(from string, user bool, node string) ([]xml.Token, *StanzaError) {
	var identity []xml.Token
	var features []string
	switch {
	case user && node == "":
		identity = emptyElem(xml.Name{Local: "identity"}, attr("category", "client"), attr("type", "pc"))
		features = userFeatures
		if l.c.profiles != nil {
			features = append(features[:len(features):len(features)], nsVCard)
		}
	case user:
		return nil, errItemNotFound
	case node == "":
		identity = emptyElem(xml.Name{Local: "identity"},
			attr("category", "gateway"), attr("type", "facebook"), attr("name", sanitize(l.c.cfg.Name)))
		features = domainFeatures
		if l.c.commands != nil {
			features = append(features[:len(features):len(features)], nsCommands)
		}
	case l.c.commands == nil:
		return nil, errItemNotFound
	case node == nsCommands:
		identity = emptyElem(xml.Name{Local: "identity"},
			attr("category", "automation"), attr("type", "command-list"), attr("name", "Commands"))
		features = []string{nsDiscoInfo, nsDiscoItems}
	default:
		cmd, ok := findCommand(l.c.commands.Commands(from), node)
		if !ok {
			return nil, errItemNotFound
		}
		identity = emptyElem(xml.Name{Local: "identity"},
			attr("category", "automation"), attr("type", "command-node"), attr("name", sanitize(cmd.Name)))
		features = []string{nsCommands, nsData}
	}
	inner := [][]xml.Token{identity}
	for _, f := range features {
		inner = append(inner, emptyElem(xml.Name{Local: "feature"}, attr("var", f)))
	}
	return wrap(queryStart(nameDiscoInfo, node), inner...), nil
}

// discoItems is the disco#items answer: nothing, except on the domain's
// commands node, which lists the commands offered to from (XEP-0050 §2.2).
func (l *link) discoItems(from string, user bool, node string) ([]xml.Token, *StanzaError) {
	switch {
	case node == "":
		return emptyElem(nameDiscoItems), nil
	case user || l.c.commands == nil || node != nsCommands:
		return nil, errItemNotFound
	}
	var items [][]xml.Token
	for _, cmd := range l.c.commands.Commands(from) {
		node := sanitize(cmd.Node)
		if node == "" {
			continue
		}
		items = append(items, emptyElem(xml.Name{Local: "item"},
			attr("jid", l.c.domain.String()), attr("node", node), attr("name", sanitize(cmd.Name))))
	}
	return wrap(queryStart(nameDiscoItems, node), items...), nil
}

// queryStart is the start of a disco answer, echoing the node asked for.
func queryStart(name xml.Name, node string) xml.StartElement {
	start := xml.StartElement{Name: name}
	if node != "" {
		start.Attr = []xml.Attr{attr("node", node)}
	}
	return start
}
