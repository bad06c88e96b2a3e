package xmpp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"
)

// Stanza is a stanza SendBatch can write: a Message or a Presence.
type Stanza interface {
	encodeStanza(domain jid.JID) ([]xml.Token, error)
}

func (m Message) encodeStanza(domain jid.JID) ([]xml.Token, error) {
	return encodeMessage(m, domain)
}

func (p Presence) encodeStanza(domain jid.JID) ([]xml.Token, error) {
	if p.ID == "" {
		p.ID = newID("p-")
	}
	return encodePresence(p, domain)
}

// SendBatch writes stanzas on the live stream in order, as Send and
// SendPresence would one by one, but with a single flush: under load this
// spares a system call per stanza, and the server reads them together.
//
// A stanza that can never be sent is skipped, and its error (wrapping
// ErrInvalidMessage; ErrTooLarge for one larger than MaxStanzaBytes) is at
// its index in invalid; invalid is nil when every
// stanza was valid. err wraps ErrNotConnected when the stream is down or a
// write failed; any of the stanzas may then have been written or not, and
// the link is torn down as after a failed Send; it also wraps ErrWriteFailed
// when the write began.
func (c *Component) SendBatch(stanzas []Stanza) (invalid []error, err error) {
	toks := make([][]xml.Token, 0, len(stanzas))
	for i, s := range stanzas {
		t, err := s.encodeStanza(c.domain)
		if err == nil {
			err = checkSize(t, c.cfg.MaxStanzaBytes)
		}
		if err != nil {
			if invalid == nil {
				invalid = make([]error, len(stanzas))
			}
			invalid[i] = err
			continue
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		return invalid, nil
	}
	l := c.link.Load()
	if l == nil || l.isDead() {
		return invalid, ErrNotConnected
	}
	if err := l.writeAll(toks); err != nil {
		return invalid, fmt.Errorf("xmpp: send %d stanzas: %w (%w: %w)", len(toks), ErrNotConnected, ErrWriteFailed, err)
	}
	return invalid, nil
}

// writeAll writes stanzas, each given as its tokens, within WriteTimeout,
// and flushes once. A failed write kills the link.
func (l *link) writeAll(stanzas [][]xml.Token) error {
	if l.isDead() {
		return errors.New("link is down")
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.conn.SetWriteDeadline(time.Now().Add(l.c.cfg.WriteTimeout))
	defer func() { _ = l.conn.SetWriteDeadline(time.Time{}) }()
	w := l.sess.TokenWriter()
	var err error
	for _, toks := range stanzas {
		for _, t := range toks {
			if err = w.EncodeToken(t); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr // Close flushes
	}
	if err != nil {
		l.kill(fmt.Errorf("write: %w", err))
	}
	return err
}
