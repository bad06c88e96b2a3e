package store

import bolt "go.etcd.io/bbolt"

// Tx is a transaction of the store as the bridge's policy code sees it:
// its records, through the typed views of this package. A read
// transaction's views only read.
type Tx struct {
	tx *bolt.Tx
}

// Wrap is the store transaction of tx.
func Wrap(tx *bolt.Tx) *Tx { return &Tx{tx: tx} }

// Ledger is the ledger within the transaction.
func (t *Tx) Ledger() Ledger {
	return Ledger{recs: t.tx.Bucket(BucketLedger), refs: t.tx.Bucket(BucketLedgerRef)}
}

// Sessions is the session rows and the open-session index within the
// transaction.
func (t *Tx) Sessions() Sessions {
	return Sessions{rows: t.tx.Bucket(BucketSessions), open: t.tx.Bucket(BucketOpen)}
}

// Conversations is the conversations within the transaction.
func (t *Tx) Conversations() Conversations {
	return Conversations{b: t.tx.Bucket(BucketConversations)}
}

// XMPPOutbox is the XMPP outbox, its dead letters and its suspicions
// within the transaction.
func (t *Tx) XMPPOutbox() XMPPOutbox {
	return XMPPOutbox{out: t.tx.Bucket(BucketToXMPP), parked: t.tx.Bucket(BucketParkedXMPP), suspects: t.tx.Bucket(BucketSuspectXMPP)}
}

// FacebookOutbox is the Send API outbox within the transaction.
func (t *Tx) FacebookOutbox() FacebookOutbox {
	return FacebookOutbox{out: t.tx.Bucket(BucketToFacebook)}
}

// Inbox is the inbox within the transaction.
func (t *Tx) Inbox() Inbox { return Inbox{b: t.tx.Bucket(BucketInbox)} }

// Seen is the deduplication marks within the transaction.
func (t *Tx) Seen() Seen { return Seen{b: t.tx.Bucket(BucketSeen)} }

// OnCommit calls fn after the transaction commits.
func (t *Tx) OnCommit(fn func()) { t.tx.OnCommit(fn) }

// Bolt is the BoltDB transaction, for the store's own machinery that
// works on buckets as such (maintenance sweeps, key rotation, compaction,
// checks) and for tests.
func (t *Tx) Bolt() *bolt.Tx { return t.tx }

// Same reports whether t and o are the same BoltDB transaction (the
// callers of one group commit share one).
func (t *Tx) Same(o *Tx) bool { return o != nil && t.tx == o.tx }
