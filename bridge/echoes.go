package bridge

import (
	"strings"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// ownEcho reports whether an echo is of a message the bridge sent itself,
// and records what it confirms: that the Send API call went through, even
// if its answer was lost.
//
// Messenger echoes carry the app's ID and the metadata the bridge gave the
// Send API. Instagram echoes carry neither, so there an echo is the
// bridge's own when its mid is that of a message the bridge sent (the Send
// API's answer came first) or its content is that of a message still
// being sent (the echo came first).
func (b *Bridge) ownEcho(tx *store.Tx, cfg *config.Config, e *messenger.Event) (bool, error) {
	if e.AppID == cfg.Messenger.AppID || strings.HasPrefix(e.Metadata, metadataPrefix) {
		return true, confirmEcho(tx, e)
	}
	if e.MID != "" && tx.Ledger().ByRef(store.MessageRef(string(e.MID))) != nil {
		return true, nil
	}
	if e.AppID != "" || channelOf(string(e.Patron)) != messenger.ChannelInstagram {
		return false, nil
	}
	entry, err := sendingWith(tx, string(e.Patron), e)
	if err != nil || entry == nil {
		return false, err
	}
	return true, tx.Ledger().Update(entry.Ledger, func(r *Record) {
		if r.MID == "" && e.MID != "" {
			r.MID = string(e.MID)
			if r.State == StateQueued {
				r.State = StateAccepted
			}
		}
	})
}

// echoWindow is how far from the start of the latest Send API call an
// echo may be stamped and still be taken for that call's.
const echoWindow = time.Minute

// sendingWith returns the patron's Send API outbox entry whose latest call
// started within echoWindow of the echo's time and whose text is the
// echo's, or, for an attachment (Instagram echoes it from its own CDN
// address), whose attachment is of the echo's type; nil if none.
func sendingWith(tx *store.Tx, patron string, e *messenger.Event) (*fbEntry, error) {
	var found *fbEntry
	err := tx.FacebookOutbox().ScanPatron(patron, func(_ []byte, entry *fbEntry, err error) (bool, error) {
		if err != nil {
			return true, nil // an unreadable entry is reported where it is sent
		}
		if entry.Attempts == 0 || e.Time.Sub(entry.LastAttempt).Abs() > echoWindow {
			return true, nil
		}
		m := entry.Msg
		if m.Text != "" && m.Text == e.Text ||
			m.Attachment != nil && e.Text == "" && len(e.Attachments) == 1 && sameKind(m.Attachment.Type, e.Attachments[0].Type) {
			found = entry
		}
		return found == nil, nil
	})
	if err != nil || found != nil {
		return found, err
	}
	return nil, nil
}

// sameKind reports whether an attachment the bridge sent (image, video,
// audio, file) and one an echo carries are of the same kind.
func sameKind(sent, echoed string) bool {
	return sent == echoed || sent == "file" || echoed == "file"
}
