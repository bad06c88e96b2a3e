package messenger

import (
	"crypto/hmac"
	"crypto/sha1" // Facebook's legacy X-Hub-Signature header uses HMAC-SHA1.
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// Header names of Facebook's webhook signatures.
const (
	HeaderSignature256 = "X-Hub-Signature-256"
	HeaderSignature1   = "X-Hub-Signature"
)

// Errors of VerifySignature.
var (
	// ErrNoSignature means the request carries no signature header.
	ErrNoSignature = errors.New("messenger: webhook request is not signed")
	// ErrBadSignature means the signature header is malformed or does not
	// match the body.
	ErrBadSignature = errors.New("messenger: webhook signature does not match")
)

// VerifySignature checks that body was signed by Facebook with appSecret.
// It checks X-Hub-Signature-256 ("sha256=<hex>", HMAC-SHA256 of the raw body)
// and falls back to the legacy X-Hub-Signature ("sha1=<hex>") only when the
// SHA-256 header is absent. body must be the bytes exactly as received.
// The comparison is constant-time. Errors wrap ErrNoSignature or
// ErrBadSignature.
func VerifySignature(appSecret []byte, body []byte, h http.Header) error {
	if len(appSecret) == 0 {
		return fmt.Errorf("%w: no app secret configured", ErrBadSignature)
	}
	if v := h.Values(HeaderSignature256); len(v) > 0 {
		return checkSignature(sha256.New, "sha256=", appSecret, body, v)
	}
	if v := h.Values(HeaderSignature1); len(v) > 0 {
		return checkSignature(sha1.New, "sha1=", appSecret, body, v)
	}
	return ErrNoSignature
}

// checkSignature verifies one header's values: exactly one, prefixed, hex,
// and equal to the HMAC of body.
func checkSignature(newHash func() hash.Hash, prefix string, secret, body []byte, values []string) error {
	got, err := parseSignature(prefix, values)
	if err != nil {
		return err
	}
	return checkMAC(newHash, secret, body, got)
}

// checkMAC checks that want is the HMAC of body keyed with secret.
func checkMAC(newHash func() hash.Hash, secret, body, want []byte) error {
	mac := hmac.New(newHash, secret)
	mac.Write(body)
	if !hmac.Equal(want, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// parseSignature decodes one signature header's values.
func parseSignature(prefix string, values []string) ([]byte, error) {
	if len(values) != 1 {
		return nil, fmt.Errorf("%w: %d signature headers", ErrBadSignature, len(values))
	}
	v := strings.TrimSpace(values[0])
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return nil, fmt.Errorf("%w: header lacks %q prefix", ErrBadSignature, prefix)
	}
	got, err := hex.DecodeString(v[len(prefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not hex", ErrBadSignature)
	}
	return got, nil
}

// signature is a request's signature header, decoded: the one that
// decides (see VerifySignature).
type signature struct {
	legacy bool   // X-Hub-Signature (HMAC-SHA1), not X-Hub-Signature-256
	mac    []byte // the HMAC it names
}

// signatureHeader decodes a request's signature header, and refuses, before
// the body is read, a request whose header is missing or malformed: such a
// body could never be verified.
func signatureHeader(h http.Header) (signature, error) {
	if v := h.Values(HeaderSignature256); len(v) > 0 {
		got, err := parseSignature("sha256=", v)
		if err == nil && len(got) != sha256.Size {
			err = fmt.Errorf("%w: signature is %d bytes, not %d", ErrBadSignature, len(got), sha256.Size)
		}
		return signature{mac: got}, err
	}
	if v := h.Values(HeaderSignature1); len(v) > 0 {
		got, err := parseSignature("sha1=", v)
		if err == nil && len(got) != sha1.Size {
			err = fmt.Errorf("%w: signature is %d bytes, not %d", ErrBadSignature, len(got), sha1.Size)
		}
		return signature{legacy: true, mac: got}, err
	}
	return signature{}, ErrNoSignature
}

// signer checks webhook bodies against one app secret. It keeps its
// HMAC-SHA256 hashers keyed: keying one anew for each POST would cost two
// more hash blocks and half a dozen allocations.
type signer struct {
	secret []byte
	macs   sync.Pool // *keyedMAC
}

// keyedMAC is an HMAC-SHA256 keyed with the signer's secret, and room for
// its sum.
type keyedMAC struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// verify checks that body was signed with the secret as sig says: what
// VerifySignature does once the header has been decoded. Errors wrap
// ErrBadSignature.
func (s *signer) verify(sig signature, body []byte) error {
	if len(s.secret) == 0 {
		return fmt.Errorf("%w: no app secret configured", ErrBadSignature)
	}
	if sig.legacy {
		return checkMAC(sha1.New, s.secret, body, sig.mac)
	}
	k, _ := s.macs.Get().(*keyedMAC)
	if k == nil {
		k = &keyedMAC{mac: hmac.New(sha256.New, s.secret)}
	}
	k.mac.Reset() // the first Reset keeps the keyed state for the next ones
	k.mac.Write(body)
	ok := hmac.Equal(sig.mac, k.mac.Sum(k.sum[:0]))
	s.macs.Put(k)
	if !ok {
		return ErrBadSignature
	}
	return nil
}
