// Package jabberclient is a minimal XMPP client (c2s) for tests and load
// generation: it logs in to a server on loopback, sends chat messages or raw
// stanzas, and hands out every message, IQ answer, presence and roster push
// it receives, in order and without dropping any.
//
// It authenticates with SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN over a
// plaintext connection: it never negotiates TLS, so it is only for servers
// on 127.0.0.1 (such as the one internal/prosody starts).
package jabberclient
