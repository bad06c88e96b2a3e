package xmpp

import (
	"context"

	"mellium.im/xmpp/jid"
)

// Handler receives what the component reads. Its methods are called one at
// a time, in the order the stanzas were read, on a goroutine of the link
// beside the one that reads the stream. They should return quickly (a
// BoltDB commit is fine; no network calls): the reader goes on meanwhile,
// but at most 1,024 stanzas wait for them, and an IQ request from a user
// is answered only after the stanzas read before it are handled.
//
// Every stanza reaches them with its addresses parsed: a message or
// presence whose from or to is not a JID, or whose to is outside the
// component domain, is dropped (and logged) as it is read.
type Handler interface {
	// HandleMessage gets every non-error message stanza addressed to the
	// component domain or a JID in it, bodyless ones (a chat state,
	// receipt or marker alone) included. A non-nil *StanzaError makes the
	// component answer the sender with that error (type error, same id).
	HandleMessage(ctx context.Context, m Message) *StanzaError
	// HandleBounce gets every type="error" message stanza: the answer to a
	// message the component sent, matched by ID.
	HandleBounce(ctx context.Context, b Bounce)
	// LinkChanged reports that the stream came up (authenticated) or went
	// down. Send works from the moment LinkChanged(true) is called.
	LinkChanged(up bool)
}

// PresenceHandler is an optional interface of a Handler (checked when the
// Component is built): HandlePresence gets every presence stanza addressed
// to the component domain or a JID in it, of every type ("" for available,
// "unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed",
// "probe", "error"), called like the Handler's methods.
// Without it, incoming presence is ignored: nobody answers probes or
// subscription requests.
//
// What arrives, as Prosody 0.12 routes it (TestPresence checks each):
//   - An operator's subscribe to a patron JID comes from the operator's
//     bare JID; the server has already added the patron to the operator's
//     roster (ask="subscribe"). Answering with SendPresence type
//     "subscribed" completes it (subscription "to"); only then, and only
//     to resources that fetched the roster, does the server forward the
//     approval and push the roster change.
//   - The server keeps no presence for component JIDs: when a resource of
//     an operator subscribed to a patron logs in, the server sends a
//     "probe" from that full JID, and only the component's answer tells
//     the client whether the patron is online.
//   - After SendPresence of a "subscribe" from the component to an
//     operator, the server acknowledges with an "unavailable" from the
//     operator's bare JID (also for accounts that do not exist). When the
//     operator approves, a "subscribed" follows from the bare JID, then
//     the available presence of each online resource (full JIDs); from
//     then on every change (show away/xa/dnd/chat, unavailable on logout)
//     is sent to the domain, and a "probe" from the domain gets the
//     presence of each online resource. A probe to an operator who has not
//     approved gets no answer at all.
//   - Directed presence from an operator to a patron JID arrives too,
//     and so does the "unavailable" the server sends for it at logout.
//   - Presence the server cannot deliver comes back as Type "error" with
//     the same ID (e.g. not-allowed for a domain it cannot reach);
//     available presence to an account with no online resource is
//     dropped silently.
//   - While the component is disconnected the server answers every stanza
//     for it (probes too) with a wait/remote-server-timeout error, and
//     nothing is replayed: after LinkChanged(true), announce the patrons'
//     presence again and probe the operators.
//   - Server-generated presence (probes, acknowledgements) has no id.
type PresenceHandler interface {
	HandlePresence(ctx context.Context, p Presence)
}

// CommandHandler is an optional interface of a Handler (checked when the
// Component is built) that offers XEP-0050 ad-hoc commands at the
// component domain. Without it the component advertises no commands and
// answers command requests with service-unavailable. Both methods are
// called on the goroutine that reads the stream, once the Handler calls
// for the stanzas read before the request are done.
type CommandHandler interface {
	// Commands lists the ad-hoc commands offered to from (a full JID) at
	// the component's domain; nil or empty for users who may not run any.
	// It is asked on every discovery request and command call, so
	// revoking a user's rights takes effect at once.
	Commands(from jid.JID) []Command
	// RunCommand runs one of the commands Commands(from) lists. A first
	// call has no form values (req.Values nil) and may return a form to
	// fill (Status "executing"); the next call carries the submitted
	// values, the same SessionID and Action "complete" (or "execute").
	// Action "cancel" ends a session; the answer's Status is then
	// "canceled" whatever it says. Single-stage commands just return a
	// Note.
	RunCommand(ctx context.Context, from jid.JID, req CommandRequest) CommandResponse
}
