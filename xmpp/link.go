package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
	xmppsession "mellium.im/xmpp"
	"mellium.im/xmpp/component"
)

// closeWait is how long a shutdown waits for the server to end its stream.
const closeWait = 2 * time.Second

// link is one authenticated stream to the server.
type link struct {
	c    *Component
	conn net.Conn
	sess *xmppsession.Session
	// ctx is given to every mellium call on sess (pings derive theirs
	// from it). It lives as long as the link, until kill: mellium watches
	// a call's context while the call writes, from a goroutine that may
	// notice only later that the write is over, and a context ending then
	// sets a past write deadline on the connection, under another write.
	ctx    context.Context
	cancel context.CancelFunc
	up     time.Time

	// wmu serialises the writes of write and writeAll and their
	// deadlines. Pings are written by mellium's SendIQ, within the ping's
	// context instead.
	wmu sync.Mutex

	// handlers carries the Handler calls for the stanzas the reader
	// decoded to the goroutine running them (runHandlers), so that the
	// reader never waits for a handler (which may wait for a store
	// commit): it goes on reading, keepalive answers included.
	handlers chan func()

	deadOnce sync.Once
	dead     chan struct{} // closed by kill
	deadErr  error         // why, if known; valid after dead is closed
}

// connect dials the server and performs the XEP-0114 handshake, both
// within PingTimeout. Cancelling ctx aborts it.
func (c *Component) connect(ctx context.Context) (*link, error) {
	d := net.Dialer{Timeout: c.cfg.PingTimeout}
	raw, err := d.DialContext(ctx, "tcp", c.cfg.Server)
	if err != nil {
		return nil, fmt.Errorf("xmpp: connect to %s: %w", c.cfg.Server, err)
	}
	conn := &headConn{Conn: raw}
	_ = conn.SetDeadline(time.Now().Add(c.cfg.PingTimeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })

	lctx, cancel := context.WithCancel(context.Background())
	sess, err := component.NewSession(lctx, c.domain, []byte(c.cfg.Secret), conn)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		conn.Close()
		if conn.clientStream() {
			return nil, fmt.Errorf("xmpp: handshake with %s as %s: %w (the server said: %w)", c.cfg.Server, c.domain, ErrClientPort, err)
		}
		return nil, fmt.Errorf("xmpp: handshake with %s as %s: %w", c.cfg.Server, c.domain, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &link{
		c:        c,
		conn:     conn,
		sess:     sess,
		ctx:      lctx,
		cancel:   cancel,
		up:       time.Now(),
		dead:     make(chan struct{}),
		handlers: make(chan func(), handlerQueue),
	}, nil
}

// session runs one link: connect, report it up, serve it until it fails or
// ctx ends, report it down. It returns how long the link was up (zero if it
// never came up) and why it ended.
func (c *Component) session(ctx context.Context) (time.Duration, error) {
	l, err := c.connect(ctx)
	if err != nil {
		return 0, err
	}
	c.link.Store(l)
	c.log.Info("component link up")
	// Before the keepalive starts: time spent in LinkChanged must not count
	// against the first ping.
	c.h.LinkChanged(true)

	var wg sync.WaitGroup
	wg.Go(l.keepalive)
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		l.runHandlers()
	}()
	served := make(chan error, 1)
	go func() {
		err := l.sess.Serve(xmppsession.HandlerFunc(l.handler(ctx)))
		close(l.handlers) // Serve called the reader's last
		served <- err
	}()

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		c.link.CompareAndSwap(l, nil)
		l.shutdown()
		serveErr = <-served
	}
	c.link.CompareAndSwap(l, nil)
	l.kill(nil)
	wg.Wait()
	<-handled // every stanza read on the link is handled before it is down
	l.cancel()
	up := time.Since(l.up)
	c.h.LinkChanged(false)

	if ctx.Err() != nil {
		c.log.Info("component link closed", zap.Duration("up", up))
		return up, nil
	}
	err = l.deadErr // a keepalive or write failure explains more than Serve's error
	if err == nil {
		err = serveErr
	}
	if err == nil {
		err = errors.New("the server closed the stream")
	}
	return up, err
}

// write sends toks as one stanza within WriteTimeout. A failed write kills
// the link.
func (l *link) write(toks []xml.Token) error {
	if l.isDead() {
		return errors.New("link is down")
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.conn.SetWriteDeadline(time.Now().Add(l.c.cfg.WriteTimeout))
	err := l.sess.Send(l.ctx, &sliceReader{toks: toks})
	_ = l.conn.SetWriteDeadline(time.Time{})
	if err != nil {
		l.kill(fmt.Errorf("write: %w", err))
	}
	return err
}

// kill declares the link dead for reason (nil for an orderly end), closes
// the connection, which ends Serve even on a frozen peer, and then ends
// ctx, which ends the pings waiting for an answer.
func (l *link) kill(reason error) {
	l.deadOnce.Do(func() {
		l.deadErr = reason
		close(l.dead)
		_ = l.conn.Close()
		if l.cancel != nil {
			l.cancel()
		}
	})
}

func (l *link) isDead() bool {
	select {
	case <-l.dead:
		return true
	default:
		return false
	}
}

// shutdown ends the stream in order: it waits for writes under way, sends
// </stream:stream> and lets Serve read until the server ends its stream too
// (or closeWait passes).
func (l *link) shutdown() {
	l.wmu.Lock()
	_ = l.conn.SetWriteDeadline(time.Now().Add(min(l.c.cfg.WriteTimeout, closeWait)))
	if err := l.sess.Close(); err != nil {
		l.c.log.Debug("closing the stream", zap.Error(err))
	}
	l.wmu.Unlock()
	_ = l.conn.SetReadDeadline(time.Now().Add(closeWait))
}
