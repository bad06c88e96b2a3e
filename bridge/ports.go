package bridge

import (
	"context"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// Link is the bridge's view of the XMPP component connection.
type Link interface {
	// SendBatch writes message and presence stanzas on the live stream in
	// order, with one flush. It returns an error when the stream is down or
	// a write failed: the bridge keeps the stanzas and writes them again
	// later. A stanza that can never be sent has its error (wrapping
	// xmpp.ErrInvalidMessage) at its index in invalid.
	SendBatch(stanzas []xmpp.Stanza) (invalid []error, err error)
	// SendPresence writes a presence stanza on the live stream, like Send.
	SendPresence(p xmpp.Presence) error
	// Sync returns once the Jabber server has routed everything written
	// before the call, or an error: what was written may then be lost.
	Sync() error
	// Connected reports whether the stream is up.
	Connected() bool
}

// SendAPI is the bridge's view of Facebook's Send API.
type SendAPI interface {
	// Send makes one Send API call for the Page with the given token. A
	// *messenger.GraphError tells why Facebook refused it.
	Send(ctx context.Context, token string, page messenger.PageID, m messenger.OutgoingMessage) (messenger.SendResult, error)
}

// Compile-time checks that the bridge fits both sides.
var (
	_ messenger.Sink       = (*Bridge)(nil)
	_ xmpp.Handler         = (*Bridge)(nil)
	_ xmpp.PresenceHandler = (*Bridge)(nil)
)
