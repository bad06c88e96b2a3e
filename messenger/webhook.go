package messenger

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DefaultMaxBodyBytes is the webhook body limit when WebhookConfig leaves it
// zero.
const DefaultMaxBodyBytes = 1 << 20

// eventReceived is the body of a successful webhook POST, as Meta's examples
// answer.
const eventReceived = "EVENT_RECEIVED"

// Sink receives the events of webhook POSTs.
type Sink interface {
	// Accept stores all events of one POST durably before it returns nil.
	// When it returns an error, none or some of them may be stored; the
	// webhook then answers 5xx and Facebook delivers the POST again, so
	// Accept must skip events it already has (by MID).
	Accept(ctx context.Context, events []Event) error
}

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// AppSecret is the Facebook app secret that signs webhook POSTs.
	AppSecret string
	// VerifyToken is the token set in the app dashboard, which Facebook
	// echoes in the GET verification handshake.
	VerifyToken string
	// MaxBodyBytes limits a POST body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Webhook is the http.Handler for the Messenger webhook path (/webhook; the
// caller mounts it there and it serves whatever path it is given).
//
// GET answers Facebook's verification handshake. POST reads the body (413
// when over the limit, 503 when too many are being read; see bodyReader),
// verifies its signature (403), parses it (400), hands
// the events to the Sink (500 when that fails, so Facebook retries) and
// answers 200 "EVENT_RECEIVED". While draining, POST answers 503 at once.
type Webhook struct {
	signer      signer
	verifyToken []byte
	maxBody     int64
	bodies      *bodyReader
	sink        Sink
	log         *zap.Logger
	draining    atomic.Bool
	stats       statsCounter
}

// NewWebhook returns a webhook that hands events to sink. log may be nil.
func NewWebhook(cfg WebhookConfig, sink Sink, log *zap.Logger) *Webhook {
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AppSecret == "" {
		log.Warn("messenger webhook has no app secret: every POST will be refused")
	}
	if cfg.VerifyToken == "" {
		log.Warn("messenger webhook has no verify token: verification will be refused")
	}
	return &Webhook{
		signer:      signer{secret: []byte(cfg.AppSecret)},
		verifyToken: []byte(cfg.VerifyToken),
		maxBody:     cfg.MaxBodyBytes,
		bodies:      newBodyReader(cfg.MaxBodyBytes),
		sink:        sink,
		log:         log,
	}
}

// SetDraining switches draining on or off. While draining, POSTs are answered
// 503 without being read, so Facebook delivers them again later (to this
// process after a restart, or to another).
func (w *Webhook) SetDraining(on bool) { w.draining.Store(on) }

// ServeHTTP implements http.Handler.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.verify(rw, r)
	case http.MethodPost:
		w.receive(rw, r)
	default:
		w.stats.add(resultMethodNotAllowed)
		rw.Header().Set("Allow", "GET, POST")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify answers the subscription handshake: echo hub.challenge when the
// mode is "subscribe" and the verify token matches.
func (w *Webhook) verify(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	if q.Get("hub.mode") != "subscribe" || len(w.verifyToken) == 0 ||
		subtle.ConstantTimeCompare(token, w.verifyToken) != 1 {
		w.stats.add(resultVerifyFailed)
		w.log.Warn("webhook verification refused",
			zap.String("mode", q.Get("hub.mode")), zap.String("remote", r.RemoteAddr))
		http.Error(rw, "forbidden", http.StatusForbidden)
		return
	}
	w.stats.add(resultVerified)
	w.log.Info("webhook verified by Facebook", zap.String("remote", r.RemoteAddr))
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(rw, q.Get("hub.challenge"))
}

// receive handles one event POST.
func (w *Webhook) receive(rw http.ResponseWriter, r *http.Request) {
	if w.draining.Load() {
		w.stats.add(resultDraining)
		rw.Header().Set("Retry-After", "5")
		http.Error(rw, "draining", http.StatusServiceUnavailable)
		return
	}
	// Fields are only made into a logger when something is logged: With
	// would copy the logger and encode the field for every POST.
	remote := zap.String("remote", r.RemoteAddr)
	if r.ContentLength > w.maxBody {
		w.tooLarge(rw, remote)
		return
	}
	// Without a well-formed signature header the body is not even read.
	sig, err := signatureHeader(r.Header)
	if err != nil {
		w.stats.add(resultForbidden)
		w.log.Warn("webhook POST refused", remote, zap.Error(err))
		http.Error(rw, "forbidden", http.StatusForbidden)
		return
	}
	// The body must come within bodyReadTimeout (not all servers have a
	// ResponseController that can set one: then the server's ReadTimeout
	// alone applies).
	_ = http.NewResponseController(rw).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body, release, err := w.bodies.read(http.MaxBytesReader(rw, r.Body, w.maxBody), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, errBodyTooLarge), errors.As(err, &tooBig):
			w.tooLarge(rw, remote)
		case errors.Is(err, errBodyBusy):
			w.stats.add(resultBusy)
			w.log.Warn("webhook POST put off: too many bodies being read", remote, zap.Int64("bytes", r.ContentLength))
			rw.Header().Set("Retry-After", "5")
			http.Error(rw, "busy", http.StatusServiceUnavailable)
		default:
			w.stats.add(resultMalformed)
			w.log.Warn("reading webhook body", remote, zap.Error(err))
			http.Error(rw, "cannot read body", http.StatusBadRequest)
		}
		return
	}
	defer release()
	if err := w.signer.verify(sig, body); err != nil {
		w.stats.add(resultForbidden)
		w.log.Warn("webhook POST refused", remote, zap.Error(err), zap.Int("bytes", len(body)))
		http.Error(rw, "forbidden", http.StatusForbidden)
		return
	}
	batch, err := Parse(body)
	if err != nil {
		w.stats.add(resultMalformed)
		w.log.Warn("webhook POST malformed", remote, zap.Error(err), zap.Int("bytes", len(body)))
		http.Error(rw, "malformed body", http.StatusBadRequest)
		return
	}
	if len(batch.Events) > 0 {
		if err := w.sink.Accept(r.Context(), batch.Events); err != nil {
			w.stats.add(resultStoreFailed)
			w.log.Error("storing webhook events failed; Facebook will retry",
				remote, zap.Error(err), zap.Int("events", len(batch.Events)))
			http.Error(rw, "cannot store events", http.StatusInternalServerError)
			return
		}
	}
	w.stats.accepted(batch)
	if ce := w.log.Check(zap.DebugLevel, "webhook POST accepted"); ce != nil {
		ce.Write(remote, zap.String("object", batch.Object),
			zap.Int("events", len(batch.Events)), zap.Int("ignored", batch.Ignored))
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, eventReceived)
}

// tooLarge answers 413.
func (w *Webhook) tooLarge(rw http.ResponseWriter, remote zap.Field) {
	w.stats.add(resultTooLarge)
	w.log.Warn("webhook POST too large", remote, zap.Int64("limit", w.maxBody))
	http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
}
