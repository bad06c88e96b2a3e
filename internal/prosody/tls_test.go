package prosody

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With TLS, the server offers STARTTLS on c2s and completes a handshake
// with the self-signed certificate it was given, which names the host.
func TestTLSStartTLS(t *testing.T) {
	s := StartTest(t, Options{Host: "localhost", TLS: true})
	pemData, err := os.ReadFile(filepath.Join(s.Dir, certsDir, "localhost.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatal("certificate file holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	conn, err := net.DialTimeout("tcp", s.C2SAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
	r := bufio.NewReader(conn)
	readUntil := func(marker string) string {
		t.Helper()
		var b strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(b.String(), marker) {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q: %v (read %q)", marker, err, b.String())
			}
		}
		return b.String()
	}
	features := readUntil("</stream:features>")
	if !strings.Contains(features, "urn:ietf:params:xml:ns:xmpp-tls") {
		t.Fatalf("no STARTTLS offered: %s", features)
	}
	fmt.Fprintf(conn, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	readUntil("<proceed")
	tc := tls.Client(conn, &tls.Config{ServerName: "localhost", RootCAs: roots})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
}
