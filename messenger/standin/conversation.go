package standin

import (
	"context"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// Who wrote a conversation entry.
const (
	fromPatron = "patron"
	fromPage   = "page"
	fromSystem = "system" // notes of the stand-in, e.g. a refused webhook
)

// maxConversation bounds the entries kept per conversation.
const maxConversation = 500

// convKey identifies a conversation: one patron of one Page.
type convKey struct {
	page messenger.PageID
	psid messenger.PSID
}

// conversation is the log the patron page shows.
type conversation struct {
	last    int // index of the newest entry
	entries []chatEntry
}

// chatEntry is one line of a conversation, as the patron API returns it.
type chatEntry struct {
	// Index increases by one per entry of the conversation, from 1.
	Index        int                   `json:"index"`
	From         string                `json:"from"`
	Text         string                `json:"text,omitempty"`
	Attachment   *messenger.Attachment `json:"attachment,omitempty"`
	SenderAction string                `json:"sender_action,omitempty"`
	MID          messenger.MID         `json:"mid,omitempty"`
	At           time.Time             `json:"at"`
}

// appendLocked adds e to the conversation of page and psid and wakes
// waiters. s.mu must be held.
func (s *Server) appendLocked(page messenger.PageID, psid messenger.PSID, e chatEntry) {
	k := convKey{page, psid}
	c := s.convs[k]
	if c == nil {
		c = &conversation{}
		s.convs[k] = c
	}
	c.last++
	e.Index = c.last
	c.entries = append(c.entries, e)
	if len(c.entries) > maxConversation {
		c.entries = append([]chatEntry(nil), c.entries[len(c.entries)-maxConversation:]...)
	}
	s.notifyLocked()
}

// appendEntry adds e to a conversation.
func (s *Server) appendEntry(page messenger.PageID, psid messenger.PSID, e chatEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(page, psid, e)
}

// entriesAfter waits until the conversation has entries with an index above
// after, or wait passes, and returns those entries (possibly none).
func (s *Server) entriesAfter(ctx context.Context, page messenger.PageID, psid messenger.PSID, after int, wait time.Duration) []chatEntry {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var out []chatEntry
		if c := s.convs[convKey{page, psid}]; c != nil {
			for _, e := range c.entries {
				if e.Index > after {
					out = append(out, e)
				}
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 {
			return out
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}
