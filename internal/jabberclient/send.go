package jabberclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// SendChat sends a chat message with body to the JID to and returns the
// message's id.
func (c *Client) SendChat(to, body string) (id string, err error) {
	id = newID("m")
	start := xml.StartElement{Name: xml.Name{Local: "message"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "type"}, Value: "chat"},
		{Name: xml.Name{Local: "id"}, Value: id},
		{Name: xml.Name{Local: "to"}, Value: to},
	}}
	bodyStart := xml.StartElement{Name: xml.Name{Local: "body"}}
	toks := []xml.Token{start, bodyStart, xml.CharData(body), bodyStart.End(), start.End()}
	if err := c.send(toks); err != nil {
		return "", fmt.Errorf("jabberclient: send chat to %s: %w", to, err)
	}
	return id, nil
}

// SendRaw sends one stanza given as XML text, such as
// `<iq type='get' id='d1' to='fb.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`.
// The stanza gets the client namespace; it must be a single well-formed
// element.
func (c *Client) SendRaw(stanzaXML string) error {
	toks, err := parseElement(stanzaXML)
	if err != nil {
		return fmt.Errorf("jabberclient: send raw: %w", err)
	}
	if err := c.send(toks); err != nil {
		return fmt.Errorf("jabberclient: send raw: %w", err)
	}
	return nil
}

// Ping sends an XEP-0199 ping to the server and waits for its answer. Since
// the server handles a session's stanzas in order, it also tells that all
// stanzas sent before have been processed.
func (c *Client) Ping(ctx context.Context) error {
	return c.query(ctx, "ping", fmt.Sprintf(`<ping xmlns="%s"/>`, nsPing), c.jid.Domain().String())
}

// query sends an IQ get with the payload and waits for its answer, which
// is not queued for NextIQ.
func (c *Client) query(ctx context.Context, what, payload, to string) error {
	id := newID(what)
	ch := make(chan Received, 1)
	c.pmu.Lock()
	c.pending[id] = ch
	c.pmu.Unlock()
	defer func() {
		c.pmu.Lock()
		delete(c.pending, id)
		c.pmu.Unlock()
	}()
	toAttr := ""
	if to != "" {
		toAttr = fmt.Sprintf(` to="%s"`, to)
	}
	err := c.SendRaw(fmt.Sprintf(`<iq type="get" id="%s"%s>%s</iq>`, id, toAttr, payload))
	if err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return ErrClosed
		}
		if r.Type == "error" {
			return fmt.Errorf("jabberclient: %s: %s", what, r.ErrorCondition)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jabberclient: %s: %w", what, ctx.Err())
	}
}

// send writes toks as one stanza, with a write deadline.
func (c *Client) send(toks []xml.Token) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	defer c.conn.SetWriteDeadline(time.Time{})
	return c.sess.Send(c.ctx, &sliceReader{toks: toks})
}

// parseElement reads exactly one element from s.
func parseElement(s string) ([]xml.Token, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	var toks []xml.Token
	depth := 0
	for {
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if depth == 0 && len(toks) > 0 {
				return nil, errors.New("more than one element")
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, errors.New("text outside the element")
				}
				continue
			}
		case xml.ProcInst, xml.Comment, xml.Directive:
			continue
		}
		toks = append(toks, xml.CopyToken(t))
	}
	if len(toks) == 0 {
		return nil, errors.New("no element")
	}
	return toks, nil
}
