package jabberclient

import (
	"crypto/rand"
	"encoding/hex"
)

// newID returns a random stanza id with the given prefix.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return prefix + hex.EncodeToString(b)
}
