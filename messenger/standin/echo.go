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
//
// An Instagram patron's echo comes as Instagram sends it: object
// "instagram", inside the messages field, without app_id or metadata.
func (s *Server) queueEcho(m SentMessage) {
	msg := &whMessage{IsEcho: true, AppID: appIDValue(s.cfg.AppID), Metadata: m.Metadata, MID: string(m.MID), Text: m.Text}
	if m.Attachment != nil {
		a := whAttachment{Type: m.Attachment.Type}
		a.Payload.URL = m.Attachment.URL
		msg.Attachments = []whAttachment{a}
	}
	var body []byte
	var err error
	s.mu.Lock()
	conv := s.conversationOfLocked(m.Page, m.Recipient)
	s.mu.Unlock()
	if conv != m.Recipient {
		msg.AppID, msg.Metadata = nil, ""
		for i := range msg.Attachments {
			// Instagram echoes an attachment from its own CDN, not from
			// the address it was sent from.
			msg.Attachments[i].Payload.URL = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=" + string(m.MID)
		}
		account := string(s.pages[m.Page].InstagramID)
		body, err = fbJSON(whBody{Object: "instagram", Entry: []whEntry{{ID: account, Time: m.At.UnixMilli(), Messaging: []whMessaging{{
			Sender: whPeer{account}, Recipient: whPeer{string(m.Recipient)}, Timestamp: m.At.UnixMilli(), Message: msg,
		}}}}})
	} else {
		body, err = webhookBody(m.Page, m.At, whMessaging{
			Sender: whPeer{string(m.Page)}, Recipient: whPeer{string(m.Recipient)}, Timestamp: m.At.UnixMilli(),
			Message: msg,
		})
	}
	if err != nil {
		s.log.Error("building echo", zap.Error(err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Err() != nil {
		return
	}
	s.echoQueue = append(s.echoQueue, body)
	if !s.echoBusy {
		s.echoBusy = true
		s.echoes.Add(1)
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
			s.echoes.Done()
			return
		}
		body := s.echoQueue[0]
		s.mu.Unlock()
		if !s.postWithRetry(body) {
			s.mu.Lock()
			s.echoQueue, s.echoBusy = nil, false
			s.mu.Unlock()
			s.echoes.Done()
			return
		}
		s.mu.Lock()
		s.echoQueue = s.echoQueue[1:]
		s.mu.Unlock()
	}
}

// postWithRetry posts one echo until it is taken or given up; it returns
// false when the stand-in was closed.
func (s *Server) postWithRetry(body []byte) bool {
	deadline := time.Now().Add(echoRetryFor)
	pause := echoRetryMin
	for {
		ctx, cancel := context.WithTimeout(context.Background(), echoTimeout)
		stop := context.AfterFunc(s.closing, cancel)
		status, err := s.PostSigned(ctx, body)
		stop()
		cancel()
		select {
		case <-s.closing.Done():
			return false
		default:
		}
		switch {
		case err == nil && status == http.StatusOK:
			return true
		case err != nil:
			s.log.Debug("posting echo failed; will retry", zap.Error(err))
		default:
			s.log.Debug("bridge refused echo; will retry", zap.Int("status", status))
		}
		if time.Now().After(deadline) {
			s.log.Warn("echo dropped after retrying", zap.Duration("for", echoRetryFor))
			return true
		}
		select {
		case <-s.closing.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, echoRetryMax)
	}
}

// Close stops posting echoes and waits until no echo is being posted. Use
// it before the bridge goes away for good (end of a test or the demo).
func (s *Server) Close() {
	s.close()
	s.echoes.Wait()
}
