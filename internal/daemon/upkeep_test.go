package daemon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
)

// TestUpkeep: a token Facebook refuses makes the bridge not ready until a
// later check finds it valid; a webhook subscription Facebook dropped is
// restored.
func TestUpkeep(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 190, Type: "OAuthException",
		Message: "Error validating access token: Session has expired"})
	w.Daemon.Upkeep(ctx)
	if body := w.waitReadyz(503); !strings.Contains(body, "error 190") {
		t.Errorf("readyz: %s", body)
	}
	w.Daemon.Upkeep(ctx)
	w.waitReadyz(200)

	w.Facebook.Unsubscribe(testenv.PageID)
	if got := w.Facebook.Subscriptions(testenv.PageID); len(got) != 0 {
		t.Fatalf("still subscribed: %v", got)
	}
	w.Daemon.Upkeep(ctx)
	if got := strings.Join(w.Facebook.Subscriptions(testenv.PageID), ","); got != strings.Join(messenger.WebhookFields, ",") {
		t.Errorf("subscribed fields after upkeep: %s", got)
	}
}

// TestUpkeepInstagramSubscription: with a Page linked to an Instagram
// account, an app not subscribed to the Instagram webhook fields is
// reported in /readyz's warnings (the daemon stays ready: Messenger still
// works) until a check finds the subscription.
func TestUpkeepInstagramSubscription(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.Daemon.Upkeep(ctx)
	if body := w.waitReadyz(200); strings.Contains(body, "instagram") {
		t.Errorf("readyz with the subscription: %s", body)
	}
	w.Facebook.UnsubscribeInstagram()
	w.Daemon.Upkeep(ctx)
	body := w.waitReadyz(200)
	if !strings.Contains(body, "instagram: the app is not subscribed to the Instagram webhook fields messages, messaging_seen") {
		t.Errorf("readyz without the subscription: %s", body)
	}
	if strings.Contains(body, testenv.AppSecret) {
		t.Error("the app secret is in the readiness body")
	}
}

// TestUpkeepTokenCheckFails: a token check that could not be made (Facebook
// answering 5xx) is not reported as "ok": /readyz names the Page and why,
// until a check succeeds.
func TestUpkeepTokenCheckFails(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 503, Code: 2, Type: "OAuthException",
		Message: "An unexpected error has occurred. Please retry your request later.", IsTransient: true})
	w.Daemon.Upkeep(ctx)
	body := w.waitReadyz(503)
	if !strings.Contains(body, `"facebook":"Page `+testenv.PageID+` (Central Library): the access token could not be checked`) {
		t.Errorf("readyz: %s", body)
	}
	w.Daemon.Upkeep(ctx)
	if body := w.waitReadyz(200); !strings.Contains(body, `"facebook":"ok"`) {
		t.Errorf("readyz after a good check: %s", body)
	}
}
