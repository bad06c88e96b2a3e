package xmpp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// errNoAnswer is returned by ping when PingTimeout passed without an
// answer.
var errNoAnswer = errors.New("no answer to a ping")

// keepalive pings right away and then every PingInterval; a ping that gets
// no answer (result or error) within PingTimeout kills the link. Serve alone
// would block forever on a frozen connection.
//
// The ping goes from the component's domain to the component's domain. A
// component does not learn the server's own domain, and any server routes a
// stanza addressed to the component back to it: Prosody hands the ping back
// to us, we answer it (mellium's ping handler, see iqMux), and the result
// travels through the server once more. So each keepalive proves that the
// server reads and routes what we write and that we read what it writes.
func (l *link) keepalive() {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-l.dead:
			return
		case <-timer.C:
		}
		sent := time.Now()
		if err := l.ping("ka-"); err != nil {
			if errors.Is(err, errNoAnswer) {
				err = fmt.Errorf("%w within %v", err, l.c.cfg.PingTimeout)
			}
			l.kill(fmt.Errorf("keepalive: %w", err)) // nothing if the link died first
			return
		}
		now := time.Now()
		l.c.lastKeepalive.Store(now.UnixNano())
		l.c.log.Debug("keepalive", zap.Duration("rtt", now.Sub(sent)))
		timer.Reset(l.c.cfg.PingInterval)
	}
}

// ping sends an XEP-0199 ping (mellium's ping.IQ) with a new id made of
// prefix from the component's domain to itself, and waits at most
// PingTimeout for the answer, which mellium's SendIQ matches by id. Any
// answer, an error too, proves the round trip. It returns errNoAnswer
// after PingTimeout, the context's error when the link died, and the
// write's error when the ping could not be written.
func (l *link) ping(prefix string) error {
	self := l.c.domain
	iq := ping.IQ{IQ: stanza.IQ{ID: newID(prefix), Type: stanza.GetIQ, From: self, To: self}}
	ctx := l.pingContext()
	err := l.sess.UnmarshalIQ(ctx, iq.TokenReader(), nil)
	var se stanza.Error
	switch {
	case err == nil, errors.As(err, &se):
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return errNoAnswer
	}
	return fmt.Errorf("ping %s: %w", iq.ID, err)
}

// pingContext is the context of one ping: it ends after PingTimeout or
// with the link. It is not cancelled when the ping returns (see link.ctx):
// it ends at its deadline, seconds after the write.
func (l *link) pingContext() context.Context {
	ctx, cancel := context.WithTimeout(l.ctx, l.c.cfg.PingTimeout)
	_ = cancel // released at the deadline, or with the link
	return ctx
}

// newID returns a random stanza id with the given prefix.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return prefix + hex.EncodeToString(b)
}

// Sync waits until the Jabber server has processed every stanza written on
// the live stream before the call. It sends a ping from the component's
// domain to itself; the server routes stanzas of one stream in order, so
// when the ping has come back through it, everything written before has
// been routed (delivered, stored offline or bounced). A stanza written but
// not yet routed when the server dies is lost with it; Sync is how a
// sender knows it may forget what it wrote. The answer is matched on the
// link the ping was written on: one crossing a new link confirms nothing.
//
// It returns nil once the ping came back, ErrNotConnected when the link is
// down or goes down, and an error after PingTimeout without an answer.
func (c *Component) Sync() error {
	l := c.link.Load()
	if l == nil || l.isDead() {
		return ErrNotConnected
	}
	err := l.ping("sync-")
	switch {
	case err == nil:
		return nil
	case l.isDead():
		return ErrNotConnected
	case errors.Is(err, errNoAnswer):
		return fmt.Errorf("xmpp: sync: no answer from the server within %v", c.cfg.PingTimeout)
	}
	l.kill(fmt.Errorf("write: %w", err)) // as a failed write does
	return fmt.Errorf("%w: %v", ErrNotConnected, err)
}
