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
	if e, ok := s.takeFailure(page.ID); ok {
		writeGraphError(w, e)
		return
	}
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
