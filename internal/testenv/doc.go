// Package testenv is askbridge's one test world: a private Jabber server on
// loopback (Prosody or ejabberd, behind one Server interface), the Facebook
// stand-in, a daemon configuration, the daemon itself in-process, and
// librarians' Jabber clients.
//
// The daemon's tests run on a World; the command's process tests take a
// World without an in-process daemon and run the askbridge binary on its
// values; the load generator, which is no test, starts its server with
// StartServer, which takes a context and returns an error.
//
// Tests that need a server skip when it is not installed, or fail when CI
// requires it (ASKBRIDGE_REQUIRE_PROSODY=1, ASKBRIDGE_REQUIRE_EJABBERD=1):
// the rule of internal/localserver. Everything a World starts ends when
// the test does.
package testenv
