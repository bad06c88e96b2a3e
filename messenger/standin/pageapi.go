package standin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/askbridge/askbridge/messenger"
)

// handleMe plays GET /{version}/me: the Page the token belongs to.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	page, ok := s.authenticate(r)
	if !ok {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 190,
			Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	if s.refuseThrottled(w, r, page.ID) {
		return
	}
	if e, ok := s.takeFailure(page.ID); ok {
		writeGraphError(w, e)
		return
	}
	s.addUsage(w, page.ID)
	writeJSON(w, http.StatusOK, map[string]string{"id": string(page.ID), "name": page.Name})
}

// handleSubscribedApps plays GET and POST /{version}/{page}/subscribed_apps.
func (s *Server) handleSubscribedApps(w http.ResponseWriter, r *http.Request) {
	pageID := messenger.PageID(r.PathValue("page"))
	page, ok := s.authenticate(r)
	if !ok || page.ID != pageID {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 190,
			Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	if s.refuseThrottled(w, r, pageID) {
		return
	}
	if r.Method == http.MethodPost {
		fields := strings.Split(r.URL.Query().Get("subscribed_fields"), ",")
		if len(fields) == 0 || fields[0] == "" {
			writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 100,
				Message: "(#100) The parameter subscribed_fields is required"})
			return
		}
		s.mu.Lock()
		s.subscribed[pageID] = fields
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
		return
	}
	s.mu.Lock()
	fields := slices.Clone(s.subscribed[pageID])
	s.mu.Unlock()
	data := []map[string]any{}
	if len(fields) > 0 {
		data = append(data, map[string]any{"category": "Business", "link": "https://askbridge.example/",
			"name": "askbridge", "id": s.cfg.AppID, "subscribed_fields": fields})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// Unsubscribe removes the app's webhook subscription for page, as
// Facebook does after an hour of failed deliveries.
func (s *Server) Unsubscribe(page messenger.PageID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subscribed, page)
}

// Subscriptions returns the webhook fields the app is subscribed to for
// page.
func (s *Server) Subscriptions(page messenger.PageID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subscribed[page])
}

// handleAppSubscriptions plays GET /{version}/{app-id}/subscriptions with
// the app access token ("app-id|app-secret"): the app's "page" object
// subscription and, when a Page has an Instagram account, its
// "instagram" one, unless UnsubscribeInstagram removed it.
func (s *Server) handleAppSubscriptions(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("access_token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = h
	}
	if r.PathValue("app") != s.cfg.AppID || token != s.cfg.AppID+"|"+s.cfg.AppSecret {
		writeGraphError(w, messenger.GraphError{HTTPStatus: 400, Code: 190, Type: "OAuthException",
			Message: "Invalid OAuth access token signature."})
		return
	}
	if s.refuseThrottled(w, r, "") {
		return
	}
	type field struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	fields := func(names []string) []field {
		out := make([]field, len(names))
		for i, n := range names {
			out[i] = field{n, r.PathValue("version")}
		}
		return out
	}
	data := []map[string]any{{"object": "page", "callback_url": s.cfg.WebhookURL, "active": true, "fields": fields(messenger.WebhookFields)}}
	s.mu.Lock()
	noInstagram := s.noInstagram
	s.mu.Unlock()
	hasInstagram := false
	for _, p := range s.cfg.Pages {
		hasInstagram = hasInstagram || p.InstagramID != ""
	}
	if hasInstagram && !noInstagram {
		data = append(data, map[string]any{"object": "instagram", "callback_url": s.cfg.WebhookURL, "active": true,
			"fields": fields(messenger.InstagramWebhookFields)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// UnsubscribeInstagram removes the app's "instagram" webhook object, as
// an App Dashboard left unconfigured for Instagram would show.
func (s *Server) UnsubscribeInstagram() {
	s.mu.Lock()
	s.noInstagram = true
	s.mu.Unlock()
}
