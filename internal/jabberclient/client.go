package jabberclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
	"mellium.im/sasl"
	xmppsession "mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

const (
	// loginTimeout bounds Dial when its context has no earlier deadline.
	loginTimeout = 15 * time.Second
	// writeTimeout bounds every write.
	writeTimeout = 10 * time.Second
	// closeTimeout is how long Close waits for the server to end its stream.
	closeTimeout = 2 * time.Second
)

// ErrClosed is returned by Next, NextIQ, NextPresence and NextRosterPush once the stream has ended and
// every stanza received before has been handed out.
var ErrClosed = errors.New("jabberclient: stream closed")

// Client is a logged-in c2s session. Its methods are safe for concurrent
// use.
type Client struct {
	sess *xmppsession.Session
	conn net.Conn
	jid  jid.JID
	log  *zap.Logger

	// ctx lives as long as the session: mellium watches the context of
	// every call and cancelling it early would break the connection.
	ctx    context.Context
	cancel context.CancelFunc

	wmu sync.Mutex // serialises writes and their deadlines

	msgs   *queue // message stanzas
	iqs    *queue // IQ results and errors nobody waits for internally
	pres   *queue // presence stanzas, but for our own reflected back
	pushes *queue // roster pushes (already answered)

	pmu     sync.Mutex
	pending map[string]chan Received // IQ ids waited for by Ping

	served    chan struct{} // closed when Serve has returned
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// Dial connects to the c2s listener at addr, authenticates user (a bare
// JID) with password without TLS (loopback only), binds a resource chosen by
// the server, fetches the roster and sends initial presence. It returns once the server has
// processed that presence, so messages to the bare JID reach this client
// from then on. ctx bounds the login only.
func Dial(ctx context.Context, addr string, user jid.JID, password string, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if user.Localpart() == "" || user.Resourcepart() != "" {
		return nil, fmt.Errorf("jabberclient: dial: %q is not a bare user JID", user)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("jabberclient: dial %s: %w", addr, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(loginTimeout)
	}
	_ = conn.SetDeadline(deadline)
	// Cancelling ctx during the login aborts it through the connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })

	sessCtx, cancel := context.WithCancel(context.Background())
	sess, err := xmppsession.NewSession(sessCtx, user.Domain(), user, conn, 0, negotiator(password))
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		conn.Close()
		return nil, fmt.Errorf("jabberclient: log in as %s at %s: %w", user, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})

	c := &Client{
		sess:    sess,
		conn:    conn,
		jid:     sess.LocalAddr(),
		log:     log.With(zap.String("jid", sess.LocalAddr().String())),
		ctx:     sessCtx,
		cancel:  cancel,
		msgs:    newQueue(),
		iqs:     newQueue(),
		pres:    newQueue(),
		pushes:  newQueue(),
		pending: make(map[string]chan Received),
		served:  make(chan struct{}),
	}
	go c.serve()

	// Like every real client, fetch the roster before going online: the
	// server then counts this resource as interested in subscription
	// requests (including those that waited while the user was offline).
	if err := c.query(ctx, "roster", `<query xmlns="jabber:iq:roster"/>`, ""); err != nil {
		c.Close()
		return nil, fmt.Errorf("jabberclient: fetching the roster: %w", err)
	}
	if err := c.SendRaw("<presence/>"); err != nil {
		c.Close()
		return nil, err
	}
	// The server handles a session's stanzas in order: once the ping is
	// answered, the presence has been processed.
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("jabberclient: after presence: %w", err)
	}
	c.log.Debug("jabberclient: online")
	return c, nil
}

// negotiator logs in with SASL and binds a resource. mellium offers SASL
// only on secured streams; this client is for loopback servers without TLS,
// so the feature's requirement is lifted. SCRAM comes first: it never sends
// the password itself.
func negotiator(password string) xmppsession.Negotiator {
	auth := xmppsession.SASL("", password, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain)
	auth.Necessary = 0
	features := []xmppsession.StreamFeature{auth, xmppsession.BindResource()}
	return xmppsession.NewNegotiator(func(*xmppsession.Session, *xmppsession.StreamConfig) xmppsession.StreamConfig {
		return xmppsession.StreamConfig{Features: features}
	})
}

// JID returns the client's full JID (with the resource the server bound).
func (c *Client) JID() string { return c.jid.String() }

// Close ends the stream (</stream:stream>), waits briefly for the server to
// end its own, and closes the connection. Stanzas already received stay
// available to Next.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.wmu.Lock()
		_ = c.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		err := c.sess.Close()
		c.wmu.Unlock()
		_ = c.conn.SetReadDeadline(time.Now().Add(closeTimeout))
		select {
		case <-c.served:
		case <-time.After(closeTimeout + time.Second):
		}
		if e := c.conn.Close(); err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
		c.cancel()
		if err != nil {
			c.closeErr = fmt.Errorf("jabberclient: close: %w", err)
		}
	})
	return c.closeErr
}
