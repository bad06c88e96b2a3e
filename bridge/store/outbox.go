package store

import (
	"time"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// XMPPEntry is an XMPP outbox entry.
type XMPPEntry struct {
	Msg xmpp.Message `json:"msg"`
	// Presence, when set, is sent instead of Msg.
	Presence *xmpp.Presence `json:"presence,omitempty"`
	// Ledger is the key of the ledger record to mark sent.
	Ledger []byte `json:"ledger,omitempty"`
	// Queued is when the entry was queued.
	Queued time.Time `json:"queued,omitempty"`
	// NotBefore holds back a retry after a temporary bounce; Tries counts
	// those retries.
	NotBefore time.Time `json:"not_before,omitempty"`
	Tries     int       `json:"tries,omitempty"`
	// ParkNotice marks the notice that an entry was parked: parked in
	// turn, it makes no notice of its own.
	ParkNotice bool `json:"park_notice,omitempty"`
}

// FacebookEntry is a Send API outbox entry.
type FacebookEntry struct {
	Page string                    `json:"page"`
	Msg  messenger.OutgoingMessage `json:"msg"`
	// Ledger is the key of the ledger record of this message.
	Ledger []byte `json:"ledger,omitempty"`
	// Notify is the full JID of the librarian who wrote it; Patron the
	// patron's JID the notice comes from.
	Notify string    `json:"notify"`
	Patron string    `json:"patron"`
	Queued time.Time `json:"queued"`
	// Attempts counts Send API calls started; LastAttempt is the start of
	// the latest. Both are stored before each call, so after a crash or a
	// timeout the bridge knows a call may have gone through.
	Attempts    int       `json:"attempts,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitempty"`
	// ReceiptID is the librarian's stanza id to acknowledge once Facebook
	// reports delivery (Receipt, XEP-0184) or reading (Markable,
	// XEP-0333); empty when the librarian asked for neither.
	ReceiptID string `json:"receipt_id,omitempty"`
	Receipt   bool   `json:"receipt,omitempty"`
	Markable  bool   `json:"markable,omitempty"`
	// Session is the ID of the session the reply counts in, whose reply
	// outcomes it adds to when Facebook answers; empty in entries queued
	// before sessions counted outcomes.
	Session string `json:"session,omitempty"`
}
