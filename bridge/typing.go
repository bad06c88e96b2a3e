package bridge

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

// typingEvery bounds how often typing_on is sent for one conversation:
// Messenger shows the indicator for about 20 seconds.
const typingEvery = 5 * time.Second

// typing turns a librarian's XEP-0085 chat state into Messenger's typing
// indicator: composing → typing_on (at most every typingEvery), paused,
// active, inactive or gone → typing_off after a typing_on. Indicators are
// best effort: not stored, not retried, never for someone who may not
// answer or for a conversation outside the messaging window.
func (b *Bridge) typing(cfg *config.Config, psid, sender, state string) {
	conv, err := b.store.Conversation(psid)
	if err != nil || conv == nil || !mayAnswer(cfg, sender, conv.Page) || b.now().Sub(conv.LastPatron) > responseWindow {
		return
	}
	page, ok := cfg.Page(conv.Page)
	if !ok || b.tokenInvalid(page) {
		return
	}
	on := state == "composing"
	now := b.now()
	b.typingMu.Lock()
	for p, at := range b.typingAt {
		if now.Sub(at) > time.Minute {
			delete(b.typingAt, p) // the indicator is long gone
		}
	}
	last, shown := b.typingAt[psid]
	switch {
	case on && shown && now.Sub(last) < typingEvery:
		b.typingMu.Unlock()
		return
	case !on && !shown:
		b.typingMu.Unlock()
		return
	case on:
		b.typingAt[psid] = now
	default:
		delete(b.typingAt, psid)
	}
	b.typingMu.Unlock()
	action := messenger.SenderActionTypingOff
	if on {
		action = messenger.SenderActionTypingOn
	}
	b.senderAction(page, psid, action)
}

// markSeen tells the patron that the librarian read their messages, when
// the librarian's client sends an XEP-0333 displayed marker.
func (b *Bridge) markSeen(cfg *config.Config, psid, sender string) {
	conv, err := b.store.Conversation(psid)
	if err != nil || conv == nil || !mayAnswer(cfg, sender, conv.Page) || b.now().Sub(conv.LastPatron) > responseWindow {
		return
	}
	if page, ok := cfg.Page(conv.Page); ok && !b.tokenInvalid(page) {
		b.senderAction(page, psid, messenger.SenderActionMarkSeen)
	}
}

// senderAction sends a sender action, best effort, in the background;
// while the Page or the app is throttled it is dropped.
func (b *Bridge) senderAction(page config.Page, psid, action string) {
	b.background(func() {
		tk, err := b.throttle.acquire(context.Background(), page.ID, false)
		if err != nil {
			b.log.Debug("sender action dropped during Facebook's rate limit", zap.String("action", action))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := b.api.Send(ctx, page.AccessToken, messenger.PageID(page.ID), messenger.OutgoingMessage{
			Recipient: recipientOf(psid), SenderAction: action})
		b.throttle.done(tk, res.Usage, err)
		b.metrics.sendCalls.WithLabelValues(outcome(err)).Inc()
		if err != nil {
			b.log.Debug("sender action not sent", zap.String("action", action), zap.Error(err))
		}
	})
}
