package standin

import (
	_ "embed" // the patron page
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger"
)

//go:embed patron.html
var patronHTML string

// patronPage is the patron page template.
var patronPage = template.Must(template.New("patron").Parse(patronHTML))

// Limits of the patron API.
const (
	maxPatronRequest = 64 << 10
	defaultPollWait  = 20 * time.Second
	maxPollWait      = 25 * time.Second
)

// patronRequest is the body of POST /patron/send and /patron/read.
type patronRequest struct {
	Page messenger.PageID `json:"page"`
	PSID messenger.PSID   `json:"psid"`
	Text string           `json:"text"`
}

// handlePatronPage serves the patron page.
func (s *Server) handlePatronPage(w http.ResponseWriter, _ *http.Request) {
	name := "no Page configured"
	if len(s.cfg.Pages) > 0 {
		name = s.cfg.Pages[0].Name
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := patronPage.Execute(w, struct{ PageName string }{name}); err != nil {
		s.log.Warn("rendering patron page", zap.Error(err))
	}
}

// handlePatronPages lists the Pages: [{"id":…,"name":…,"instagram_id":…}]
// (instagram_id only for a Page with a linked Instagram account).
func (s *Server) handlePatronPages(w http.ResponseWriter, _ *http.Request) {
	type page struct {
		ID          messenger.PageID `json:"id"`
		Name        string           `json:"name"`
		InstagramID messenger.PageID `json:"instagram_id,omitempty"`
	}
	out := make([]page, 0, len(s.cfg.Pages))
	for _, p := range s.cfg.Pages {
		out = append(out, page{p.ID, p.Name, p.InstagramID})
	}
	patronJSON(w, http.StatusOK, out)
}

// handlePatronSend posts a patron's message: {page, psid, text} → {mid}.
func (s *Server) handlePatronSend(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readPatronRequest(w, r)
	if !ok {
		return
	}
	if req.Text == "" {
		patronError(w, http.StatusBadRequest, "Type a message first.")
		return
	}
	mid, err := s.PatronSays(r.Context(), req.Page, req.PSID, req.Text)
	if err != nil {
		s.deliveryError(w, err)
		return
	}
	patronJSON(w, http.StatusOK, map[string]messenger.MID{"mid": mid})
}

// handlePatronRead posts a read receipt: {page, psid} → {}.
func (s *Server) handlePatronRead(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readPatronRequest(w, r)
	if !ok {
		return
	}
	if err := s.PatronRead(r.Context(), req.Page, req.PSID); err != nil {
		s.deliveryError(w, err)
		return
	}
	patronJSON(w, http.StatusOK, struct{}{})
}

// handlePatronMessages returns a conversation's entries after index "after",
// waiting up to "wait" seconds (default 20, at most 25) for one to come:
// {"messages":[…]}.
func (s *Server) handlePatronMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, psid := messenger.PageID(q.Get("page")), messenger.PSID(q.Get("psid"))
	if err := s.checkPatron(page, psid); err != nil {
		patronError(w, http.StatusBadRequest, err.Error())
		return
	}
	after, err := strconv.Atoi(q.Get("after"))
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		patronError(w, http.StatusBadRequest, "after must be a message index (0 or more)")
		return
	}
	wait := defaultPollWait
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 {
			patronError(w, http.StatusBadRequest, "wait must be a number of seconds")
			return
		}
		wait = min(time.Duration(secs*float64(time.Second)), maxPollWait)
	}
	entries := s.entriesAfter(r.Context(), page, psid, after, wait)
	if entries == nil {
		entries = []chatEntry{}
	}
	patronJSON(w, http.StatusOK, map[string][]chatEntry{"messages": entries})
}

// readPatronRequest decodes and checks a patron API body, answering 400 when
// it is bad.
func (s *Server) readPatronRequest(w http.ResponseWriter, r *http.Request) (patronRequest, bool) {
	var req patronRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPatronRequest)).Decode(&req); err != nil {
		patronError(w, http.StatusBadRequest, "The request is not JSON like {\"page\":…,\"psid\":…,\"text\":…}.")
		return req, false
	}
	if err := s.checkPatron(req.Page, req.PSID); err != nil {
		patronError(w, http.StatusBadRequest, err.Error())
		return req, false
	}
	return req, true
}

// deliveryError answers 502 for a webhook POST that failed.
func (s *Server) deliveryError(w http.ResponseWriter, err error) {
	s.log.Info("patron webhook not delivered", zap.Error(err))
	msg := "The bridge could not be reached at " + s.cfg.WebhookURL + "; is askbridge running?"
	var na *notAcceptedError
	if errors.As(err, &na) {
		msg = fmt.Sprintf("The bridge answered HTTP %d to the webhook POST, so Facebook would retry; the message was not delivered.", na.status)
	}
	patronError(w, http.StatusBadGateway, msg)
}

// patronError answers {"error": msg}.
func patronError(w http.ResponseWriter, status int, msg string) {
	patronJSON(w, status, map[string]string{"error": msg})
}

// patronJSON answers with v as JSON.
func patronJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
