package xmpp

import (
	"context"
	"encoding/xml"

	"go.uber.org/zap"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/version"

	"github.com/askbridge/askbridge/xmpp/adhoc"
)

// iqMux returns the mux that answers the IQ requests of one link: pings
// with mellium's ping handler, service discovery, software version and
// vCards with the component's own (they answer for the domain and its
// patron JIDs differently), and XEP-0050 commands, when the Handler is a
// CommandHandler, with an adhoc.Responder whose sessions end with the
// link. The mux answers any other get or set with service-unavailable.
func (l *link) iqMux(ctx context.Context) *mux.ServeMux {
	opts := []mux.Option{
		ping.Handle(),
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: disco.NSInfo, Local: "query"}, l.discoInfo),
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: disco.NSItems, Local: "query"}, l.discoItems),
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: version.NS, Local: "query"}, l.version),
		mux.IQFunc(stanza.GetIQ, nameVCard, l.vcard),
	}
	if l.c.commands != nil {
		r := adhoc.NewResponder(l.commandRunner())
		opts = append(opts, mux.IQFunc(stanza.SetIQ, xml.Name{Space: adhoc.NS, Local: "command"},
			func(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
				if iq.To.Localpart() != "" { // commands are at the domain only
					return replyError(t, iq, errServiceUnavailable)
				}
				return r.HandleIQ(ctx, iq, t, start)
			}))
	}
	return mux.New(component.NSAccept, opts...)
}

// commandRunner is the Handler's commands, for the XEP-0050 responder and
// discovery; only when the Handler is a CommandHandler.
func (l *link) commandRunner() commandRunner {
	return commandRunner{h: l.c.commands, log: l.c.log}
}

// serveIQ hands an IQ to the mux (iqs). Every get or set gets exactly one
// answer, a result or an error: a request to an address outside the
// domain gets jid-malformed, and one no handler answered gets
// service-unavailable. Answers to the component's own requests (its
// pings) never get here: the session matches them to the waiting SendIQ.
func (l *link) serveIQ(iqs *mux.ServeMux, t xmlstream.TokenReadEncoder, start *xml.StartElement) {
	s := start.Copy()
	var id, typ, from, to string
	fromAt := -1
	for i, a := range s.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "id":
			id = a.Value
		case "type":
			typ = a.Value
		case "from":
			from, fromAt = a.Value, i
		case "to":
			to = a.Value
		}
	}
	from = l.self(from)
	if fromAt < 0 {
		s.Attr = append(s.Attr, attr("from", from))
	} else {
		s.Attr[fromAt].Value = from
	}
	switch typ {
	case "result", "error":
		l.c.log.Debug("unexpected iq answer", zap.String("id", id), zap.String("from", from))
		return
	case "get", "set":
	default:
		return // malformed; answering could loop
	}
	if id == "" {
		return
	}
	if toJID, err := jid.Parse(to); err != nil || toJID.Domainpart() != l.c.domain.Domainpart() {
		_ = l.write(encodeError("iq", id, l.c.domain.String(), from, StanzaError{Type: "modify", Condition: "jid-malformed"}))
		return
	}
	if _, err := jid.Parse(from); err != nil {
		l.c.log.Debug("iq with a malformed from ignored", zap.String("id", id), zap.String("from", from))
		return
	}
	w := &replyWriter{TokenReader: t, send: l.write}
	if err := iqs.HandleXMPP(w, &s); err != nil {
		l.c.log.Debug("iq request not answered in full", zap.String("id", id), zap.String("from", from), zap.Error(err))
	}
	if !w.answered {
		_ = l.write(encodeError("iq", id, to, from, errServiceUnavailable))
	}
}

// version answers a software version request (XEP-0092) with mellium's
// version.Query; only the domain answers.
func (l *link) version(iq stanza.IQ, t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
	if iq.To.Localpart() != "" {
		return replyError(t, iq, errServiceUnavailable)
	}
	q := version.Query{Name: sanitize(l.c.cfg.Name), Version: sanitize(l.c.cfg.Version)}
	return reply(t, iq.Result(q.TokenReader()))
}
