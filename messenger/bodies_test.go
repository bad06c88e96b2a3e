package messenger

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHeldBodiesBounded: 200 unsigned 1 MiB POSTs held open one byte
// short of their end cost the webhook less than 64 MiB, and a real
// signed webhook is still answered while they wait.
func TestHeldBodiesBounded(t *testing.T) {
	const held, size = 200, DefaultMaxBodyBytes
	sink := &recordingSink{}
	srv := httptest.NewServer(NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken}, sink, nil))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	body := bytes.Repeat([]byte{' '}, size-1)
	head := fmt.Sprintf("POST /webhook HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nX-Hub-Signature-256: sha256=%s\r\n\r\n",
		addr, size, strings.Repeat("0", 64))
	var wrote sync.WaitGroup
	conns := make([]net.Conn, 0, held)
	for range held {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		wrote.Add(1)
		go func() {
			defer wrote.Done()
			// Refused POSTs are closed by the server: a failed write is
			// expected for those.
			_, _ = c.Write(append([]byte(head), body...))
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	wrote.Wait() // every body is sent, but for its last byte

	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("heap grew by %.1f MiB under %d held bodies of %d KiB", float64(grown)/(1<<20), held, size>>10)
	if grown > 64<<20 {
		t.Errorf("heap grew by %d MiB, want under 64", grown>>20)
	}

	// A real webhook is answered at once.
	text := fixture(t, "text.json")
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = signedHeader(testSecret, text)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != eventReceived {
		t.Errorf("real webhook: %d %q", resp.StatusCode, got)
	}
}

// TestSlowBodiesLetGo: POSTs that take every place for small bodies and
// then send them slowly (without knowing the app secret) are cut off after
// bodyReadTimeout, and a real webhook is answered again.
func TestSlowBodiesLetGo(t *testing.T) {
	srv := httptest.NewServer(NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken}, &recordingSink{}, nil))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	head := fmt.Sprintf("POST /webhook HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\nX-Hub-Signature-256: sha256=%s\r\n\r\n{",
		addr, strings.Repeat("0", 64))
	var cut sync.WaitGroup
	for range smallBodies {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		cut.Add(1)
		go func() {
			defer cut.Done()
			_, _ = io.ReadAll(c) // until the server answers and closes
		}()
	}
	cut.Wait() // every slow POST was cut off
	text := fixture(t, "text.json")
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = signedHeader(testSecret, text)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("real webhook after the slow ones: %d", resp.StatusCode)
	}
}
