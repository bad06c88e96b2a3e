// Package prosody runs a private, throwaway Prosody server on loopback for
// tests, demos and load generation.
//
// Start picks free loopback ports, writes a configuration and a data
// directory of its own, starts `prosody --config FILE -F` and waits until the
// server's c2s and component listeners are up. The server has no TLS, no
// server-to-server connections and no rate limits: it must never be exposed
// beyond 127.0.0.1.
//
// Tests that need Prosody call [Require] (or [Binary]) first: without the
// binary they are skipped, unless ASKBRIDGE_REQUIRE_PROSODY=1 is set (as CI
// does), in which case they fail.
package prosody
