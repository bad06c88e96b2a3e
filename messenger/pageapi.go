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
	data, _, err := c.call(ctx, http.MethodGet, token, "me", url.Values{"fields": {"id,name"}}, nil)
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
	data, _, err := c.call(ctx, http.MethodGet, token, url.PathEscape(string(page))+"/subscribed_apps", nil, nil)
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
	data, _, err := c.call(ctx, http.MethodPost, token, url.PathEscape(string(page))+"/subscribed_apps", q, nil)
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

// InstagramWebhookFields are the fields of the app's "instagram" webhook
// object askbridge needs for Instagram Direct. Instagram echoes come
// within "messages".
var InstagramWebhookFields = []string{
	"messages", "messaging_seen", "message_reactions", "messaging_postbacks", "messaging_referral",
}

// AppSubscription is one webhook object the app is subscribed to, as the
// App Dashboard's Webhooks settings show it.
type AppSubscription struct {
	Object      string // "page", "instagram", …
	CallbackURL string
	Active      bool
	Fields      []string
}

// AppSubscriptions lists the app's webhook subscriptions (GET
// /{app-id}/subscriptions, with the app access token made of the app's ID
// and secret). Unlike a Page's subscribed_apps, these are set in the App
// Dashboard: Instagram Direct needs the "instagram" object there.
func (c *Client) AppSubscriptions(ctx context.Context, appID, appSecret string) ([]AppSubscription, error) {
	data, _, err := c.call(ctx, http.MethodGet, appID+"|"+appSecret, url.PathEscape(appID)+"/subscriptions", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("messenger: listing the app's webhook subscriptions: %w", err)
	}
	var w struct {
		Data []struct {
			Object      string `json:"object"`
			CallbackURL string `json:"callback_url"`
			Active      bool   `json:"active"`
			Fields      []struct {
				Name string `json:"name"`
			} `json:"fields"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("messenger: listing the app's webhook subscriptions: %w", err)
	}
	subs := make([]AppSubscription, 0, len(w.Data))
	for _, d := range w.Data {
		s := AppSubscription{Object: d.Object, CallbackURL: d.CallbackURL, Active: d.Active}
		for _, f := range d.Fields {
			s.Fields = append(s.Fields, f.Name)
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// MissingObjectFields returns the fields of want that the app's active
// subscription to object lacks (all of want when there is none).
func MissingObjectFields(subs []AppSubscription, object string, want []string) []string {
	for _, s := range subs {
		if s.Object == object && s.Active {
			return MissingFields(SubscribedApp{Fields: s.Fields}, want)
		}
	}
	return want
}
