package xmpp

import (
	"context"
	"encoding/xml"

	"go.uber.org/zap"
	"mellium.im/xmlstream"
)

// handler returns the function Serve calls for every top-level element:
// messages and presence are decoded here, each into one Message or
// Presence for the Handler; IQs go to a mux (iqMux), built once per link.
// mellium's mux would hand a message or presence to a handler once per
// child element, and the Handler wants each stanza once.
//
// mellium's default answer to unanswered IQs only applies to the client and
// server namespaces, not jabber:component:accept, so every IQ get or set is
// answered here (serveIQ). The function never returns an error: that would
// end the stream. Answers go through write (with its deadline), never through
// the token writer Serve offers.
func (l *link) handler(ctx context.Context) func(xmlstream.TokenReadEncoder, *xml.StartElement) error {
	iqs := l.iqMux(ctx)
	return func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		r := xmlstream.MultiReader(xmlstream.Token(start.Copy()), t)
		switch start.Name.Local {
		case "message":
			var x messageXML
			if err := xml.NewTokenDecoder(r).Decode(&x); err != nil {
				l.c.log.Warn("undecodable message stanza", zap.Error(err))
				return nil
			}
			l.handleMessage(ctx, &x)
		case "iq":
			if l.peerRequest(start) {
				// Answered after the stanzas read before it are handled,
				// as a client expects: a command sent after a message,
				// or a ping after a presence, finds it handled. The
				// component's own pings (the keepalive and Sync, which the
				// server routes back to it) never wait for this.
				l.settle()
			}
			l.serveIQ(iqs, t, start)
		case "presence":
			var x presenceXML
			if err := xml.NewTokenDecoder(r).Decode(&x); err != nil {
				l.c.log.Warn("undecodable presence stanza", zap.Error(err))
				return nil
			}
			l.handlePresence(ctx, &x)
		default:
			// Anything else: Serve skips the rest of the element.
		}
		return nil
	}
}

// handlerQueue bounds the stanzas read and waiting for their Handler
// call; past it the reader waits (a store stalled for long).
const handlerQueue = 1024

// handle has f, a Handler call for a stanza just read, run after the calls
// for the stanzas read before it.
func (l *link) handle(f func()) { l.handlers <- f }

// settle returns once the Handler calls for the stanzas read so far are
// done.
func (l *link) settle() {
	done := make(chan struct{})
	l.handle(func() { close(done) })
	<-done
}

// peerRequest reports whether start opens an IQ get or set from someone
// other than the component itself.
func (l *link) peerRequest(start *xml.StartElement) bool {
	request, self := false, true
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "type":
			request = a.Value == "get" || a.Value == "set"
		case "from":
			self = a.Value == "" || a.Value == l.c.domain.String()
		}
	}
	return request && !self
}

// runHandlers runs the Handler calls in the order their stanzas were read,
// until the reader is done.
func (l *link) runHandlers() {
	for f := range l.handlers {
		f()
	}
}

// self fills in an IQ's from that mellium emptied: it drops from
// attributes equal to the session's own address (the component domain).
func (l *link) self(from string) string {
	if from == "" {
		return l.c.domain.String()
	}
	return from
}

// handleMessage passes a message to the Handler and sends the error it
// returns, if any.
func (l *link) handleMessage(ctx context.Context, x *messageXML) {
	from, to, err := stanzaAddresses(x.From, x.To, l.c.domain)
	if err != nil {
		l.c.log.Warn("message ignored", zap.String("id", x.ID), zap.Error(err))
		return
	}
	if x.Type == "error" {
		b := Bounce{ID: x.ID, From: from, To: to, Error: StanzaError{Condition: "undefined-condition"}}
		if x.Error != nil {
			b.Error = x.Error.stanzaError()
		}
		l.handle(func() { l.c.h.HandleBounce(ctx, b) })
		return
	}
	m := x.message(from, to)
	l.handle(func() {
		if se := l.c.h.HandleMessage(ctx, m); se != nil {
			_ = l.write(encodeError("message", m.ID, m.To.String(), m.From.String(), *se))
		}
	})
}
