package xmpp

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"
)

// ErrNotConnected is returned by Send and SendPresence when the link is
// down, or went down during the write. The message may then be sent again after the next
// LinkChanged(true); if the write was cut short, the server may or may not
// have received it.
var ErrNotConnected = errors.New("xmpp: component not connected")

// ErrWriteFailed is wrapped with ErrNotConnected by SendBatch when writing
// began and failed: the server may have closed the stream over one of the
// stanzas.
var ErrWriteFailed = errors.New("xmpp: write failed")

// ErrInvalidMessage is returned (wrapped) by Send and SendPresence for a
// stanza that can never be sent: no id, a from outside the component
// domain, a malformed address, an unknown type, chat state or show, an id
// XML cannot carry.
var ErrInvalidMessage = errors.New("xmpp: invalid message")

// Component is an XEP-0114 external component: Run keeps one stream to the
// Jabber server alive, reading stanzas into a Handler; Send and
// SendPresence write message and presence stanzas on it.
type Component struct {
	cfg    Config
	domain jid.JID
	h      Handler
	log    *zap.Logger
	// presence and commands are h, if it implements them; else nil.
	presence PresenceHandler
	commands CommandHandler
	profiles ProfileHandler

	running       atomic.Bool
	link          atomic.Pointer[link] // the live link, nil while down
	lastKeepalive atomic.Int64         // unix nanoseconds, 0 = never
}

// New checks cfg, applies defaults and returns a Component that is not yet
// connected: call Run. If h also implements PresenceHandler or
// CommandHandler, the Component uses those too.
func New(cfg Config, h Handler, log *zap.Logger) (*Component, error) {
	if h == nil {
		return nil, errors.New("xmpp: nil handler")
	}
	cfg = cfg.withDefaults()
	domain, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &Component{
		cfg:    cfg,
		domain: domain,
		h:      h,
		log:    log.With(zap.String("component", domain.String()), zap.String("server", cfg.Server)),
	}
	c.presence, _ = h.(PresenceHandler)
	c.commands, _ = h.(CommandHandler)
	c.profiles, _ = h.(ProfileHandler)
	return c, nil
}

// Run connects, serves the stream and reconnects after every failure with
// jittered exponential backoff capped at BackoffMax, until ctx ends; then it
// closes the stream properly (</stream:stream>) and returns nil. Only one
// Run may be active at a time.
func (c *Component) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("xmpp: Run is already running")
	}
	defer c.running.Store(false)

	bo := newBackoff(c.cfg.BackoffMin, c.cfg.BackoffMax)
	for {
		up, err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if up >= c.cfg.BackoffMax {
			bo.reset()
		}
		wait := bo.next()
		c.logFailure(err, up, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Send writes m as a message stanza on the live stream, within
// WriteTimeout. m.ID must be set (the server's bounce carries it), m.From
// must be the component domain or a JID in it, m.To set (not the zero
// JID); m.Type defaults to "chat". Text characters XML cannot carry are
// dropped.
//
// Send returns ErrNotConnected (possibly wrapping a write error, after which
// the link is torn down and Run reconnects) or ErrInvalidMessage (ErrTooLarge
// for a stanza larger than MaxStanzaBytes). It is safe
// for concurrent use; stanzas are written in the order Send is called.
func (c *Component) Send(m Message) error {
	toks, err := encodeMessage(m, c.domain)
	if err == nil {
		err = checkSize(toks, c.cfg.MaxStanzaBytes)
	}
	if err != nil {
		return err
	}
	l := c.link.Load()
	if l == nil || l.isDead() {
		return ErrNotConnected
	}
	if err := l.write(toks); err != nil {
		return fmt.Errorf("xmpp: send message %s: %w (%w)", m.ID, ErrNotConnected, err)
	}
	return nil
}

// Connected reports whether the stream is up (authenticated and not known
// to be dead).
func (c *Component) Connected() bool {
	l := c.link.Load()
	return l != nil && !l.isDead()
}

// LastKeepalive returns the time of the last successful keepalive round
// trip, or the zero time if there was none.
func (c *Component) LastKeepalive() time.Time {
	n := c.lastKeepalive.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Domain returns the component's domain, normalised.
func (c *Component) Domain() string { return c.domain.String() }
