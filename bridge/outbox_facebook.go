package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

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
	return putJSON(b, k, e)
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
	return b.store.db.View(func(tx *bolt.Tx) error {
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
// after marking the worker finished.
func (b *Bridge) nextFacebook(psid string) (key []byte, e fbEntry, ok bool, err error) {
	b.fbMu.Lock()
	defer b.fbMu.Unlock()
	prefix := append([]byte(psid), 0)
	err = b.store.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketToFacebook).Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		key = append([]byte(nil), k...)
		ok = true
		return json.Unmarshal(v, &e)
	})
	if !ok || err != nil {
		delete(b.fbActive, psid)
	}
	return key, e, ok, err
}

func (b *Bridge) facebookWorker(ctx context.Context, psid string) {
	defer b.workers.Done()
	attempt := 0
	for ctx.Err() == nil {
		key, e, ok, err := b.nextFacebook(psid)
		if err != nil {
			b.log.Error("reading Send API outbox", zap.Error(err))
			return
		}
		if !ok {
			return
		}
		attempt++
		res, err := b.sendOne(ctx, &e)
		if err == nil {
			attempt = 0
			b.finishFacebook(key, &e, func(r *Record) {
				r.State = StateAccepted
				r.MID = string(res.MessageID)
			}, nil)
			continue
		}
		var ge *messenger.GraphError
		permanent := errors.As(err, &ge) && !ge.Retryable() || errors.Is(err, messenger.ErrInvalidMessage)
		if !permanent && b.now().Sub(e.Queued) < retryFor {
			delay := backoff(attempt)
			if ge != nil && ge.RetryAfter > delay {
				delay = ge.RetryAfter
			}
			b.metrics.sendRetries.Inc()
			b.log.Warn("Send API call failed; will retry", zap.Error(err), zap.Duration("in", delay), zap.Int("attempt", attempt))
			if !wait(ctx, nil, delay) {
				b.releaseFacebook(psid)
				return
			}
			continue
		}
		attempt = 0
		reason := undeliveredReason(err)
		b.log.Warn("reply not delivered to the patron", zap.Error(err))
		notice := xmpp.Message{
			ID:   randomID("ab-"),
			From: e.Patron,
			To:   e.Notify,
			Type: "chat",
			Body: "Not delivered: " + reason,
		}
		b.finishFacebook(key, &e, func(r *Record) {
			r.State = StateFailed
			r.Error = errorCode(err)
		}, &notice)
	}
	b.releaseFacebook(psid)
}

func (b *Bridge) releaseFacebook(psid string) {
	b.fbMu.Lock()
	delete(b.fbActive, psid)
	b.fbMu.Unlock()
}

// sendOne makes one Send API call. A call in flight is not cut short by
// shutdown, so its outcome is known and recorded.
func (b *Bridge) sendOne(ctx context.Context, e *fbEntry) (messenger.SendResult, error) {
	page, ok := b.config().Page(e.Page)
	if !ok {
		return messenger.SendResult{}, &messenger.GraphError{Code: 100, Message: "the Page is no longer configured"}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	res, err := b.api.Send(cctx, page.AccessToken, messenger.PageID(page.ID), e.Msg)
	b.metrics.sendCalls.WithLabelValues(outcome(err)).Inc()
	return res, err
}

// finishFacebook removes an entry, updates its ledger record and, if given,
// queues a notice to the librarian, in one transaction.
func (b *Bridge) finishFacebook(key []byte, e *fbEntry, update func(*Record), notice *xmpp.Message) {
	err := b.store.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketToFacebook).Delete(key); err != nil {
			return fmt.Errorf("removing Send API outbox entry: %w", err)
		}
		if err := updateRecord(tx, e.Ledger, update); err != nil {
			return err
		}
		if notice != nil {
			return enqueueXMPP(tx, *notice, nil)
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
