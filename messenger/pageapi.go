package messenger

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WebhookFields are the Page webhook fields askbridge needs subscribed.
var WebhookFields = []string{
	"messages", "message_echoes", "message_deliveries", "message_reads",
	"message_reactions", "message_edits", "messaging_postbacks", "standby",
}

// CheckToken asks Facebook who the token belongs to (GET /me) and returns
// an error unless it is the Page's valid token. A revoked or expired token
// is a *GraphError with code 190.
func (c *Client) CheckToken(ctx context.Context, token string, page PageID) error {
	data, err := c.call(ctx, http.MethodGet, token, "me", url.Values{"fields": {"id,name"}}, nil)
	if err != nil {
		return fmt.Errorf("messenger: checking the token of Page %s: %w", page, err)
	}
	var me struct {
		ID flexID `json:"id"`
	}
	if err := json.Unmarshal(data, &me); err != nil {
		return fmt.Errorf("messenger: checking the token of Page %s: %w", page, err)
	}
	if PageID(me.ID) != page {
		return fmt.Errorf("messenger: the token configured for Page %s belongs to %s", page, me.ID)
	}
	return nil
}

// SubscribedApp is one app subscribed to a Page's webhooks.
type SubscribedApp struct {
	ID     string
	Name   string
	Fields []string
}

// SubscribedApps lists the apps subscribed to the Page's webhooks
// (GET /{page}/subscribed_apps).
func (c *Client) SubscribedApps(ctx context.Context, token string, page PageID) ([]SubscribedApp, error) {
	data, err := c.call(ctx, http.MethodGet, token, url.PathEscape(string(page))+"/subscribed_apps", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("messenger: listing the apps of Page %s: %w", page, err)
	}
	var w struct {
		Data []struct {
			ID     flexID   `json:"id"`
			Name   string   `json:"name"`
			Fields []string `json:"subscribed_fields"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("messenger: listing the apps of Page %s: %w", page, err)
	}
	apps := make([]SubscribedApp, 0, len(w.Data))
	for _, d := range w.Data {
		apps = append(apps, SubscribedApp{ID: string(d.ID), Name: d.Name, Fields: d.Fields})
	}
	return apps, nil
}

// Subscribe subscribes the app that owns the token to the Page's webhook
// fields (POST /{page}/subscribed_apps?subscribed_fields=…).
func (c *Client) Subscribe(ctx context.Context, token string, page PageID, fields []string) error {
	q := url.Values{"subscribed_fields": {strings.Join(fields, ",")}}
	data, err := c.call(ctx, http.MethodPost, token, url.PathEscape(string(page))+"/subscribed_apps", q, nil)
	if err != nil {
		return fmt.Errorf("messenger: subscribing to Page %s: %w", page, err)
	}
	var ok struct {
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(data, &ok); err != nil || !ok.Success {
		return fmt.Errorf("messenger: subscribing to Page %s: unexpected answer %q", page, snippet(data))
	}
	return nil
}

// MissingFields returns the fields of want that app does not have.
func MissingFields(app SubscribedApp, want []string) []string {
	have := map[string]bool{}
	for _, f := range app.Fields {
		have[f] = true
	}
	var missing []string
	for _, f := range want {
		if !have[f] {
			missing = append(missing, f)
		}
	}
	return missing
}
