package store

// Bucket names. Keys are documented beside each. Values are binary
// records of this package (ledger, sessions, conversations, outbox
// entries; those that carry message text sealed: see sealed.go), sealed
// JSON (inbox events, parked entries), JSON (poison suspicions, meta), or
// the 8-byte times of BucketSeen.
var (
	// BucketSeen: Facebook event identity (mid, or kind+mid for edits and
	// reactions, through BoundedKey) → 8-byte first-seen time (UnixNano).
	BucketSeen = []byte("seen")
	// BucketInbox: 8-byte sequence → messenger event, in arrival order.
	BucketInbox = []byte("inbox")
	// BucketToXMPP: 8-byte sequence → XMPP outbox entry, oldest first.
	BucketToXMPP = []byte("out_xmpp")
	// BucketToFacebook: PSID + 0x00 + 8-byte sequence → Send API outbox
	// entry, so that one conversation's entries are contiguous and in
	// order.
	BucketToFacebook = []byte("out_facebook")
	// BucketLedger: TimeKey (8-byte time, 8-byte sequence) → Record.
	// Time-ordered so that statistics and retention scan ranges. Reached
	// through Ledger.
	BucketLedger = []byte("ledger")
	// BucketLedgerRef: Ref (through BoundedKey) → ledger key, to update a
	// record's delivery state when a bounce or receipt arrives. Reached
	// through Ledger.
	BucketLedgerRef = []byte("ledger_ref")
	// BucketConversations: PSID → conversation.
	BucketConversations = []byte("conversations")
	// BucketSessions: TimeKey of the start → session row (EncodeSession).
	BucketSessions = []byte("sessions")
	// BucketOpen: PSID → nothing, for conversations with an open session.
	BucketOpen = []byte("open_sessions")
	// BucketParkedXMPP: the XMPP outbox key of an entry the bridge gave up
	// writing → parked entry.
	BucketParkedXMPP = []byte("dead_xmpp")
	// BucketSuspectXMPP: the XMPP outbox key of an entry suspected of
	// closing the stream → suspicion. Cleared by the commit that takes the
	// entry out of the outbox.
	BucketSuspectXMPP = []byte("suspect_xmpp")
	// BucketMeta: "schema" → schema version; also watermarks of
	// maintenance.
	BucketMeta = []byte("meta")
)

// Buckets lists every bucket of the store, created when it is opened.
var Buckets = [][]byte{BucketSeen, BucketInbox, BucketToXMPP, BucketToFacebook,
	BucketLedger, BucketLedgerRef, BucketConversations, BucketSessions, BucketOpen, BucketParkedXMPP,
	BucketSuspectXMPP, BucketMeta}

// SchemaVersion is stored in the meta bucket; a later version migrates.
// An askbridge refuses a store of a newer schema than its own, so that
// going back to an older release cannot misread newer records.
//
//   - 1: every value JSON.
//   - 2: sessions written in a binary encoding; JSON sessions written by
//     schema 1 are rewritten by maintenance, and read with encoding/json
//     until then.
//   - 3: session records version 2, with reply outcome counts (an older
//     askbridge could not read them).
//   - 4: inbox, outbox and held-message values sealed with the queue keys;
//     plain JSON values are still read.
//   - 5: ledger records written in a binary encoding (ledger_codec.go);
//     JSON records of earlier schemas are read as they are.
//   - 6: conversations and both outboxes' entries written in a binary
//     encoding (entry_codec.go), sealed as before; JSON values of earlier
//     schemas are read as they are and rewritten when they change.
const SchemaVersion = 6
