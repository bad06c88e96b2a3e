package bridge

import (
	"context"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
)

// A librarian's client sends a chat state (XEP-0085) at every pause and
// keystroke burst; each used to become a typing_on or typing_off call.
// They are coalesced per conversation: the latest state is what counts, and
// sender actions go out at most every typingGap.

const (
	// typingEvery bounds how often typing_on is sent again while the
	// librarian goes on composing: Messenger shows the indicator for about
	// 20 seconds.
	typingEvery = 8 * time.Second
	// typingGap is the least time between two sender actions of one
	// conversation.
	typingGap = 3 * time.Second
	// typingOffAfter is how long the librarian must have stopped
	// composing before typing_off is sent, so that a short pause sends
	// nothing.
	typingOffAfter = 3 * time.Second
	// typingKeep is how long after the librarian's latest chat state
	// typing_on is sent again while the state is composing: clients send
	// "composing" once and "paused" when typing stops, but a client that
	// went away sends nothing more.
	typingKeep = 30 * time.Second
	// typingForget is how long an idle conversation's state is kept.
	typingForget = time.Minute
)

// typingState is what the bridge showed a patron lately.
type typingState struct {
	page config.Page
	// composing is the librarian's latest chat state; stopped is when it
	// last turned from composing to anything else.
	composing bool
	stopped   time.Time
	// changed is when the librarian's client last sent a chat state.
	changed time.Time
	// shown is set while a typing_on went out that neither a typing_off
	// nor a message ended.
	shown bool
	// lastOn and last are the times of the latest typing_on and of the
	// latest sender action of any kind; lastSeen of the latest mark_seen.
	lastOn, last, lastSeen time.Time
	// cancel, while a later look at the state is scheduled (at
	// pendingAt), calls it off.
	cancel    chan struct{}
	pendingAt time.Time
}

// next decides the sender action the state calls for at now, or when to
// look again (zero: never).
func (st *typingState) next(now time.Time) (action string, at time.Time) {
	switch {
	case st.composing && st.shown && now.Sub(st.changed) > typingKeep:
		return "", time.Time{} // composing long ago: let the indicator lapse
	case st.composing && st.shown && now.Sub(st.lastOn) < typingEvery:
		// Still shown; shown again typingEvery after the last typing_on.
		return "", st.lastOn.Add(typingEvery)
	case st.composing:
		if at := st.last.Add(typingGap); now.Before(at) {
			return "", at
		}
		return messenger.SenderActionTypingOn, time.Time{}
	case !st.shown:
		return "", time.Time{}
	}
	at = st.stopped.Add(typingOffAfter)
	if gap := st.last.Add(typingGap); gap.After(at) {
		at = gap
	}
	if now.Before(at) {
		return "", at
	}
	return messenger.SenderActionTypingOff, time.Time{}
}

// typing turns a librarian's XEP-0085 chat state into Messenger's typing
// indicator: composing → typing_on (again at most every typingEvery),
// paused, active, inactive or gone → typing_off typingOffAfter later, only
// after a typing_on that no message ended; never two sender actions of a
// conversation within typingGap. Indicators are best effort: not stored,
// not retried, dropped while Facebook's rate limit is in force, never for
// someone who may not answer or for a conversation outside the messaging
// window.
func (b *Bridge) typing(cfg *config.Config, psid string, sender jid.JID, state string) {
	composing := state == "composing"
	b.withTypingState(cfg, psid, sender, func(st *typingState, now time.Time) {
		if st.composing && !composing {
			st.stopped = now
		}
		st.composing, st.changed = composing, now
		b.typingStepLocked(psid, st, now)
	})
}

// withTypingState runs fn with the conversation's typing state, under
// b.typingMu, when sender may show the patron a sender action now: one who
// may answer, within the messaging window, for a Page with a valid token.
func (b *Bridge) withTypingState(cfg *config.Config, psid string, sender jid.JID, fn func(st *typingState, now time.Time)) {
	conv, err := b.store.Conversation(psid)
	if err != nil || conv == nil || !mayAnswer(cfg, sender, conv.Page) || b.now().Sub(conv.LastPatron) > responseWindow {
		return
	}
	page, ok := cfg.Page(conv.Page)
	if !ok || b.tokenInvalid(page) {
		return
	}
	now := b.waitNow()
	b.typingMu.Lock()
	defer b.typingMu.Unlock()
	b.forgetTypingLocked(now)
	st := b.typingBy[psid]
	if st == nil {
		st = &typingState{}
		b.typingBy[psid] = st
	}
	st.page = page
	fn(st, now)
}

// typingStepLocked sends what the state calls for now, or schedules a
// later look. b.typingMu must be held.
func (b *Bridge) typingStepLocked(psid string, st *typingState, now time.Time) {
	action, at := st.next(now)
	if action != "" {
		st.last = now
		st.shown = action == messenger.SenderActionTypingOn
		if st.shown {
			st.lastOn = now
		}
		b.senderAction(st.page, psid, action)
		_, at = st.next(now) // typing_on shown again later, say
	}
	if at.IsZero() || st.cancel != nil && !at.Before(st.pendingAt) {
		return // nothing to look at, or a look at least as early is scheduled
	}
	if st.cancel != nil {
		close(st.cancel) // a later look, replaced by this earlier one
	}
	cancel := make(chan struct{})
	st.cancel, st.pendingAt = cancel, at
	{
		started := b.background(func() {
			select {
			case <-b.after(at.Sub(now)):
			case <-cancel:
				return
			case <-b.stopping:
			}
			b.typingMu.Lock()
			defer b.typingMu.Unlock()
			if st.cancel != cancel {
				return // replaced meanwhile
			}
			st.cancel = nil
			if b.typingBy[psid] != st {
				return
			}
			select {
			case <-b.stopping:
			default:
				b.typingStepLocked(psid, st, b.waitNow())
			}
		})
		if !started {
			st.cancel = nil
		}
	}
}

// typingEnded records that a message to the patron is on its way:
// Messenger hides the indicator when it arrives, so no typing_off is
// needed.
func (b *Bridge) typingEnded(psid string) {
	b.typingMu.Lock()
	defer b.typingMu.Unlock()
	if st := b.typingBy[psid]; st != nil {
		st.shown, st.composing = false, false
	}
}

// forgetTypingLocked drops the state of conversations idle for
// typingForget. b.typingMu must be held.
func (b *Bridge) forgetTypingLocked(now time.Time) {
	for p, st := range b.typingBy {
		if st.cancel == nil && now.Sub(st.last) > typingForget && now.Sub(st.stopped) > typingForget && now.Sub(st.lastSeen) > typingForget {
			delete(b.typingBy, p) // any indicator is long gone
		}
	}
}

// markSeen tells the patron that the librarian read their messages, when
// the librarian's client sends an XEP-0333 displayed marker; at most once
// per typingGap per conversation.
func (b *Bridge) markSeen(cfg *config.Config, psid string, sender jid.JID) {
	b.withTypingState(cfg, psid, sender, func(st *typingState, now time.Time) {
		if !st.lastSeen.IsZero() && now.Sub(st.lastSeen) < typingGap {
			return
		}
		st.lastSeen = now
		b.senderAction(st.page, psid, messenger.SenderActionMarkSeen)
	})
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
