package bridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
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

// fbEntry is a Send API outbox entry (see store.FacebookEntry).
type fbEntry = store.FacebookEntry

// sendFacebook delivers the patron's oldest Send API outbox entry e, under
// key: it retries temporary errors, and it removes the entry with its
// outcome (delivered, or refused for good, which the librarian is told).
// It reports whether the entry was removed; false when ctx ended first or
// the outcome could not be recorded, and the entry waits to be sent again.
func (b *Bridge) sendFacebook(ctx context.Context, psid string, key []byte, e *fbEntry) bool {
	attempt := 0
	// refused is true when Facebook answered the last attempt with an
	// error: that call certainly did not deliver the message.
	refused := false
	for ctx.Err() == nil {
		if e.Attempts > 0 && !refused {
			if mid, done := b.confirmByEcho(ctx, e); done {
				return b.finishFacebook(key, e, true, func(r *Record) { r.State, r.MID = StateAccepted, string(mid) }, nil)
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
			return b.fail(key, e, errTokenRefused)
		}
		token := page.AccessToken
		if gone, err := b.markAttempt(key, e); gone {
			// The patron was forgotten meanwhile: nothing left to send.
			b.throttle.release(tk)
			return true
		} else if err != nil {
			b.throttle.release(tk)
			b.log.Error("recording a Send API attempt", zap.Error(err))
			if !b.sleep(ctx, time.Second) {
				break
			}
			continue
		}
		attempt++
		crashpoint.Hit(crashpoint.BeforeSendAPI)
		res, err := b.sendOne(ctx, tk, page, ok, e)
		if err == nil {
			crashpoint.Hit(crashpoint.AfterSendAPI)
			b.markSending(e.Page)
			return b.finishFacebook(key, e, true, func(r *Record) {
				r.State = StateAccepted
				r.MID = string(res.MessageID)
			}, nil, func(tx *store.Tx) error { return b.awaitReceipt(tx, psid, e, res.MessageID) })
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
		if ge != nil && ge.TokenInvalid() {
			b.MarkTokenInvalid(e.Page, token)
		}
		if ge != nil && ge.PageRestricted() {
			b.markRestricted(e.Page)
		}
		return b.fail(key, e, err)
	}
	return false
}

// fail removes an entry that cannot be delivered, records why and tells
// the librarian who wrote it; it reports whether that was committed.
func (b *Bridge) fail(key []byte, e *fbEntry, err error) bool {
	b.log.Warn("reply not delivered to the patron", zap.Error(err))
	notice := xmpp.Message{
		ID:   randomID("ab-"),
		From: parseJID(e.Patron),
		To:   parseJID(e.Notify),
		Type: "chat",
		Body: bridgeSays("Not delivered: " + undeliveredReason(err)),
	}
	return b.finishFacebook(key, e, false, func(r *Record) {
		r.State = StateFailed
		r.Error = errorCode(err)
	}, &notice)
}

// markAttempt stores that a Send API call for the entry is about to start.
// gone reports that the entry left the outbox meanwhile (its patron
// forgotten): nothing is to be sent.
func (b *Bridge) markAttempt(key []byte, e *fbEntry) (gone bool, err error) {
	e.Attempts++
	e.LastAttempt = b.now()
	err = b.store.batch(func(tx *store.Tx) error {
		out := tx.FacebookOutbox()
		gone = !out.Has(key)
		if gone {
			return nil
		}
		if err := tx.Ledger().Update(e.Ledger, func(r *Record) { r.Attempts = e.Attempts }); err != nil {
			return err
		}
		return out.Put(key, e)
	})
	return gone, err
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
	_ = b.store.view(func(tx *store.Tx) error {
		if r, err := tx.Ledger().Get(ledgerKey); err == nil && r != nil {
			mid = messenger.MID(r.MID)
		}
		return nil
	})
	return mid
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
// given, queues a notice to the librarian, in one transaction. It reports
// whether that was committed.
func (b *Bridge) finishFacebook(key []byte, e *fbEntry, delivered bool, update func(*Record), notice *xmpp.Message, also ...func(*store.Tx) error) bool {
	cfg := b.config()
	err := b.store.batch(func(tx *store.Tx) error {
		if err := tx.FacebookOutbox().Delete(key); err != nil {
			return err
		}
		if err := tx.Ledger().Update(e.Ledger, update); err != nil {
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
		return false
	}
	if notice != nil {
		signal(b.xmppReady)
	} else {
		b.metrics.relayed.WithLabelValues("to_facebook").Inc()
	}
	return true
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
