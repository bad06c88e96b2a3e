package messenger

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
)

// TestSignerAgreesWithVerifySignature: the webhook's reused hashers decide
// every well-formed header as VerifySignature does, again and again.
func TestSignerAgreesWithVerifySignature(t *testing.T) {
	body := fixture(t, "text_unicode.json")
	other := bytes.Replace(body, []byte("Test"), []byte("Tost"), 1)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	wrong256 := "sha256=00" + vectorSHA256[9:]
	headers := []http.Header{
		hdr(HeaderSignature256, vectorSHA256),
		hdr(HeaderSignature256, wrong256),
		hdr(HeaderSignature1, vectorSHA1),
		hdr(HeaderSignature1, "sha1=00"+vectorSHA1[7:]),
		hdr(HeaderSignature256, wrong256, HeaderSignature1, vectorSHA1),
		hdr(HeaderSignature256, "SHA256="+string(bytes.ToUpper([]byte(vectorSHA256[7:])))),
	}
	for _, secret := range []string{vectorSecret, "0" + vectorSecret[1:], ""} {
		s := &signer{secret: []byte(secret)}
		for round := range 3 { // the hashers are reused from the second round on
			for _, b := range [][]byte{body, other, nil} {
				for i, h := range headers {
					sig, err := signatureHeader(h)
					if err != nil {
						t.Fatalf("header %d: %v", i, err)
					}
					got := s.verify(sig, b)
					want := VerifySignature([]byte(secret), b, h)
					if (got == nil) != (want == nil) {
						t.Fatalf("secret %q, round %d, body %.10q, header %d: verify = %v, VerifySignature = %v",
							secret, round, b, i, got, want)
					}
					if got != nil && !errors.Is(got, ErrBadSignature) {
						t.Fatalf("verify = %v, want ErrBadSignature", got)
					}
				}
			}
		}
	}
}
