package xmpp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// keepalive pings right away and then every PingInterval; a ping that gets
// no answer (result or error) within PingTimeout kills the link. Serve alone
// would block forever on a frozen connection.
//
// The ping goes from the component's domain to the component's domain. A
// component does not learn the server's own domain, and any server routes a
// stanza addressed to the component back to it: Prosody hands the ping back
// to us, we answer it (see handleIQ), and the result travels through the
// server once more. So each keepalive proves that the server reads and
// routes what we write and that we read what it writes.
func (l *link) keepalive() {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-l.dead:
			return
		case <-timer.C:
		}
		id := newID("ka-")
		answered := l.expect(id)
		sent := time.Now()
		self := l.c.domain.String()
		if err := l.write(pingIQ(id, self, self)); err != nil {
			return // write has killed the link
		}
		t := time.NewTimer(l.c.cfg.PingTimeout)
		select {
		case <-answered:
			t.Stop()
			now := time.Now()
			l.c.lastKeepalive.Store(now.UnixNano())
			l.c.log.Debug("keepalive", zap.Duration("rtt", now.Sub(sent)))
		case <-t.C:
			l.forget(id)
			l.kill(fmt.Errorf("keepalive: no answer to a ping within %v", l.c.cfg.PingTimeout))
			return
		case <-l.dead:
			t.Stop()
			return
		}
		timer.Reset(l.c.cfg.PingInterval)
	}
}

// expect registers a ping id; the returned channel is closed when its
// answer arrives.
func (l *link) expect(id string) <-chan struct{} {
	ch := make(chan struct{})
	l.pmu.Lock()
	l.pending[id] = ch
	l.pmu.Unlock()
	return ch
}

// forget drops a ping id that will not be waited for any more.
func (l *link) forget(id string) {
	l.pmu.Lock()
	delete(l.pending, id)
	l.pmu.Unlock()
}

// answered resolves the ping with this id, if it is one of ours.
func (l *link) answered(id string) bool {
	l.pmu.Lock()
	ch, ok := l.pending[id]
	delete(l.pending, id)
	l.pmu.Unlock()
	if ok {
		close(ch)
	}
	return ok
}

// pingIQ is an XEP-0199 ping.
func pingIQ(id, from, to string) []xml.Token {
	start := xml.StartElement{Name: xml.Name{Local: "iq"}, Attr: []xml.Attr{
		attr("type", "get"), attr("id", id), attr("from", from), attr("to", to),
	}}
	return wrap(start, emptyElem(xml.Name{Space: nsPing, Local: "ping"}))
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
// sender knows it may forget what it wrote.
//
// It returns nil once the ping came back, ErrNotConnected when the link is
// down or goes down, and an error after PingTimeout without an answer.
func (c *Component) Sync() error {
	l := c.link.Load()
	if l == nil || l.isDead() {
		return ErrNotConnected
	}
	id := newID("sync-")
	answered := l.expect(id)
	self := c.domain.String()
	if err := l.write(pingIQ(id, self, self)); err != nil {
		l.forget(id)
		return fmt.Errorf("%w: %v", ErrNotConnected, err)
	}
	t := time.NewTimer(c.cfg.PingTimeout)
	defer t.Stop()
	select {
	case <-answered:
		return nil
	case <-l.dead:
		l.forget(id)
		return ErrNotConnected
	case <-t.C:
		l.forget(id)
		return fmt.Errorf("xmpp: sync: no answer from the server within %v", c.cfg.PingTimeout)
	}
}
