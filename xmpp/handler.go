package xmpp

import "context"

// Handler receives what the component reads. Its methods are called one at
// a time, on the goroutine that reads the stream: they must return quickly
// (a BoltDB commit is fine; no network calls), since the stream is not read
// meanwhile.
type Handler interface {
	// HandleMessage gets every non-error message stanza addressed to the
	// component domain or a JID in it. A non-nil *StanzaError makes the
	// component answer the sender with that error (type error, same id).
	HandleMessage(ctx context.Context, m Message) *StanzaError
	// HandleBounce gets every type="error" message stanza: the answer to a
	// message the component sent, matched by ID.
	HandleBounce(ctx context.Context, b Bounce)
	// LinkChanged reports that the stream came up (authenticated) or went
	// down. Send works from the moment LinkChanged(true) is called.
	LinkChanged(up bool)
}
