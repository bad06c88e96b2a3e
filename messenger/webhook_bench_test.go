package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchBody is a webhook body with n text-message entries, as Facebook
// batches them.
func benchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"object":"page","entry":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"510249619162304","time":1768000000000,"messaging":[{"sender":{"id":"7%015d"},"recipient":{"id":"510249619162304"},"timestamp":1768000000000,"message":{"mid":"m_bench.%d","text":"Do you have the 2024 annual report? \u00e9t\u00e9 \/ %d"}}]}`, i, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func benchSigned(body []byte) http.Header {
	mac := hmac.New(sha256.New, []byte("bench-secret"))
	mac.Write(body)
	h := http.Header{}
	h.Set(HeaderSignature256, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// BenchmarkVerifyAndParse is the webhook's CPU work per POST before
// storage: the signature check and the parse of a batch of n events.
func BenchmarkVerifyAndParse(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			body := benchBody(n)
			h := benchSigned(body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifySignature([]byte("bench-secret"), body, h); err != nil {
					b.Fatal(err)
				}
				batch, err := Parse(body)
				if err != nil || len(batch.Events) != n {
					b.Fatalf("parse: %v, %d events", err, len(batch.Events))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// BenchmarkVerifySignature is the HMAC-SHA256 check alone.
func BenchmarkVerifySignature(b *testing.B) {
	body := benchBody(10)
	h := benchSigned(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature([]byte("bench-secret"), body, h); err != nil {
			b.Fatal(err)
		}
	}
}

// nopBenchSink stores nothing.
type nopBenchSink struct{}

func (nopBenchSink) Accept(context.Context, []Event) error { return nil }

// BenchmarkWebhookPOST is a whole POST through the handler (body read,
// size limit, signature, parse, counters, answer) with a sink that stores
// nothing, without the network: with no logger, and with the daemon's
// (JSON, sampled, level info) writing to io.Discard.
func BenchmarkWebhookPOST(b *testing.B) {
	prod := zap.New(zapcore.NewSamplerWithOptions(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel),
		time.Second, 100, 100)).Named("webhook")
	for _, n := range []int{1, 10} {
		for _, lg := range []struct {
			name string
			log  *zap.Logger
		}{{"", nil}, {",log=production", prod}} {
			b.Run(fmt.Sprintf("events=%d%s", n, lg.name), func(b *testing.B) {
				body := benchBody(n)
				h := benchSigned(body)
				wh := NewWebhook(WebhookConfig{AppSecret: "bench-secret", VerifyToken: "v"}, nopBenchSink{}, lg.log)
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
					req.Header = h.Clone()
					rec := httptest.NewRecorder()
					wh.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		}
	}
}

// webhookFixtures returns the webhook bodies among the fixtures in
// testdata (all but the Send API error body).
func webhookFixtures(b *testing.B) [][]byte {
	b.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for _, name := range files {
		if strings.HasPrefix(filepath.Base(name), "send_error") {
			continue
		}
		body, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	if len(bodies) == 0 {
		b.Fatal("no webhook fixtures in testdata")
	}
	return bodies
}

// BenchmarkParse is messenger.Parse alone: every webhook fixture once per
// op, and batches of 1 and 10 text events.
func BenchmarkParse(b *testing.B) {
	b.Run("fixtures", func(b *testing.B) {
		bodies := webhookFixtures(b)
		size := 0
		for _, body := range bodies {
			size += len(body)
		}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				if _, err := Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			body := benchBody(n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				batch, err := Parse(body)
				if err != nil || len(batch.Events) != n {
					b.Fatalf("parse: %v, %d events", err, len(batch.Events))
				}
			}
		})
	}
}
