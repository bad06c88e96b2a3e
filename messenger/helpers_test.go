package messenger

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// fixture reads testdata/name.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedHeader returns headers carrying both of Facebook's signatures of body.
func signedHeader(secret string, body []byte) http.Header {
	h := http.Header{}
	m256 := hmac.New(sha256.New, []byte(secret))
	m256.Write(body)
	h.Set(HeaderSignature256, "sha256="+hex.EncodeToString(m256.Sum(nil)))
	m1 := hmac.New(sha1.New, []byte(secret))
	m1.Write(body)
	h.Set(HeaderSignature1, "sha1="+hex.EncodeToString(m1.Sum(nil)))
	return h
}
