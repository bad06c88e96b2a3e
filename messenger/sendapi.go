package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Values of OutgoingMessage.MessagingType.
const (
	// MessagingTypeResponse answers a patron's message within the 24-hour
	// window. It is the default.
	MessagingTypeResponse = "RESPONSE"
	// MessagingTypeUpdate is a message the Page sends on its own initiative
	// within the window.
	MessagingTypeUpdate = "UPDATE"
	// MessagingTypeMessageTag sends outside the window with a Tag.
	MessagingTypeMessageTag = "MESSAGE_TAG"
)

// TagHumanAgent is the message tag that lets a person answer up to 7 days
// after the patron's last message (the app needs Meta's approval).
const TagHumanAgent = "HUMAN_AGENT"

// Values of OutgoingMessage.SenderAction.
const (
	SenderActionTypingOn  = "typing_on"
	SenderActionTypingOff = "typing_off"
	SenderActionMarkSeen  = "mark_seen"
)

// MaxMetadataLength is the longest metadata string the Send API takes.
const MaxMetadataLength = 1000

// maxResponseBytes bounds how much of a Send API response is read.
const maxResponseBytes = 1 << 20

// ErrInvalidMessage means an OutgoingMessage cannot be sent as it is (for
// example text over MaxTextLength); the API was not called.
var ErrInvalidMessage = errors.New("messenger: invalid outgoing message")

// OutgoingMessage is one Send API call: a text message, an attachment, or a
// sender action.
type OutgoingMessage struct {
	// Recipient is the patron.
	Recipient PSID
	// MessagingType is RESPONSE (the default), UPDATE or MESSAGE_TAG (the
	// default when Tag is set). Sender actions carry none.
	MessagingType string
	// Tag is the message tag (TagHumanAgent) of a MESSAGE_TAG message.
	Tag string
	// Text is the message text, at most MaxTextLength characters.
	Text string
	// Metadata is echoed back in the message_echoes webhook (Event.Metadata),
	// at most MaxMetadataLength characters.
	Metadata string
	// Attachment is sent by URL instead of Text; its Type is "image",
	// "video", "audio" or "file".
	Attachment *Attachment
	// SenderAction is typing_on, typing_off or mark_seen; it excludes Text,
	// Attachment and Metadata.
	SenderAction string
}

// SendResult is the Send API's answer to a successful call.
type SendResult struct {
	// RecipientID is the patron's PSID as Facebook returned it.
	RecipientID string
	// MessageID is the new message's MID (empty for sender actions).
	MessageID MID
	// Usage is what the answer's rate-limit headers report.
	Usage Usage
}

// Client calls the Send API.
type Client struct {
	base    string
	version string
	hc      *http.Client
}

// graphIdleConns is how many idle connections to the Graph API host an
// HTTP client of NewHTTPClient keeps: as many as the replies of different
// conversations the bridge sends at once, so that a busy hour does not
// open (and, against graph.facebook.com, TLS-handshake) a connection per
// call, as the default of 2 would.
const graphIdleConns = 32

// NewHTTPClient returns the HTTP client a Client uses when given none: a
// 30-second timeout, and Go's default transport keeping up to
// graphIdleConns idle connections to the Graph API.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = graphIdleConns, graphIdleConns
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// NewClient returns a Send API client for graphURL (https://graph.facebook.com
// or a stand-in) and apiVersion ("v21.0"). hc nil means NewHTTPClient's.
func NewClient(graphURL, apiVersion string, hc *http.Client) *Client {
	if hc == nil {
		hc = NewHTTPClient()
	}
	return &Client{base: strings.TrimRight(graphURL, "/"), version: apiVersion, hc: hc}
}

// Send makes one Send API call for page with the Page's access token
// (sent as a Bearer header, never in the URL). An invalid message fails with
// ErrInvalidMessage without calling the API; a refusal by Facebook is a
// *GraphError; transport failures are returned wrapped.
func (c *Client) Send(ctx context.Context, token string, page PageID, m OutgoingMessage) (SendResult, error) {
	if page == "" {
		return SendResult{}, fmt.Errorf("%w: no page", ErrInvalidMessage)
	}
	if token == "" {
		return SendResult{}, fmt.Errorf("%w: no access token for page %s", ErrInvalidMessage, page)
	}
	body, err := m.encode()
	if err != nil {
		return SendResult{}, err
	}
	data, usage, err := c.call(ctx, http.MethodPost, token, string(page)+"/messages", nil, body)
	if err != nil {
		return SendResult{}, fmt.Errorf("messenger: Send API call for page %s: %w", page, err)
	}
	var w struct {
		RecipientID flexID `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return SendResult{}, fmt.Errorf("messenger: decoding Send API response for page %s: %w", page, err)
	}
	return SendResult{RecipientID: string(w.RecipientID), MessageID: MID(w.MessageID), Usage: usage}, nil
}

// call makes one Graph API request to {graph}/{version}/{path} with the
// token as a Bearer header and returns the body of a 2xx answer and what
// its rate-limit headers report. Other answers become a *GraphError.
func (c *Client) call(ctx context.Context, method, token, path string, query url.Values, body []byte) ([]byte, Usage, error) {
	u := c.base + "/" + url.PathEscape(c.version) + "/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, Usage{}, fmt.Errorf("request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, Usage{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, Usage{}, fmt.Errorf("reading response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, Usage{}, parseGraphError(resp.StatusCode, resp.Header, data, time.Now())
	}
	return data, ParseUsage(resp.Header, time.Now()), nil
}

// wireSendRequest is the Send API request body.
type wireSendRequest struct {
	Recipient     wireRecipient   `json:"recipient"`
	MessagingType string          `json:"messaging_type,omitempty"`
	Tag           string          `json:"tag,omitempty"`
	Message       *wireOutMessage `json:"message,omitempty"`
	SenderAction  string          `json:"sender_action,omitempty"`
}

// wireRecipient addresses the patron.
type wireRecipient struct {
	ID string `json:"id"`
}

// wireOutMessage is the message of a Send API request.
type wireOutMessage struct {
	Text       string             `json:"text,omitempty"`
	Attachment *wireOutAttachment `json:"attachment,omitempty"`
	Metadata   string             `json:"metadata,omitempty"`
}

// wireOutAttachment is an attachment sent by URL.
type wireOutAttachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL        string `json:"url"`
		IsReusable bool   `json:"is_reusable"`
	} `json:"payload"`
}

// encode validates m and returns the request body.
func (m OutgoingMessage) encode() ([]byte, error) {
	req, err := m.request()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("messenger: encoding Send API request: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// request validates m and builds the request.
func (m OutgoingMessage) request() (*wireSendRequest, error) {
	if m.Recipient == "" {
		return nil, fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	req := &wireSendRequest{Recipient: wireRecipient{ID: string(m.Recipient)}}
	if m.SenderAction != "" {
		switch m.SenderAction {
		case SenderActionTypingOn, SenderActionTypingOff, SenderActionMarkSeen:
		default:
			return nil, fmt.Errorf("%w: unknown sender action %q", ErrInvalidMessage, m.SenderAction)
		}
		if m.Text != "" || m.Attachment != nil || m.Metadata != "" || m.Tag != "" {
			return nil, fmt.Errorf("%w: a sender action carries no message", ErrInvalidMessage)
		}
		req.SenderAction = m.SenderAction
		return req, nil
	}
	mt := m.MessagingType
	if mt == "" {
		mt = MessagingTypeResponse
		if m.Tag != "" {
			mt = MessagingTypeMessageTag
		}
	}
	switch mt {
	case MessagingTypeResponse, MessagingTypeUpdate:
		if m.Tag != "" {
			return nil, fmt.Errorf("%w: tag %q needs messaging type %s", ErrInvalidMessage, m.Tag, MessagingTypeMessageTag)
		}
	case MessagingTypeMessageTag:
		if m.Tag == "" {
			return nil, fmt.Errorf("%w: messaging type %s needs a tag", ErrInvalidMessage, mt)
		}
		if m.Tag != TagHumanAgent {
			// Meta refuses every other tag since April 2026.
			return nil, fmt.Errorf("%w: message tag %q (only %s is accepted)", ErrInvalidMessage, m.Tag, TagHumanAgent)
		}
	default:
		return nil, fmt.Errorf("%w: unknown messaging type %q", ErrInvalidMessage, mt)
	}
	req.MessagingType, req.Tag = mt, m.Tag
	if n := utf8.RuneCountInString(m.Metadata); n > MaxMetadataLength {
		return nil, fmt.Errorf("%w: metadata of %d characters (limit %d)", ErrInvalidMessage, n, MaxMetadataLength)
	}
	msg := &wireOutMessage{Text: m.Text, Metadata: m.Metadata}
	switch {
	case m.Attachment != nil && m.Text != "":
		return nil, fmt.Errorf("%w: text and attachment in one message", ErrInvalidMessage)
	case m.Attachment != nil:
		a, err := outAttachment(m.Attachment)
		if err != nil {
			return nil, err
		}
		msg.Attachment = a
	case m.Text == "":
		return nil, fmt.Errorf("%w: empty message", ErrInvalidMessage)
	default:
		if n := utf8.RuneCountInString(m.Text); n > MaxTextLength {
			return nil, fmt.Errorf("%w: text of %d characters (limit %d; use SplitText)", ErrInvalidMessage, n, MaxTextLength)
		}
	}
	req.Message = msg
	return req, nil
}

// outAttachment validates an attachment sent by URL.
func outAttachment(a *Attachment) (*wireOutAttachment, error) {
	switch a.Type {
	case "image", "video", "audio", "file":
	default:
		return nil, fmt.Errorf("%w: attachment type %q (want image, video, audio or file)", ErrInvalidMessage, a.Type)
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: attachment URL is not an http(s) URL", ErrInvalidMessage)
	}
	w := &wireOutAttachment{Type: a.Type}
	w.Payload.URL = a.URL
	w.Payload.IsReusable = true
	return w, nil
}
