package xmpp

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// nsVCard is vcard-temp (XEP-0054): clients that do not read XEP-0172
// nicknames in messages ask a contact's vCard for a name to show.
const nsVCard = "vcard-temp"

var nameVCard = xml.Name{Space: nsVCard, Local: "vCard"}

// ProfileHandler is an optional interface of a Handler (checked when the
// Component is built) that answers vCard requests (XEP-0054) to the JIDs
// of the component's domain. Nickname returns the name to show for the
// JID with that localpart, and false for a JID that names nobody (the
// request then gets item-not-found). It is called on the reading
// goroutine like the Handler's methods.
type ProfileHandler interface {
	Nickname(localpart string) (string, bool)
}

// vcard answers a vCard request to a patron JID (mellium has no
// vcard-temp); the domain has none.
func (l *link) vcard(iq stanza.IQ, t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
	if iq.To.Localpart() == "" || l.c.profiles == nil {
		return replyError(t, iq, errServiceUnavailable)
	}
	nick, ok := l.c.profiles.Nickname(iq.To.Localpart())
	if !ok {
		return replyError(t, iq, errItemNotFound)
	}
	nick = sanitize(nick)
	return reply(t, iq.Result(&sliceReader{toks: wrap(xml.StartElement{Name: nameVCard},
		textElem(xml.Name{Local: "FN"}, nick),
		textElem(xml.Name{Local: "NICKNAME"}, nick))}))
}
