package daemon

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger"
)

// upkeepEvery is how often the Facebook side is checked after the check at
// start.
const upkeepEvery = 6 * time.Hour

// upkeepLoop checks the Facebook side at start and then periodically.
func (d *Daemon) upkeepLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.upkeep(ctx)
		t.Reset(upkeepEvery)
	}
}

// upkeep checks each Page's token and the app's webhook subscription,
// through the bridge's rate limiter (Bridge.GraphCall), so that the checks
// wait while Facebook throttles the Page or the app.
// Facebook unsubscribes an app whose webhook failed for a while; the
// bridge then re-subscribes the fields it needs and says so.
func (d *Daemon) upkeep(ctx context.Context) {
	d.checkInstagram(ctx)
	d.logWarnings()
	cfg := d.currentConfig()
	for _, p := range cfg.Messenger.Pages {
		page := messenger.PageID(p.ID)
		log := d.log.With(zap.String("page", p.ID), zap.String("name", p.Name))
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := d.bridge.GraphCall(cctx, p.ID, func(ctx context.Context) error { return d.api.CheckToken(ctx, p.AccessToken, page) })
		var ge *messenger.GraphError
		switch {
		case errors.As(err, &ge) && ge.TokenInvalid():
			cancel()
			d.setTokenProblem(p.ID, "")
			d.bridge.MarkTokenInvalid(p.ID, p.AccessToken)
			continue
		case err != nil:
			cancel()
			d.setTokenProblem(p.ID, "the access token could not be checked: "+err.Error())
			log.Warn("could not check the Page's access token", zap.Error(err))
			continue
		}
		d.setTokenProblem(p.ID, "")
		d.bridge.MarkTokenValid(p.ID)
		var apps []messenger.SubscribedApp
		err = d.bridge.GraphCall(cctx, p.ID, func(ctx context.Context) (err error) {
			apps, err = d.api.SubscribedApps(ctx, p.AccessToken, page)
			return err
		})
		if err != nil {
			cancel()
			log.Warn("could not read the Page's webhook subscriptions", zap.Error(err))
			continue
		}
		missing := messenger.WebhookFields
		for _, app := range apps {
			if app.ID == cfg.Messenger.AppID {
				missing = messenger.MissingFields(app, messenger.WebhookFields)
			}
		}
		if len(missing) == 0 {
			cancel()
			continue
		}
		log.Warn("the app is not subscribed to all webhook fields of the Page (Facebook unsubscribes after failed deliveries); subscribing again",
			zap.Strings("missing", missing))
		if err := d.bridge.GraphCall(cctx, p.ID, func(ctx context.Context) error {
			return d.api.Subscribe(ctx, p.AccessToken, page, messenger.WebhookFields)
		}); err != nil {
			log.Error("re-subscribing to the Page's webhook failed", zap.Error(err))
		} else {
			log.Info("re-subscribed to the Page's webhook", zap.Strings("fields", messenger.WebhookFields))
		}
		cancel()
	}
}

// checkInstagram checks, when a Page has a linked Instagram account, that
// the app is subscribed to the "instagram" webhook object with the fields
// Instagram Direct needs. That subscription lives in the App Dashboard and
// needs the webhook's public URL, so the bridge cannot make it itself: it
// reports what is missing (log, /readyz warnings) until it is fixed.
func (d *Daemon) checkInstagram(ctx context.Context) {
	cfg := d.currentConfig()
	linked := false
	for _, p := range cfg.Messenger.Pages {
		linked = linked || p.InstagramID != ""
	}
	if !linked {
		d.setInstagramProblem("")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var subs []messenger.AppSubscription
	err := d.bridge.GraphCall(cctx, "", func(ctx context.Context) (err error) {
		subs, err = d.api.AppSubscriptions(ctx, cfg.Messenger.AppID, cfg.Messenger.AppSecret)
		return err
	})
	if err != nil {
		d.log.Warn("could not read the app's webhook subscriptions to check Instagram's", zap.Error(err))
		return
	}
	missing := messenger.MissingObjectFields(subs, "instagram", messenger.InstagramWebhookFields)
	if len(missing) == 0 {
		d.setInstagramProblem("")
		return
	}
	d.setInstagramProblem("the app is not subscribed to the Instagram webhook fields " + strings.Join(missing, ", ") +
		": no Instagram message reaches the bridge until they are (App Dashboard → Webhooks → Instagram; see deploy/facebook.md)")
}

// setInstagramProblem records what keeps Instagram Direct from working,
// "" for nothing.
func (d *Daemon) setInstagramProblem(p string) {
	d.upkeepMu.Lock()
	defer d.upkeepMu.Unlock()
	d.instagramProblem = p
}

// setTokenProblem records why the last check of a Page's token did not
// succeed, "" when it did (or found it refused, which the bridge tracks).
func (d *Daemon) setTokenProblem(page, problem string) {
	d.upkeepMu.Lock()
	defer d.upkeepMu.Unlock()
	if d.tokenProblems == nil {
		d.tokenProblems = map[string]string{}
	}
	if problem == "" {
		delete(d.tokenProblems, page)
	} else {
		d.tokenProblems[page] = problem
	}
}
