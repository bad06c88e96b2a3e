package jabberclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"go.uber.org/zap"
	"mellium.im/xmlstream"
	xmppsession "mellium.im/xmpp"
)

const (
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsPing    = "urn:xmpp:ping"
	nsRoster  = "jabber:iq:roster"
)

// Received is a message (from Next), an IQ answer (from NextIQ), a
// presence (from NextPresence) or a roster push (from NextRosterPush).
type Received struct {
	ID, From, To string
	// Type is the stanza's type attribute: "chat", "normal", "error",
	// "result", "subscribe", … ("" for available presence)
	Type string
	// Body is the message body, if any.
	Body string
	// ErrorCondition is the defined condition of an error stanza, such as
	// "service-unavailable" or "forbidden".
	ErrorCondition string
	// Raw is the whole stanza as XML, for assertions on extensions:
	// xmlns only where the namespace changes, attributes sorted by name,
	// no self-closing tags (<a x="1" y="2"></a>).
	Raw string
}

// Next returns the next message stanza received (of any type, error
// included), waiting for one until ctx ends. After the stream has ended it
// returns what was received before, then ErrClosed.
func (c *Client) Next(ctx context.Context) (Received, error) {
	return c.msgs.pop(ctx)
}

// NextIQ is Next for IQ results and errors (answers to IQs sent with
// SendRaw).
func (c *Client) NextIQ(ctx context.Context) (Received, error) {
	return c.iqs.pop(ctx)
}

// NextPresence is Next for presence stanzas (of any type). The server
// reflects each presence the client broadcasts back to it; those copies
// (from the client's own full JID) are left out.
func (c *Client) NextPresence(ctx context.Context) (Received, error) {
	return c.pres.pop(ctx)
}

// NextRosterPush is Next for roster pushes (RFC 6121 §2.1.6: IQ sets of
// jabber:iq:roster from the server), which the client has already
// acknowledged with an empty result. Raw shows the <item/>, with its
// subscription and ask attributes.
func (c *Client) NextRosterPush(ctx context.Context) (Received, error) {
	return c.pushes.pop(ctx)
}

// serve reads the stream until it ends.
func (c *Client) serve() {
	err := c.sess.Serve(xmppsession.HandlerFunc(c.handle))
	if err != nil && !errors.Is(err, io.EOF) {
		c.log.Debug("jabberclient: stream ended", zap.Error(err))
	}
	c.serveErr = err
	closed := ErrClosed
	if err != nil {
		closed = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.msgs.close(closed)
	c.iqs.close(closed)
	c.pres.close(closed)
	c.pushes.close(closed)
	c.pmu.Lock()
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.pmu.Unlock()
	close(c.served)
}

// handle gets each top-level element. It never returns an error: that
// would end the stream.
func (c *Client) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	toks := []xml.Token{start.Copy()}
	for {
		tok, err := t.Token()
		if tok != nil {
			toks = append(toks, xml.CopyToken(tok))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.log.Debug("jabberclient: read stanza", zap.Error(err))
			return nil
		}
	}
	r, err := decode(toks)
	if err != nil {
		c.log.Debug("jabberclient: undecodable stanza", zap.Error(err))
		return nil
	}
	switch start.Name.Local {
	case "message":
		c.msgs.push(r)
	case "presence":
		if r.From != c.jid.String() {
			c.pres.push(r)
		}
	case "iq":
		switch r.Type {
		case "result", "error":
			c.pmu.Lock()
			ch, ok := c.pending[r.ID]
			delete(c.pending, r.ID)
			c.pmu.Unlock()
			if ok {
				ch <- r
				return nil
			}
			c.iqs.push(r)
		case "get":
			if payloadIs(toks, nsPing, "ping") {
				// Answer the server's pings; other requests get
				// service-unavailable from mellium.
				return writeIQResult(t, r)
			}
		case "set":
			// Roster pushes come from the account itself (no from, or
			// the bare JID); anyone else's get service-unavailable.
			if payloadIs(toks, nsRoster, "query") && (r.From == "" || r.From == c.jid.Bare().String()) {
				c.pushes.push(r)
				return writeIQResult(t, r)
			}
		}
	}
	return nil
}

// payloadIs reports whether the first child of the stanza in toks is the
// element space local.
func payloadIs(toks []xml.Token, space, local string) bool {
	for _, t := range toks[1:] {
		if s, ok := t.(xml.StartElement); ok {
			return s.Name == xml.Name{Space: space, Local: local}
		}
	}
	return false
}

// writeIQResult answers an IQ with an empty result.
func writeIQResult(w xmlstream.TokenWriter, r Received) error {
	attrs := []xml.Attr{{Name: xml.Name{Local: "type"}, Value: "result"}, {Name: xml.Name{Local: "id"}, Value: r.ID}}
	if r.From != "" {
		attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "to"}, Value: r.From})
	}
	start := xml.StartElement{Name: xml.Name{Local: "iq"}, Attr: attrs}
	if err := w.EncodeToken(start); err != nil {
		return err
	}
	return w.EncodeToken(start.End())
}

// stanzaXML is what decode reads of a stanza.
type stanzaXML struct {
	ID    string   `xml:"id,attr"`
	From  string   `xml:"from,attr"`
	To    string   `xml:"to,attr"`
	Type  string   `xml:"type,attr"`
	Body  []string `xml:"body"`
	Error *struct {
		Children []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"error"`
}

// decode turns the tokens of one stanza into a Received.
func decode(toks []xml.Token) (Received, error) {
	var s stanzaXML
	if err := xml.NewTokenDecoder(&sliceReader{toks: toks}).Decode(&s); err != nil {
		return Received{}, err
	}
	r := Received{ID: s.ID, From: s.From, To: s.To, Type: s.Type, Raw: rawXML(toks)}
	if len(s.Body) > 0 {
		r.Body = s.Body[0]
	}
	if s.Error != nil {
		for _, ch := range s.Error.Children {
			if ch.XMLName.Space == nsStanzas && ch.XMLName.Local != "text" {
				r.ErrorCondition = ch.XMLName.Local
				break
			}
		}
	}
	return r, nil
}

// sliceReader is an xml.TokenReader over a slice.
type sliceReader struct{ toks []xml.Token }

func (r *sliceReader) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	t := r.toks[0]
	r.toks = r.toks[1:]
	return t, nil
}
