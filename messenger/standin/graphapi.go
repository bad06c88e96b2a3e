package standin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger"
)

// versionPattern matches Graph API versions in paths.
var versionPattern = regexp.MustCompile(`^v\d+\.\d+$`)

// maxRequestBytes bounds a Send API request body.
const maxRequestBytes = 1 << 20

// sendRequest is a Send API request body as the stand-in reads it.
type sendRequest struct {
	Recipient *struct {
		ID json.RawMessage `json:"id"`
	} `json:"recipient"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag"`
	Message       *struct {
		Text       *string `json:"text"`
		Metadata   string  `json:"metadata"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload *struct {
				URL          string `json:"url"`
				AttachmentID string `json:"attachment_id"`
			} `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
	SenderAction string `json:"sender_action"`
}

// handleSendAPI plays POST /{version}/{page-id}/messages.
func (s *Server) handleSendAPI(w http.ResponseWriter, r *http.Request) {
	version, pageID := r.PathValue("version"), messenger.PageID(r.PathValue("page"))
	if !versionPattern.MatchString(version) {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 2500,
			Message: fmt.Sprintf("Unknown path components: /%s/%s/messages", version, pageID)})
		return
	}
	page, ok := s.authenticate(r)
	if !ok {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 190,
			Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	if page.ID != pageID {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 190,
			Message: fmt.Sprintf("Error validating access token: the token does not belong to Page %s", pageID)})
		return
	}
	if s.refuseThrottled(w, r, pageID) {
		return
	}
	if e, ok := s.takeFailure(pageID); ok {
		s.log.Debug("send API call fails as asked", zap.String("page", string(pageID)), zap.Int("code", e.Code))
		writeGraphError(w, e)
		return
	}
	msg, gerr := readSendRequest(w, r)
	if gerr != nil {
		writeGraphError(w, *gerr)
		return
	}
	msg.Page, msg.At = pageID, s.now()
	if msg.SenderAction == "" {
		msg.MID = newMID()
	}
	s.record(msg)
	if s.cfg.OnSent != nil {
		s.cfg.OnSent(msg)
	}
	if s.cfg.Echoes && msg.SenderAction == "" {
		s.queueEcho(msg)
	}
	if d := s.takeDelay(pageID); d > 0 {
		// The message went through, but the answer comes late: the caller
		// times out without knowing, as on a bad network.
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	s.addUsage(w, pageID)
	resp := map[string]string{"recipient_id": string(msg.Recipient)}
	if msg.MID != "" {
		resp["message_id"] = string(msg.MID)
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticate finds the Page whose token the request carries, from the
// Authorization header or the access_token parameter.
func (s *Server) authenticate(r *http.Request) (Page, bool) {
	token := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth") {
			token = strings.TrimSpace(rest)
		}
	}
	if token == "" {
		return Page{}, false
	}
	for _, p := range s.cfg.Pages {
		if p.AccessToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(p.AccessToken)) == 1 {
			return p, true
		}
	}
	return Page{}, false
}

// readSendRequest decodes and checks a Send API body the way the Graph API
// does, answering code 100 for what it refuses.
func readSendRequest(w http.ResponseWriter, r *http.Request) (SentMessage, *messenger.GraphError) {
	bad := func(format string, args ...any) (SentMessage, *messenger.GraphError) {
		return SentMessage{}, &messenger.GraphError{HTTPStatus: 400, Code: 100, Message: "(#100) " + fmt.Sprintf(format, args...)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return bad("Request body too large or unreadable")
	}
	var req sendRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return bad("Invalid JSON in the request body")
	}
	if req.Recipient == nil || len(req.Recipient.ID) == 0 {
		return bad("The parameter recipient is required")
	}
	var m SentMessage
	var id any
	if err := json.Unmarshal(req.Recipient.ID, &id); err != nil {
		return bad("Param recipient[id] must be a valid ID")
	}
	switch v := id.(type) {
	case string:
		m.Recipient = messenger.PSID(v)
	case float64:
		m.Recipient = messenger.PSID(string(bytes.TrimSpace(req.Recipient.ID)))
	}
	if m.Recipient == "" || strings.Trim(string(m.Recipient), "0123456789") != "" {
		return bad("Param recipient[id] must be a valid ID")
	}
	if req.SenderAction != "" {
		if req.Message != nil {
			return SentMessage{}, &messenger.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2018015,
				Message: "(#100) Cannot send both message and state at the same time."}
		}
		switch req.SenderAction {
		case messenger.SenderActionTypingOn, messenger.SenderActionTypingOff, messenger.SenderActionMarkSeen:
		default:
			return bad("Param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF}")
		}
		m.SenderAction = req.SenderAction
		return m, nil
	}
	if req.Message == nil {
		return bad("Must send either message or state")
	}
	switch req.MessagingType {
	case "":
		return bad("The parameter messaging_type is required")
	case messenger.MessagingTypeResponse, messenger.MessagingTypeUpdate:
	case messenger.MessagingTypeMessageTag:
		switch req.Tag {
		case messenger.TagHumanAgent, "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "CUSTOMER_FEEDBACK":
		case "":
			return bad("The parameter tag is required for messaging_type MESSAGE_TAG")
		default:
			return bad("Param tag must be a valid message tag")
		}
	default:
		return bad("Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
	}
	m.MessagingType, m.Tag = req.MessagingType, req.Tag
	msg := req.Message
	if utf8.RuneCountInString(msg.Metadata) > messenger.MaxMetadataLength {
		return bad("Length of param message[metadata] must be less than or equal to %d", messenger.MaxMetadataLength)
	}
	m.Metadata = msg.Metadata
	switch {
	case msg.Text != nil && msg.Attachment != nil:
		return bad("Only one of text or attachment can be specified")
	case msg.Attachment != nil:
		a := msg.Attachment
		switch a.Type {
		case "image", "video", "audio", "file", "template":
		default:
			return bad("Param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}")
		}
		if a.Payload == nil || (a.Payload.URL == "" && a.Payload.AttachmentID == "") {
			return bad("Param message[attachment][payload] must be non-empty")
		}
		m.Attachment = &messenger.Attachment{Type: a.Type, URL: a.Payload.URL}
	case msg.Text == nil || *msg.Text == "":
		return bad("Param message must be non-empty")
	default:
		if n := utf8.RuneCountInString(*msg.Text); n > messenger.MaxTextLength {
			return bad("Length of param message[text] must be less than or equal to %d", messenger.MaxTextLength)
		}
		m.Text = *msg.Text
	}
	return m, nil
}

// record keeps an accepted call and adds it to its conversation.
func (s *Server) record(m SentMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	s.sentTotal++
	if s.cfg.MaxSent > 0 && len(s.sent) > s.cfg.MaxSent {
		s.sent = append([]SentMessage(nil), s.sent[len(s.sent)-s.cfg.MaxSent:]...)
	}
	s.appendLocked(m.Page, s.conversationOfLocked(m.Page, m.Recipient), chatEntry{From: fromPage, Text: m.Text, Attachment: m.Attachment,
		SenderAction: m.SenderAction, MID: m.MID, At: m.At})
}

// conversationOfLocked names the conversation a Send API recipient is in:
// an Instagram patron's ("ig-" and the IGSID) once they have written over
// Instagram, else a Messenger patron's. s.mu must be held.
func (s *Server) conversationOfLocked(page messenger.PageID, recipient messenger.PSID) messenger.PSID {
	if ig := messenger.PSID(instagramPrefix) + recipient; s.convs[convKey{page, ig}] != nil {
		return ig
	}
	return recipient
}

// takeFailure pops the failure FailNext queued for page.
func (s *Server) takeFailure(page messenger.PageID) (messenger.GraphError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failNext[page]
	if len(q) == 0 {
		return messenger.GraphError{}, false
	}
	e := q[0]
	if len(q) == 1 {
		delete(s.failNext, page)
	} else {
		s.failNext[page] = q[1:]
	}
	return e, true
}

// FailNext makes the next Send API call for page (after its token checked
// out) answer with e in Meta's error format: HTTP status e.HTTPStatus
// (default 400), type e.Type (default OAuthException), a fresh fbtrace_id
// unless e has one, and an X-Business-Use-Case-Usage header when
// e.RetryAfter is set. Calls queue: each fails the next call in turn.
func (s *Server) FailNext(page messenger.PageID, e messenger.GraphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[page] = append(s.failNext[page], e)
}

// AnswerLate makes the next accepted Send API call for page hold its
// (successful) answer back for d: the message is recorded and echoed at
// once, but a caller with a shorter timeout never learns that it went
// through.
func (s *Server) AnswerLate(page messenger.PageID, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lateNext[page] = append(s.lateNext[page], d)
}

func (s *Server) takeDelay(page messenger.PageID) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.lateNext[page]
	if len(q) == 0 {
		return 0
	}
	s.lateNext[page] = q[1:]
	return q[0]
}

// Sent returns a copy of every Send API call accepted so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// WaitSent waits until at least n Send API calls were accepted and returns
// them as Sent does, or returns ctx's error.
func (s *Server) WaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		if s.sentTotal >= n {
			out := append([]SentMessage(nil), s.sent...)
			s.mu.Unlock()
			return out, nil
		}
		ch, have := s.changed, s.sentTotal
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("standin: waiting for %d sent messages (have %d): %w", n, have, ctx.Err())
		}
	}
}

// writeGraphError answers with e in Meta's error format.
func writeGraphError(w http.ResponseWriter, e messenger.GraphError) {
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	if e.FBTraceID == "" {
		e.FBTraceID = newTraceID()
	}
	type body struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		Subcode      int    `json:"error_subcode,omitempty"`
		IsTransient  bool   `json:"is_transient,omitempty"`
		ErrorUserMsg string `json:"error_user_msg,omitempty"`
		FBTraceID    string `json:"fbtrace_id"`
	}
	if e.RetryAfter > 0 {
		minutes := int(math.Ceil(e.RetryAfter.Minutes()))
		w.Header().Set(messenger.HeaderBusinessUseCaseUsage, fmt.Sprintf(
			`{"standin":[{"type":"messenger","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":%d}]}`, minutes))
	}
	if e.Code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+strings.ReplaceAll(e.Message, `"`, `'`)+`"`)
	}
	writeJSON(w, status, map[string]body{"error": {
		Message: e.Message, Type: e.Type, Code: e.Code, Subcode: e.Subcode,
		IsTransient: e.IsTransient, ErrorUserMsg: e.UserMessage, FBTraceID: e.FBTraceID,
	}})
}

// writeJSON answers with v encoded as Facebook does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := fbJSON(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
