package standin

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"

	"github.com/askbridge/askbridge/messenger"
)

// randomToken is n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// newMID makes a message ID shaped like Facebook's current ones ("m_…").
func newMID() messenger.MID { return messenger.MID("m_" + randomToken(48)) }

// newTraceID makes an fbtrace_id.
func newTraceID() string { return randomToken(16) }

// NewPSID returns a random page-scoped ID: 16 decimal digits, like
// Facebook's.
func NewPSID() messenger.PSID {
	lo := new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil)
	span := new(big.Int).Mul(lo, big.NewInt(9))
	n, _ := rand.Int(rand.Reader, span)
	return messenger.PSID(n.Add(n, lo).String())
}
