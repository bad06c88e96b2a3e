package xmpp

import (
	"bytes"
	"errors"
	"net"
	"sync"
)

// ErrClientPort is matched (errors.Is) by the handshake error when
// xmpp.server is a Jabber server's client (c2s) port: the server answered
// the component's stream as a client stream.
var ErrClientPort = errors.New("this is a client (c2s) port; use the component port (5347 by default) and a Component entry for the domain on the Jabber server")

// headSize is how much of what the server sends first is kept to tell a
// client port from a component port.
const headSize = 2048

// headConn is a connection that keeps the first bytes the server sent.
type headConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

// Read implements net.Conn.
func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if room := headSize - len(c.head); room > 0 && n > 0 {
		c.head = append(c.head, p[:min(n, room)]...)
	}
	c.mu.Unlock()
	return n, err
}

// clientStream reports whether the server opened a client stream
// (default namespace jabber:client), as a c2s port does when a component
// connects to it.
func (c *headConn) clientStream() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Contains(c.head, []byte(`xmlns='jabber:client'`)) || bytes.Contains(c.head, []byte(`xmlns="jabber:client"`))
}
