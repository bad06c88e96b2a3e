package messenger

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
)

// The vector of fixtures/messenger/README.md.
const (
	vectorSecret = "e6af24be1d683c8c911949f897eea1f6"
	vectorSHA1   = "sha1=da611bd448dc12acdf0cd3ab33fdb3adaee26145"
	vectorSHA256 = "sha256=3bf62d5bc657e3a17e55fa0095fa29964db507393b05209c260e2c845254968b"
)

func TestVerifySignature(t *testing.T) {
	body := fixture(t, "text_unicode.json")
	if len(body) != 288 {
		t.Fatalf("fixture is %d bytes, want 288", len(body))
	}
	// The same message as Go would re-encode it: the signature must not
	// match, since Facebook signs the bytes it sent.
	reencoded := bytes.Replace(body, []byte(`\u00e4\u00eb\u00ef`), []byte("äëï"), 1)
	if bytes.Equal(reencoded, body) {
		t.Fatal("fixture lacks the escapes this test relies on")
	}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		secret string
		body   []byte
		h      http.Header
		want   error
	}{
		{"sha256 only", vectorSecret, body, hdr(HeaderSignature256, vectorSHA256), nil},
		{"sha1 only", vectorSecret, body, hdr(HeaderSignature1, vectorSHA1), nil},
		{"both", vectorSecret, body, hdr(HeaderSignature256, vectorSHA256, HeaderSignature1, vectorSHA1), nil},
		{"sha256 decides over a wrong sha1", vectorSecret, body,
			hdr(HeaderSignature256, vectorSHA256, HeaderSignature1, "sha1=0000"), nil},
		{"no fallback to sha1 when sha256 is wrong", vectorSecret, body,
			hdr(HeaderSignature256, "sha256=00"+vectorSHA256[9:], HeaderSignature1, vectorSHA1), ErrBadSignature},
		{"upper-case prefix and hex", vectorSecret, body,
			hdr(HeaderSignature256, "SHA256="+string(bytes.ToUpper([]byte(vectorSHA256[7:])))), nil},
		{"no headers", vectorSecret, body, http.Header{}, ErrNoSignature},
		{"README's rejected sha1 example", vectorSecret, []byte(`{"object":"page","entry":[]}`),
			hdr(HeaderSignature1, "sha1=f1a4569dcf02a9829a15696d949b386b7d6d0272"), ErrBadSignature},
		{"re-encoded body", vectorSecret, reencoded, hdr(HeaderSignature256, vectorSHA256), ErrBadSignature},
		{"wrong secret", "0" + vectorSecret[1:], body, hdr(HeaderSignature256, vectorSHA256), ErrBadSignature},
		{"empty secret", "", body, hdr(HeaderSignature256, vectorSHA256), ErrBadSignature},
		{"not hex", vectorSecret, body, hdr(HeaderSignature256, "sha256=xyz"), ErrBadSignature},
		{"wrong algorithm prefix", vectorSecret, body, hdr(HeaderSignature256, "sha1="+vectorSHA1[5:]), ErrBadSignature},
		{"empty header", vectorSecret, body, hdr(HeaderSignature256, ""), ErrBadSignature},
		{"two sha256 headers", vectorSecret, body,
			hdr(HeaderSignature256, vectorSHA256, HeaderSignature256, vectorSHA256), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature([]byte(tt.secret), tt.body, tt.h)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifySignature = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignedHeaderMatchesVector(t *testing.T) {
	// The test helper must agree with the README's vector, or tests that
	// use it prove nothing.
	h := signedHeader(vectorSecret, fixture(t, "text_unicode.json"))
	if got := h.Get(HeaderSignature256); got != vectorSHA256 {
		t.Errorf("sha256 = %s, want %s", got, vectorSHA256)
	}
	if got := h.Get(HeaderSignature1); got != vectorSHA1 {
		t.Errorf("sha1 = %s, want %s", got, vectorSHA1)
	}
}
