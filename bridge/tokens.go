package bridge

import (
	"crypto/sha256"
	"maps"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
)

// Facebook answers error 190 when a Page token is no longer valid. The
// bridge then stops calling the Send API for that Page with that token,
// fails its replies at once with a notice, and reports the Page as not
// ready, until the configuration brings a new token (on reload or
// restart).

func tokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// MarkTokenInvalid records that Facebook refused the Page's token (error
// 190), from a Send API call or a token check. A token configured since
// (on reload) is not affected.
func (b *Bridge) MarkTokenInvalid(pageID, token string) {
	page, ok := b.config().Page(pageID)
	if !ok {
		return
	}
	b.tokensMu.Lock()
	b.badTokens[pageID] = tokenHash(token)
	b.tokensMu.Unlock()
	b.log.Error("Facebook refused the Page's access token (error 190); replies to this Page fail until a new token is configured",
		zap.String("page", pageID), zap.String("name", page.Name))
}

// MarkTokenValid records that a check found the Page's current token
// valid again.
func (b *Bridge) MarkTokenValid(pageID string) {
	b.tokensMu.Lock()
	defer b.tokensMu.Unlock()
	if _, ok := b.badTokens[pageID]; ok {
		delete(b.badTokens, pageID)
		b.log.Info("the Page's access token is valid again", zap.String("page", pageID))
	}
}

// tokenInvalid reports whether the Page's configured token was refused.
func (b *Bridge) tokenInvalid(page config.Page) bool {
	b.tokensMu.Lock()
	defer b.tokensMu.Unlock()
	h, ok := b.badTokens[page.ID]
	return ok && h == tokenHash(page.AccessToken)
}

// InvalidTokens lists the Pages whose configured token Facebook refused.
func (b *Bridge) InvalidTokens() []string {
	var out []string
	for _, p := range b.config().Messenger.Pages {
		if b.tokenInvalid(p) {
			out = append(out, p.ID)
		}
	}
	sort.Strings(out)
	return out
}

// Facebook answers error 10/1893063 while it restricts a Page from
// sending. The bridge tells the librarian and reports the Page in
// RestrictedPages until a message of that Page goes through again.

// markRestricted records that Facebook restricted the Page from sending.
func (b *Bridge) markRestricted(pageID string) {
	b.tokensMu.Lock()
	_, known := b.restricted[pageID]
	if !known {
		b.restricted[pageID] = b.now()
	}
	b.tokensMu.Unlock()
	if !known {
		b.log.Error("Facebook restricted the Page from sending messages (error 10/1893063); replies fail until the restriction ends",
			zap.String("page", pageID))
	}
}

// markSending records that a message of the Page went through.
func (b *Bridge) markSending(pageID string) {
	b.tokensMu.Lock()
	_, was := b.restricted[pageID]
	delete(b.restricted, pageID)
	b.tokensMu.Unlock()
	if was {
		b.log.Info("the Page sends messages again", zap.String("page", pageID))
	}
}

// RestrictedPages lists the Pages Facebook restricted from sending, with
// the time the bridge first saw it, by Page ID.
func (b *Bridge) RestrictedPages() map[string]time.Time {
	b.tokensMu.Lock()
	defer b.tokensMu.Unlock()
	return maps.Clone(b.restricted)
}
