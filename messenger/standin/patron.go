package standin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" // Facebook still sends the legacy X-Hub-Signature (HMAC-SHA1).
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// ErrNotAccepted means the bridge answered a webhook POST with another status
// than 200.
var ErrNotAccepted = errors.New("standin: the bridge did not accept the webhook POST")

// The webhook body as Facebook writes it; field order follows Meta's
// examples.
type (
	whBody struct {
		Object string    `json:"object"`
		Entry  []whEntry `json:"entry"`
	}
	whEntry struct {
		ID        string        `json:"id"`
		Time      int64         `json:"time"`
		Messaging []whMessaging `json:"messaging"`
	}
	whMessaging struct {
		Sender    whPeer     `json:"sender"`
		Recipient whPeer     `json:"recipient"`
		Timestamp int64      `json:"timestamp"`
		Message   *whMessage `json:"message,omitempty"`
		Read      *whRead    `json:"read,omitempty"`
	}
	whPeer struct {
		ID string `json:"id"`
	}
	whMessage struct {
		IsEcho      bool           `json:"is_echo,omitempty"`
		AppID       any            `json:"app_id,omitempty"`
		Metadata    string         `json:"metadata,omitempty"`
		MID         string         `json:"mid"`
		Text        string         `json:"text,omitempty"`
		Attachments []whAttachment `json:"attachments,omitempty"`
	}
	whAttachment struct {
		Type    string `json:"type"`
		Payload struct {
			URL string `json:"url"`
		} `json:"payload"`
	}
	whRead struct {
		Watermark int64  `json:"watermark,omitempty"`
		MID       string `json:"mid,omitempty"` // Instagram's messaging_seen
	}
)

// instagramPrefix names an Instagram patron in the stand-in's patron API
// and conversations: "ig-" and the IGSID, as the bridge's JIDs do.
const instagramPrefix = "ig-"

// patronWebhook is a patron's webhook body: Messenger's (object "page",
// entry.id the Page) or, for a patron named "ig-…", Instagram's (object
// "instagram", entry.id the linked Instagram account, the IGSID as sender).
func (s *Server) patronWebhook(page messenger.PageID, psid messenger.PSID, at time.Time, m whMessaging) ([]byte, error) {
	igsid, instagram := strings.CutPrefix(string(psid), instagramPrefix)
	if !instagram {
		m.Sender, m.Recipient = whPeer{string(psid)}, whPeer{string(page)}
		return webhookBody(page, at, m)
	}
	account := string(s.pages[page].InstagramID)
	m.Sender, m.Recipient = whPeer{igsid}, whPeer{account}
	return fbJSON(whBody{Object: "instagram", Entry: []whEntry{{ID: account, Time: at.UnixMilli(), Messaging: []whMessaging{m}}}})
}

// webhookBody wraps one messaging item of page in a webhook body.
func webhookBody(page messenger.PageID, at time.Time, m whMessaging) ([]byte, error) {
	return fbJSON(whBody{Object: "page", Entry: []whEntry{{
		ID: string(page), Time: at.UnixMilli(), Messaging: []whMessaging{m},
	}}})
}

// PatronSays makes patron psid write text to page: it builds the webhook
// body exactly as Facebook shapes it (non-ASCII as \u escapes), signs it and
// POSTs it to the bridge. A psid of "ig-" and an IGSID writes over
// Instagram Direct to the Page's linked Instagram account. It returns the message's MID, or an error unless
// the bridge answered 200 (ErrNotAccepted for another status).
func (s *Server) PatronSays(ctx context.Context, page messenger.PageID, psid messenger.PSID, text string) (messenger.MID, error) {
	if err := s.checkPatron(page, psid); err != nil {
		return "", err
	}
	if text == "" {
		return "", errors.New("standin: empty patron message")
	}
	mid, now := newMID(), time.Now()
	body, err := s.patronWebhook(page, psid, now, whMessaging{Timestamp: now.UnixMilli(),
		Message: &whMessage{MID: string(mid), Text: text}})
	if err != nil {
		return "", err
	}
	s.appendEntry(page, psid, chatEntry{From: fromPatron, Text: text, MID: mid, At: now})
	if err := s.deliver(ctx, page, psid, body); err != nil {
		return "", err
	}
	return mid, nil
}

// PatronRead makes patron psid read everything page sent so far: a
// message_reads webhook with the current time as watermark, or for an
// Instagram patron a messaging_seen webhook naming the last message the
// Page sent (none if it sent none).
func (s *Server) PatronRead(ctx context.Context, page messenger.PageID, psid messenger.PSID) error {
	if err := s.checkPatron(page, psid); err != nil {
		return err
	}
	now := time.Now()
	read := &whRead{Watermark: now.UnixMilli()}
	if strings.HasPrefix(string(psid), instagramPrefix) {
		mid := s.lastFromPage(page, psid)
		if mid == "" {
			return nil
		}
		read = &whRead{MID: string(mid)}
	}
	body, err := s.patronWebhook(page, psid, now, whMessaging{Timestamp: now.UnixMilli(), Read: read})
	if err != nil {
		return err
	}
	return s.deliver(ctx, page, psid, body)
}

// deliver POSTs a patron's webhook body and notes a failure in the
// conversation.
func (s *Server) deliver(ctx context.Context, page messenger.PageID, psid messenger.PSID, body []byte) error {
	status, err := s.PostSigned(ctx, body)
	switch {
	case err != nil:
		s.appendEntry(page, psid, chatEntry{From: fromSystem, Text: "Not delivered: the bridge could not be reached.", At: time.Now()})
		return err
	case status != http.StatusOK:
		s.appendEntry(page, psid, chatEntry{From: fromSystem,
			Text: fmt.Sprintf("Not delivered: the bridge answered HTTP %d.", status), At: time.Now()})
		return &notAcceptedError{status: status}
	}
	return nil
}

// notAcceptedError is ErrNotAccepted with the bridge's status.
type notAcceptedError struct{ status int }

// Error implements error.
func (e *notAcceptedError) Error() string {
	return fmt.Sprintf("%v: HTTP %d", ErrNotAccepted, e.status)
}

// Unwrap makes errors.Is(err, ErrNotAccepted) true.
func (e *notAcceptedError) Unwrap() error { return ErrNotAccepted }

// checkPatron checks that page is hosted and psid looks like a PSID, or
// like "ig-" and an IGSID for a Page with an Instagram account.
func (s *Server) checkPatron(page messenger.PageID, psid messenger.PSID) error {
	p, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("standin: unknown page %q", page)
	}
	id, instagram := strings.CutPrefix(string(psid), instagramPrefix)
	if instagram && p.InstagramID == "" {
		return fmt.Errorf("standin: Page %q has no Instagram account", page)
	}
	if id == "" || len(id) > 20 || strings.Trim(id, "0123456789") != "" {
		return fmt.Errorf("standin: PSID %q is not 1 to 20 digits (an Instagram patron: ig- and 1 to 20 digits)", psid)
	}
	return nil
}

// lastFromPage is the mid of the last message page sent the patron.
func (s *Server) lastFromPage(page messenger.PageID, psid messenger.PSID) messenger.MID {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convKey{page, psid}]
	if c == nil {
		return ""
	}
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.From == fromPage && e.MID != "" {
			return e.MID
		}
	}
	return ""
}

// PostSigned signs body with the app secret (X-Hub-Signature-256 and
// X-Hub-Signature) and POSTs it to the webhook URL as is. It returns the
// bridge's HTTP status; the error is for transport failures only.
func (s *Server) PostSigned(ctx context.Context, body []byte) (status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("standin: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set(messenger.HeaderSignature256, "sha256="+hmacHex(sha256.New, s.cfg.AppSecret, body))
	req.Header.Set(messenger.HeaderSignature1, "sha1="+hmacHex(sha1.New, s.cfg.AppSecret, body))
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("standin: posting webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// hmacHex is the hex HMAC of body.
func hmacHex(h func() hash.Hash, secret string, body []byte) string {
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// appIDValue is the app ID as Facebook writes it: a JSON number when it is
// numeric.
func appIDValue(id string) any {
	if id != "" && strings.Trim(id, "0123456789") == "" {
		return json.Number(id)
	}
	if id == "" {
		return nil
	}
	return id
}
