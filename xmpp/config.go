package xmpp

import (
	"errors"
	"fmt"
	"net"
	"time"

	"mellium.im/xmpp/jid"
)

// Config configures a Component.
type Config struct {
	// Server is the host:port of the Jabber server's component listener.
	Server string
	// Domain is the component domain, e.g. fb.library.example.org.
	Domain string
	// Secret is the shared secret of the XEP-0114 handshake. It is never
	// logged.
	Secret string
	// Name is the disco identity name; "askbridge" if empty.
	Name string
	// Version is the XEP-0092 software version answer; "unknown" if empty.
	Version string
	// PingInterval is the time between keepalive pings; 30s if zero.
	PingInterval time.Duration
	// PingTimeout is how long a keepalive ping may go unanswered before the
	// link is declared dead; 10s if zero. It also bounds connecting and the
	// handshake.
	PingTimeout time.Duration
	// BackoffMin is the first delay before reconnecting; 1s if zero.
	BackoffMin time.Duration
	// BackoffMax caps the jittered exponential reconnect delay; 30s if
	// zero. A link that stayed up this long resets the backoff.
	BackoffMax time.Duration
	// WriteTimeout bounds every write to the stream; 10s if zero.
	WriteTimeout time.Duration
	// MaxStanzaBytes caps the size of a stanza SendBatch writes; a larger
	// one is refused with ErrTooLarge instead of making the server close
	// the stream. DefaultMaxStanzaBytes if zero.
	MaxStanzaBytes int
}

// Defaults for zero Config fields.
const (
	DefaultName         = "askbridge"
	DefaultVersion      = "unknown"
	DefaultPingInterval = 30 * time.Second
	DefaultPingTimeout  = 10 * time.Second
	DefaultBackoffMin   = 1 * time.Second
	DefaultBackoffMax   = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	def(&c.PingInterval, DefaultPingInterval)
	def(&c.PingTimeout, DefaultPingTimeout)
	def(&c.BackoffMin, DefaultBackoffMin)
	def(&c.BackoffMax, DefaultBackoffMax)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	if c.MaxStanzaBytes == 0 {
		c.MaxStanzaBytes = DefaultMaxStanzaBytes
	}
	return c
}

// validate checks a Config that has its defaults applied and returns the
// parsed domain.
func (c Config) validate() (jid.JID, error) {
	if c.Server == "" {
		return jid.JID{}, errors.New("xmpp: config: server (host:port of the component listener) is empty")
	}
	if _, _, err := net.SplitHostPort(c.Server); err != nil {
		return jid.JID{}, fmt.Errorf("xmpp: config: server %q is not host:port: %w", c.Server, err)
	}
	if c.Domain == "" {
		return jid.JID{}, errors.New("xmpp: config: domain is empty")
	}
	domain, err := jid.Parse(c.Domain)
	if err != nil {
		return jid.JID{}, fmt.Errorf("xmpp: config: domain %q: %w", c.Domain, err)
	}
	if domain.Localpart() != "" || domain.Resourcepart() != "" {
		return jid.JID{}, fmt.Errorf("xmpp: config: domain %q must be a bare domain", c.Domain)
	}
	if c.Secret == "" {
		return jid.JID{}, errors.New("xmpp: config: secret is empty")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ping interval", c.PingInterval},
		{"ping timeout", c.PingTimeout},
		{"backoff min", c.BackoffMin},
		{"backoff max", c.BackoffMax},
		{"write timeout", c.WriteTimeout},
	} {
		if d.v < 0 {
			return jid.JID{}, fmt.Errorf("xmpp: config: %s %v is negative", d.name, d.v)
		}
	}
	if c.MaxStanzaBytes < 0 {
		return jid.JID{}, fmt.Errorf("xmpp: config: max stanza bytes %d is negative", c.MaxStanzaBytes)
	}
	if c.BackoffMin > c.BackoffMax {
		return jid.JID{}, fmt.Errorf("xmpp: config: backoff min %v exceeds backoff max %v", c.BackoffMin, c.BackoffMax)
	}
	return domain, nil
}
