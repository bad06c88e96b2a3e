package xmpp

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"
)

// Presence is a presence stanza (RFC 6121 §4): availability, or a
// subscription request, approval or probe.
type Presence struct {
	// ID is the stanza id. SendPresence makes one up when it is empty;
	// set it to match a type="error" answer (which reaches
	// PresenceHandler.HandlePresence with the same ID).
	ID string
	// From and To are the sender and the recipient, as in a Message: a
	// presence read from the stream has valid ones, To in the component's
	// domain; one to send comes from the component domain or a JID in
	// it, to any JID but the zero JID.
	From jid.JID
	To   jid.JID
	// Type is "" (available), "unavailable", "subscribe", "subscribed",
	// "unsubscribe", "unsubscribed", "probe" or "error".
	Type string
	// Show is "", "away", "chat", "dnd" or "xa"; only available presence
	// has one.
	Show string
	// Status is the human-readable status text.
	Status string
	// Nick is an XEP-0172 nickname, announced in subscription requests
	// and available presence.
	Nick string
	// Priority is the resource priority, -128…127.
	Priority int
	// Error is the error of a type="error" presence; nil otherwise.
	Error *StanzaError
}

// SendPresence writes p as a presence stanza on the live stream, within
// WriteTimeout, as Send does for messages: p.From must be the component
// domain or a JID in it, p.To set (not the zero JID), p.Type one of the
// Presence types (p.Error set for "error"), p.Show only in available
// presence. Text is sanitized; an empty p.ID gets a random one.
//
// It returns ErrNotConnected or ErrInvalidMessage (wrapped), like Send. It
// is safe for concurrent use; stanzas are written in the order Send and
// SendPresence are called.
func (c *Component) SendPresence(p Presence) error {
	if p.ID == "" {
		p.ID = newID("p-")
	}
	toks, err := encodePresence(p, c.domain)
	if err != nil {
		return err
	}
	l := c.link.Load()
	if l == nil || l.isDead() {
		return ErrNotConnected
	}
	if err := l.write(toks); err != nil {
		return fmt.Errorf("xmpp: send presence %s: %w (%w)", p.ID, ErrNotConnected, err)
	}
	return nil
}

// encodePresence checks p and returns it as the tokens of a presence
// stanza.
func encodePresence(p Presence, domain jid.JID) ([]xml.Token, error) {
	if p.ID == "" {
		return nil, fmt.Errorf("%w: empty id", ErrInvalidMessage)
	}
	if err := checkID("id", p.ID); err != nil {
		return nil, err
	}
	if err := checkAddresses(p.From, p.To, domain); err != nil {
		return nil, err
	}
	if !presenceTypes[p.Type] {
		return nil, fmt.Errorf("%w: presence type %q", ErrInvalidMessage, p.Type)
	}
	if p.Show != "" && (!showValues[p.Show] || p.Type != "") {
		return nil, fmt.Errorf("%w: show %q in presence of type %q", ErrInvalidMessage, p.Show, p.Type)
	}
	if p.Priority < -128 || p.Priority > 127 {
		return nil, fmt.Errorf("%w: priority %d outside -128…127", ErrInvalidMessage, p.Priority)
	}
	if (p.Type == "error") != (p.Error != nil) {
		return nil, fmt.Errorf("%w: presence of type %q with error %v", ErrInvalidMessage, p.Type, p.Error)
	}

	attrs := []xml.Attr{attr("id", p.ID), attr("from", p.From.String()), attr("to", p.To.String())}
	if p.Type != "" {
		attrs = append([]xml.Attr{attr("type", p.Type)}, attrs...)
	}
	var inner [][]xml.Token
	if p.Show != "" {
		inner = append(inner, textElem(xml.Name{Local: "show"}, p.Show))
	}
	if status := sanitize(p.Status); status != "" {
		inner = append(inner, textElem(xml.Name{Local: "status"}, status))
	}
	if p.Priority != 0 {
		inner = append(inner, textElem(xml.Name{Local: "priority"}, strconv.Itoa(p.Priority)))
	}
	if nick := sanitize(p.Nick); nick != "" {
		inner = append(inner, textElem(xml.Name{Space: nsNick, Local: "nick"}, nick))
	}
	if p.Error != nil {
		inner = append(inner, errorElem(*p.Error))
	}
	return wrap(xml.StartElement{Name: xml.Name{Local: "presence"}, Attr: attrs}, inner...), nil
}

// handlePresence passes a presence addressed to the domain (or a JID in
// it) to the PresenceHandler, if the Handler is one.
func (l *link) handlePresence(ctx context.Context, x *presenceXML) {
	from, to, err := stanzaAddresses(x.From, x.To, l.c.domain)
	if err != nil {
		l.c.log.Warn("presence ignored", zap.String("id", x.ID), zap.Error(err))
		return
	}
	if !presenceTypes[x.Type] {
		l.c.log.Debug("presence of unknown type ignored", zap.String("type", x.Type), zap.String("id", x.ID))
		return
	}
	if l.c.presence == nil {
		return
	}
	p := x.presence(from, to)
	l.handle(func() { l.c.presence.HandlePresence(ctx, p) })
}
