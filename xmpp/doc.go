// Package xmpp is askbridge's XMPP side: an XEP-0114 component connection to
// the library's Jabber server that reconnects with backoff and watches the
// link with XEP-0199 pings, and the mapping between stanzas and Go values.
//
// Messages ([Message], sent with [Component.Send], received by
// [Handler.HandleMessage]) carry XEP-0085 chat states, XEP-0066 out-of-band
// URLs, XEP-0172 nicknames, XEP-0184 receipts, XEP-0333 chat markers,
// XEP-0308 corrections and the XEP-0334 no-store hint. A message with only
// a chat state, marker or receipt reaches the Handler like any other.
//
// Presence ([Presence], sent with [Component.SendPresence]) makes patron
// JIDs available or unavailable with a nickname, answers and sends
// subscription requests and probes; a Handler that is also a
// [PresenceHandler] receives every presence for the domain and its JIDs.
// The server keeps no roster for component JIDs: it routes all their
// presence, probes included, to the component, which answers them itself
// (through the PresenceHandler); see TestPresence for how Prosody behaves.
//
// The component answers service discovery (XEP-0030: a gateway of type
// facebook, patrons as clients), ping and software version (XEP-0092)
// requests itself, and, when the Handler is also a [CommandHandler], offers
// XEP-0050 ad-hoc commands with XEP-0004 forms at its domain.
//
// It is built on mellium.im/xmpp: the component handshake and session,
// stanza errors (stanza), the routing of IQs (mux), the ping handler and
// the matching of its answers (SendIQ), the disco and version elements and
// data forms (form). The XEP-0050 responder, which mellium lacks, is
// package [github.com/askbridge/askbridge/xmpp/adhoc]. Messages and
// presence are decoded here, each stanza into one value for the Handler.
//
// It knows nothing of Facebook: the bridge receives stanzas through a
// [Handler] and decides what to do with them.
//
// A successful Send means the stanza was written to a live stream, not that
// it was delivered: the server answers undeliverable messages later with an
// error stanza carrying the same id, which reaches [Handler.HandleBounce]
// (and, for presence, [PresenceHandler.HandlePresence] with Type "error").
package xmpp
