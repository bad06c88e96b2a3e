// Package xmpp is askbridge's XMPP side: an XEP-0114 component connection to
// the library's Jabber server that reconnects with backoff and watches the
// link with XEP-0199 pings, and the mapping between message stanzas and
// [Message] values (with XEP-0085 chat states, XEP-0066 out-of-band URLs and
// XEP-0172 nicknames). It answers service discovery (XEP-0030), ping and
// software version (XEP-0092) requests itself.
//
// It knows nothing of Facebook: the bridge receives stanzas through a
// [Handler] and sends them with [Component.Send].
//
// A successful Send means the stanza was written to a live stream, not that
// it was delivered: the server answers undeliverable messages later with an
// error stanza carrying the same id, which reaches [Handler.HandleBounce].
package xmpp
