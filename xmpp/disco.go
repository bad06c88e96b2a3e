package xmpp

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/stanza"

	"github.com/askbridge/askbridge/xmpp/adhoc"
)

// Features advertised through service discovery (XEP-0030): exactly what
// the component handles. The domain adds adhoc.NS when the Handler is a
// CommandHandler, patrons nsVCard when it is a ProfileHandler.
var (
	domainFeatures = []string{nsDiscoInfo, nsDiscoItems, nsPing, nsVersion,
		nsChatStates, nsOOB, nsReceipts, nsMarkers, nsCorrect, nsNick, nsSID}
	userFeatures = []string{nsDiscoInfo, nsPing, nsChatStates, nsOOB, nsReceipts, nsMarkers, nsCorrect, nsSID}
)

// The component answers discovery itself rather than with mellium's
// disco.Handle, which answers every address alike from the mux's
// handlers, features before identities and an empty result for unknown
// nodes: the domain is a gateway, a patron JID a client, and the commands
// offered depend on who asks.

// discoInfo answers a disco#info request for the domain (a gateway), one
// of its users (a patron, seen as a client), the commands node or one of
// the commands offered to the requester.
func (l *link) discoInfo(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	node := nodeOf(start)
	user := iq.To.Localpart() != ""
	var identity info.Identity
	var features []info.Feature
	switch {
	case user && node == "":
		identity = info.Identity{Category: "client", Type: "pc"}
		features = discoFeatures(userFeatures)
		if l.c.profiles != nil {
			features = append(features, info.Feature{Var: nsVCard})
		}
	case user:
		return replyError(t, iq, errItemNotFound)
	case node == "":
		identity = info.Identity{Category: "gateway", Type: "facebook", Name: sanitize(l.c.cfg.Name)}
		features = discoFeatures(domainFeatures)
		if l.c.commands != nil {
			features = append(features, info.Feature{Var: adhoc.NS})
		}
	case l.c.commands == nil:
		return replyError(t, iq, errItemNotFound)
	case node == adhoc.NS:
		identity, features = adhoc.ListIdentity, adhoc.ListFeatures
	default:
		cmd, ok := adhoc.Find(l.commandRunner().Commands(iq.From), node)
		if !ok {
			return replyError(t, iq, errItemNotFound)
		}
		identity, features = cmd.Identity(), adhoc.NodeFeatures
	}
	inner := []xml.TokenReader{identity.TokenReader()}
	for _, f := range features {
		inner = append(inner, f.TokenReader())
	}
	return reply(t, iq.Result(xmlstream.Wrap(xmlstream.MultiReader(inner...), queryStart(disco.NSInfo, node))))
}

// discoItems answers a disco#items request: nothing, except on the
// domain's commands node, which lists the commands offered to the
// requester (XEP-0050 §2.2).
func (l *link) discoItems(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	node := nodeOf(start)
	switch {
	case node == "":
		return reply(t, iq.Result(xmlstream.Wrap(nil, queryStart(disco.NSItems, ""))))
	case iq.To.Localpart() != "" || l.c.commands == nil || node != adhoc.NS:
		return replyError(t, iq, errItemNotFound)
	}
	var items []xml.TokenReader
	for _, cmd := range l.commandRunner().Commands(iq.From) {
		items = append(items, cmd.Item(l.c.domain).TokenReader())
	}
	return reply(t, iq.Result(xmlstream.Wrap(xmlstream.MultiReader(items...), queryStart(disco.NSItems, node))))
}

// discoFeatures returns the features named by vars, in a new slice.
func discoFeatures(vars []string) []info.Feature {
	features := make([]info.Feature, len(vars), len(vars)+1)
	for i, v := range vars {
		features[i] = info.Feature{Var: v}
	}
	return features
}

// nodeOf returns the node a disco query asks about.
func nodeOf(start *xml.StartElement) string {
	for _, a := range start.Attr {
		if a.Name.Local == "node" && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// queryStart is the start of a disco answer, echoing the node asked for.
func queryStart(ns, node string) xml.StartElement {
	start := xml.StartElement{Name: xml.Name{Space: ns, Local: "query"}}
	if node != "" {
		start.Attr = []xml.Attr{attr("node", node)}
	}
	return start
}
