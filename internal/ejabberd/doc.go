// Package ejabberd runs a private, throwaway ejabberd (Debian's package) on
// loopback for tests: the counterpart of internal/prosody for the second
// Jabber server askbridge is checked against.
//
// Start picks free loopback ports, writes an ejabberd.yml, an
// ejabberdctl.cfg and a Mnesia directory of its own, runs
// `ejabberdctl … foreground` and waits until the c2s listener and the
// XEP-0114 listener (ejabberd_service) accept connections; accounts are then
// created with `ejabberdctl register`. The server has no TLS, no
// server-to-server connections and no shapers: it must never be exposed
// beyond 127.0.0.1.
//
// The Erlang node is named askbridge-<random>@localhost and listens for
// ejabberdctl on a fixed distribution port (ERL_DIST_PORT), so no epmd daemon
// is started and a system ejabberd on the same machine is left alone.
// Debian's ejabberdctl runs only as root or as the ejabberd user; the
// harness runs the node as the user running the tests.
//
// Tests that need ejabberd call [Require] first: without the binary (or
// when the tests do not run as root) they are skipped, unless
// ASKBRIDGE_REQUIRE_EJABBERD=1 is set (as CI does), in which case they fail.
package ejabberd
