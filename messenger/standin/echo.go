package standin

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// echoTimeout bounds one echo POST.
const echoTimeout = 10 * time.Second

// queueEcho queues the message_echoes webhook of an accepted message. Echoes
// are posted one at a time, in send order, by a worker that runs while the
// queue is not empty.
func (s *Server) queueEcho(m SentMessage) {
	msg := &whMessage{IsEcho: true, AppID: appIDValue(s.cfg.AppID), Metadata: m.Metadata, MID: string(m.MID), Text: m.Text}
	if m.Attachment != nil {
		a := whAttachment{Type: m.Attachment.Type}
		a.Payload.URL = m.Attachment.URL
		msg.Attachments = []whAttachment{a}
	}
	body, err := webhookBody(m.Page, m.At, whMessaging{
		Sender: whPeer{string(m.Page)}, Recipient: whPeer{string(m.Recipient)}, Timestamp: m.At.UnixMilli(),
		Message: msg,
	})
	if err != nil {
		s.log.Error("building echo", zap.Error(err))
		return
	}
	s.mu.Lock()
	s.echoQueue = append(s.echoQueue, body)
	start := !s.echoBusy
	s.echoBusy = true
	s.mu.Unlock()
	if start {
		go s.postEchoes()
	}
}

// Echo delivery is retried like Facebook retries failed webhooks: the
// oldest echo is posted again, with growing pauses, until the bridge
// answers 200 or echoRetryFor has passed; later echoes wait behind it.
const (
	echoRetryFor = 2 * time.Minute
	echoRetryMin = 100 * time.Millisecond
	echoRetryMax = 5 * time.Second
)

// postEchoes posts queued echoes, in order, until the queue is empty.
func (s *Server) postEchoes() {
	for {
		s.mu.Lock()
		if len(s.echoQueue) == 0 {
			s.echoBusy = false
			s.mu.Unlock()
			return
		}
		body := s.echoQueue[0]
		s.mu.Unlock()
		s.postWithRetry(body)
		s.mu.Lock()
		s.echoQueue = s.echoQueue[1:]
		s.mu.Unlock()
	}
}

func (s *Server) postWithRetry(body []byte) {
	deadline := time.Now().Add(echoRetryFor)
	pause := echoRetryMin
	for {
		ctx, cancel := context.WithTimeout(context.Background(), echoTimeout)
		status, err := s.PostSigned(ctx, body)
		cancel()
		switch {
		case err == nil && status == http.StatusOK:
			return
		case err != nil:
			s.log.Debug("posting echo failed; will retry", zap.Error(err))
		default:
			s.log.Debug("bridge refused echo; will retry", zap.Int("status", status))
		}
		if time.Now().After(deadline) {
			s.log.Warn("echo dropped after retrying", zap.Duration("for", echoRetryFor))
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, echoRetryMax)
	}
}
