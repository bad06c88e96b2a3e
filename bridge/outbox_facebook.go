package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

const (
	// sendTimeout bounds one Send API call; a call in flight at shutdown
	// is allowed to finish within it.
	sendTimeout = 20 * time.Second
	// retryFor is how long a reply is retried after temporary errors
	// before the librarian is told it could not be delivered.
	retryFor = 30 * time.Minute
	retryMin = time.Second
	retryMax = 5 * time.Minute
	// echoGrace is how long after an attempt whose outcome is unknown the
	// bridge waits for Facebook's echo (which carries the metadata) before
	// it sends again. The Send API has no idempotency key; the echo is how
	// a call that went through is recognised.
	echoGrace = 5 * time.Second
)

// fbEntry is a Send API outbox entry.
type fbEntry struct {
	Page string                    `json:"page"`
	Msg  messenger.OutgoingMessage `json:"msg"`
	// Ledger is the key of the ledger record of this message.
	Ledger []byte `json:"ledger,omitempty"`
	// Notify is the full JID of the librarian who wrote it; Patron the
	// patron's JID the notice comes from.
	Notify string    `json:"notify"`
	Patron string    `json:"patron"`
	Queued time.Time `json:"queued"`
	// Attempts counts Send API calls started; LastAttempt is the start of
	// the latest. Both are stored before each call, so after a crash or a
	// timeout the bridge knows a call may have gone through.
	Attempts    int       `json:"attempts,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitempty"`
	// ReceiptID is the librarian's stanza id to acknowledge once Facebook
	// reports delivery (Receipt, XEP-0184) or reading (Markable,
	// XEP-0333); empty when the librarian asked for neither.
	ReceiptID string `json:"receipt_id,omitempty"`
	Receipt   bool   `json:"receipt,omitempty"`
	Markable  bool   `json:"markable,omitempty"`
	// Session is the ID of the session the reply counts in, whose reply
	// outcomes it adds to when Facebook answers; empty in entries queued
	// before sessions counted outcomes.
	Session string `json:"session,omitempty"`
}

func facebookKey(b *bolt.Bucket, psid string) ([]byte, error) {
	k, err := seqKey(b)
	if err != nil {
		return nil, fmt.Errorf("Send API outbox key: %w", err)
	}
	return append(append([]byte(psid), 0), k...), nil
}

func enqueueFacebook(tx *bolt.Tx, psid string, e *fbEntry) error {
	b := tx.Bucket(bucketToFacebook)
	k, err := facebookKey(b, psid)
	if err != nil {
		return err
	}
	return putSealed(b, k, e)
}

// facebookLoop starts one worker per conversation with pending replies.
// Workers send a conversation's replies in order; conversations never wait
// for each other.
func (b *Bridge) facebookLoop(ctx context.Context) {
	for {
		if err := b.startFacebookWorkers(ctx); err != nil {
			b.log.Error("scanning Send API outbox", zap.Error(err))
		}
		if !wait(ctx, b.fbReady, 30*time.Second) {
			return
		}
	}
}

func (b *Bridge) startFacebookWorkers(ctx context.Context) error {
	b.fbMu.Lock()
	defer b.fbMu.Unlock()
	return b.store.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketToFacebook).Cursor()
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				return fmt.Errorf("bridge: malformed Send API outbox key %q", k)
			}
			psid := string(k[:i])
			if !b.fbActive[psid] && ctx.Err() == nil {
				b.fbActive[psid] = true
				b.workers.Add(1)
				go b.facebookWorker(ctx, psid)
			}
			k, _ = c.Seek(append([]byte(psid), 1))
		}
		return nil
	})
}

// nextFacebook returns the oldest entry of a conversation, or ok=false
// after marking the worker finished. It reads in a read transaction; only
// an unreadable entry, which can never be sent and must not block the
// patron's other replies, takes a write to remove.
func (b *Bridge) nextFacebook(psid string) (key []byte, e fbEntry, ok bool, err error) {
	b.fbMu.Lock()
	defer b.fbMu.Unlock()
	prefix := append([]byte(psid), 0)
	for {
		var bad []byte
		key, ok = nil, false
		err = b.store.view(func(tx *bolt.Tx) error {
			k, v := tx.Bucket(bucketToFacebook).Cursor().Seek(prefix)
			if k == nil || !bytes.HasPrefix(k, prefix) {
				return nil
			}
			if err := openJSON(tx, v, &e); errors.Is(err, errKeyGone) {
				// Kept for the right key file; the patron's later replies
				// wait behind it, in order.
				b.log.Error("Send API outbox entry kept: its queue key is missing", zap.Error(err))
				return nil
			} else if err != nil {
				b.log.Error("unreadable Send API outbox entry removed", zap.Error(err))
				bad = append([]byte(nil), k...)
				return nil
			}
			key, ok = append([]byte(nil), k...), true
			return nil
		})
		if err == nil && bad != nil {
			err = b.store.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketToFacebook).Delete(bad) })
			if err == nil {
				continue
			}
		}
		break
	}
	if !ok || err != nil {
		delete(b.fbActive, psid)
	}
	return key, e, ok, err
}

func (b *Bridge) facebookWorker(ctx context.Context, psid string) {
	defer b.workers.Done()
	attempt := 0
	// refused is true when Facebook answered the last attempt with an
	// error: that call certainly did not deliver the message.
	refused := false
	for ctx.Err() == nil {
		key, e, ok, err := b.nextFacebook(psid)
		if err != nil {
			b.log.Error("reading Send API outbox", zap.Error(err))
			break
		}
		if !ok {
			return
		}
		if e.Attempts > 0 && !refused {
			if mid, done := b.confirmByEcho(ctx, &e); done {
				b.finishFacebook(key, &e, true, func(r *Record) { r.State, r.MID = StateAccepted, string(mid) }, nil)
				attempt, refused = 0, false
				continue
			}
			if ctx.Err() != nil {
				break
			}
		}
		// Every conversation of a throttled Page (or app) waits here, in
		// order, with its entry still in the outbox.
		tk, err := b.throttle.acquire(ctx, e.Page, true)
		if err != nil {
			break
		}
		page, ok := b.config().Page(e.Page)
		if ok && b.tokenInvalid(page) {
			b.throttle.release(tk)
			b.fail(key, &e, errTokenRefused)
			attempt, refused = 0, false
			continue
		}
		token := page.AccessToken
		if err := b.markAttempt(key, &e); err != nil {
			b.throttle.release(tk)
			b.log.Error("recording a Send API attempt", zap.Error(err))
			if !b.sleep(ctx, time.Second) {
				break
			}
			continue
		}
		attempt++
		crashpoint.Hit(crashpoint.BeforeSendAPI)
		res, err := b.sendOne(ctx, tk, page, ok, &e)
		if err == nil {
			crashpoint.Hit(crashpoint.AfterSendAPI)
			b.markSending(e.Page)
			attempt, refused = 0, false
			b.finishFacebook(key, &e, true, func(r *Record) {
				r.State = StateAccepted
				r.MID = string(res.MessageID)
			}, nil, func(tx *bolt.Tx) error { return b.awaitReceipt(tx, psid, &e, res.MessageID) })
			continue
		}
		var ge *messenger.GraphError
		isGraph := errors.As(err, &ge)
		// Only an answer in Graph's error format says the call did not go
		// through; a bare 5xx from a gateway may come after delivery. A
		// 429 refuses the call before it is made.
		refused = isGraph && (ge.Code != 0 || ge.HTTPStatus == http.StatusTooManyRequests)
		permanent := isGraph && !ge.Retryable() || errors.Is(err, messenger.ErrInvalidMessage) ||
			errors.Is(err, errPageGone) || errors.Is(err, errTokenRefused)
		delay := retryDelay(attempt, err)
		// Facebook's rate limit says when to come back: the wait it asks
		// for never makes a reply undelivered (its 24-hour window may).
		throttled := isGraph && ge.Throttle() != messenger.ThrottleNone
		if !permanent && (throttled || b.now().Add(delay).Sub(e.Queued) < retryFor) {
			b.metrics.sendRetries.Inc()
			b.log.Warn("Send API call failed; will retry", zap.Error(err), zap.Duration("in", delay), zap.Int("attempt", attempt))
			if !b.sleep(ctx, delay) {
				break
			}
			continue
		}
		attempt, refused = 0, false
		if ge != nil && ge.TokenInvalid() {
			b.MarkTokenInvalid(e.Page, token)
		}
		if ge != nil && ge.PageRestricted() {
			b.markRestricted(e.Page)
		}
		b.fail(key, &e, err)
	}
	b.releaseFacebook(psid)
}

// fail removes an entry that cannot be delivered, records why and tells
// the librarian who wrote it.
func (b *Bridge) fail(key []byte, e *fbEntry, err error) {
	b.log.Warn("reply not delivered to the patron", zap.Error(err))
	notice := xmpp.Message{
		ID:   randomID("ab-"),
		From: parseJID(e.Patron),
		To:   parseJID(e.Notify),
		Type: "chat",
		Body: bridgeSays("Not delivered: " + undeliveredReason(err)),
	}
	b.finishFacebook(key, e, false, func(r *Record) {
		r.State = StateFailed
		r.Error = errorCode(err)
	}, &notice)
}

// markAttempt stores that a Send API call for the entry is about to start.
func (b *Bridge) markAttempt(key []byte, e *fbEntry) error {
	e.Attempts++
	e.LastAttempt = b.now()
	return b.store.update(func(tx *bolt.Tx) error {
		out := tx.Bucket(bucketToFacebook)
		if out.Get(key) == nil {
			return fmt.Errorf("bridge: Send API outbox entry vanished")
		}
		if err := updateRecord(tx, e.Ledger, func(r *Record) { r.Attempts = e.Attempts }); err != nil {
			return err
		}
		return putSealed(out, key, e)
	})
}

// confirmByEcho reports whether an earlier attempt of the entry reached
// Facebook, as shown by the echo of its metadata. It waits until echoGrace
// after the attempt for the echo to arrive.
func (b *Bridge) confirmByEcho(ctx context.Context, e *fbEntry) (messenger.MID, bool) {
	if mid := b.echoedMID(e.Ledger); mid != "" {
		return mid, true
	}
	if d := e.LastAttempt.Add(echoGrace).Sub(b.now()); d > 0 {
		if !wait(ctx, nil, d) {
			return "", false
		}
	}
	mid := b.echoedMID(e.Ledger)
	return mid, mid != ""
}

// echoedMID returns the mid an echo recorded for the ledger record, or "".
func (b *Bridge) echoedMID(ledgerKey []byte) messenger.MID {
	var mid messenger.MID
	_ = b.store.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLedger).Get(ledgerKey)
		if v == nil {
			return nil
		}
		var r Record
		if err := json.Unmarshal(v, &r); err == nil {
			mid = messenger.MID(r.MID)
		}
		return nil
	})
	return mid
}

func (b *Bridge) releaseFacebook(psid string) {
	b.fbMu.Lock()
	delete(b.fbActive, psid)
	b.fbMu.Unlock()
}

// sendOne makes one Send API call with the throttle's ticket, which it
// gives back with the outcome. A call in flight is not cut short by
// shutdown, so its outcome is known and recorded.
func (b *Bridge) sendOne(ctx context.Context, tk *ticket, page config.Page, configured bool, e *fbEntry) (messenger.SendResult, error) {
	if !configured {
		b.throttle.release(tk)
		return messenger.SendResult{}, errPageGone
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	res, err := b.api.Send(cctx, page.AccessToken, messenger.PageID(page.ID), e.Msg)
	b.throttle.done(tk, res.Usage, err)
	b.metrics.sendCalls.WithLabelValues(outcome(err)).Inc()
	var ge *messenger.GraphError
	if errors.As(err, &ge) {
		b.metrics.sendErrors.WithLabelValues(errorCode(err)).Inc()
	}
	return res, err
}

// finishFacebook removes an entry, updates its ledger record, counts the
// outcome (delivered or refused for good) in the reply's session and, if
// given, queues a notice to the librarian, in one transaction.
func (b *Bridge) finishFacebook(key []byte, e *fbEntry, delivered bool, update func(*Record), notice *xmpp.Message, also ...func(*bolt.Tx) error) {
	cfg := b.config()
	err := b.store.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketToFacebook).Delete(key); err != nil {
			return fmt.Errorf("removing Send API outbox entry: %w", err)
		}
		if err := updateRecord(tx, e.Ledger, update); err != nil {
			return err
		}
		if err := b.replyOutcome(tx, cfg, e.Session, delivered); err != nil {
			return err
		}
		for _, f := range also {
			if err := f(tx); err != nil {
				return err
			}
		}
		if notice != nil {
			return b.enqueueXMPP(tx, *notice, nil)
		}
		return nil
	})
	if err != nil {
		// The entry stays and is sent again: at least once.
		b.log.Error("recording Send API result", zap.Error(err))
		return
	}
	if notice != nil {
		signal(b.xmppReady)
	} else {
		b.metrics.relayed.WithLabelValues("to_facebook").Inc()
	}
}

// retryDelay is how long to wait before the next attempt after a
// temporary failure: jittered exponential backoff, or longer when Facebook
// says when to come back (Retry-After on any status, or
// estimated_time_to_regain_access of X-Business-Use-Case-Usage).
func retryDelay(attempt int, err error) time.Duration {
	d := backoff(attempt)
	var ge *messenger.GraphError
	if errors.As(err, &ge) && ge.RetryAfter > d {
		d = ge.RetryAfter
	}
	return d
}

// backoff is a jittered exponential delay for the n-th attempt (n ≥ 1).
func backoff(n int) time.Duration {
	d := retryMin
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	if d > retryMax {
		d = retryMax
	}
	return d/2 + rand.N(d/2+1)
}

func outcome(err error) string {
	var ge *messenger.GraphError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ge) && ge.Retryable():
		return "retryable"
	case errors.As(err, &ge):
		return "refused"
	default:
		return "transport"
	}
}

func errorCode(err error) string {
	var ge *messenger.GraphError
	if errors.As(err, &ge) {
		if ge.Subcode != 0 {
			return fmt.Sprintf("graph %d/%d", ge.Code, ge.Subcode)
		}
		return fmt.Sprintf("graph %d", ge.Code)
	}
	return "transport: " + err.Error()
}
