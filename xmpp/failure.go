package xmpp

import (
	"errors"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/stream"
)

// logFailure logs why a connection attempt or a link failed, and when the
// next attempt comes. Stream errors that mean a configuration problem are
// logged as errors with a hint; the rest are warnings.
func (c *Component) logFailure(err error, up time.Duration, wait time.Duration) {
	fields := []zap.Field{zap.Error(err), zap.Duration("retry_in", wait)}
	if up > 0 {
		fields = append(fields, zap.Duration("was_up", up))
	}
	if errors.Is(err, ErrClientPort) {
		c.log.Error("configuration problem: xmpp.server is the Jabber server's client port; "+
			"use the component port (5347 by default on Prosody and ejabberd, 5275 on Openfire) and add a Component entry for xmpp.domain", fields...)
		return
	}
	var se stream.Error
	if !errors.As(err, &se) {
		if up > 0 {
			c.log.Warn("component link down", fields...)
		} else {
			c.log.Warn("cannot connect the component", fields...)
		}
		return
	}
	if len(se.Text) > 0 {
		fields = append(fields, zap.String("server_text", se.Text[0].Value))
	}
	switch se.Err {
	case stream.NotAuthorized.Err:
		c.log.Error("configuration problem: the Jabber server rejected the component secret; "+
			"xmpp.secret must equal the component_secret the server has for this domain", fields...)
	case stream.HostUnknown.Err, stream.ImproperAddressing.Err:
		c.log.Error("configuration problem: the Jabber server has no component for this domain; "+
			"check xmpp.domain and the server's Component entry", fields...)
	case stream.Conflict.Err:
		c.log.Error("another component is already connected for this domain "+
			"(a second askbridge, or the server has not yet noticed the old link is gone)", fields...)
	case stream.InvalidFrom.Err:
		c.log.Error("the server closed the stream over a stanza with a from outside the domain (a bug)", fields...)
	default:
		c.log.Warn("stream error from the Jabber server", fields...)
	}
}
