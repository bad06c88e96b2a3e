package main

import (
	"context"
	"crypto/sha1" // XEP-0114's handshake is SHA-1 of stream id and secret.
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"go.uber.org/zap"
)

// bareComponent is the thinnest possible XEP-0114 component: a TCP
// connection that has done the handshake, on which pre-built stanzas are
// written as bytes. It measures what Prosody allows, with nothing of
// askbridge in the way.
type bareComponent struct {
	conn net.Conn
	done chan struct{}
}

// dialBareComponent connects to a component listener and authenticates as
// domain with secret.
func dialBareComponent(ctx context.Context, addr, domain, secret string, log *zap.Logger) (*bareComponent, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: bare component: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fail := func(err error) (*bareComponent, error) {
		conn.Close()
		return nil, fmt.Errorf("loadgen: bare component handshake as %s: %w", domain, err)
	}
	if _, err := fmt.Fprintf(conn, `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='%s'>`, domain); err != nil {
		return fail(err)
	}
	dec := xml.NewDecoder(conn)
	start, err := nextStart(dec)
	if err != nil {
		return fail(err)
	}
	var id string
	for _, a := range start.Attr {
		if a.Name.Local == "id" {
			id = a.Value
		}
	}
	if start.Name.Local != "stream" || id == "" {
		return fail(fmt.Errorf("unexpected stream header <%s>", start.Name.Local))
	}
	sum := sha1.Sum([]byte(id + secret))
	if _, err := fmt.Fprintf(conn, "<handshake>%s</handshake>", hex.EncodeToString(sum[:])); err != nil {
		return fail(err)
	}
	if start, err = nextStart(dec); err != nil {
		return fail(err)
	}
	if start.Name.Local != "handshake" {
		return fail(fmt.Errorf("server answered <%s>", start.Name.Local))
	}
	_ = conn.SetDeadline(time.Time{})
	c := &bareComponent{conn: conn, done: make(chan struct{})}
	go func() { // read (and drop) whatever the server sends, such as bounces
		defer close(c.done)
		for {
			tok, err := dec.Token()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					log.Debug("bare component read", zap.Error(err))
				}
				return
			}
			if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "error" {
				log.Warn("bare component got an error stanza")
			}
		}
	}()
	return c, nil
}

// nextStart returns the next start element.
func nextStart(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s, nil
		}
	}
}

// write sends pre-built bytes within a deadline.
func (c *bareComponent) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.conn.Write(b)
	return err
}

// close ends the stream and the connection.
func (c *bareComponent) close() {
	_ = c.write([]byte("</stream:stream>"))
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
	}
	c.conn.Close()
}

// bareStanza is the stanza the bridge would write for a patron message:
// same attributes, body and nickname.
func bareStanza(seq int64, psid, domain, to, tag string) []byte {
	return fmt.Appendf(nil, `<message type="chat" id="fb-%020d" from="%s@%s" to="%s"><body>lg %s %d</body><nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick></message>`,
		seq, psid, domain, to, tag, seq)
}

// prosodyLoad writes l.Events pre-built stanzas through a bare component,
// paced like the webhook senders (one stream, so one writer).
func prosodyLoad(ctx context.Context, c *bareComponent, stanzas [][]byte, l load, tl *timeline) (sent int, errs map[string]int) {
	errs = map[string]int{}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	pace := newPacer(l.Rate)
	for i, st := range stanzas {
		at, ok := pace.next(ctx)
		if !ok {
			break
		}
		tl.sent(int64(i), at)
		if err := c.write(st); err != nil {
			errs["write"]++
			break
		}
		sent++
		tl.acked(time.Now())
	}
	return sent, errs
}
