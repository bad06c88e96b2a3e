package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Direction says which way a bridged message went.
type Direction string

// Directions of ledger records.
const (
	// Inbound is patron → library.
	Inbound Direction = "in"
	// Outbound is library → patron.
	Outbound Direction = "out"
	// Internal is a notice from the bridge to the librarians.
	Internal Direction = "notice"
)

// Delivery states of a ledger record.
const (
	StateQueued   = "queued"   // in an outbox
	StateSent     = "sent"     // written to the component stream
	StateBounced  = "bounced"  // the Jabber server answered with an error
	StateAccepted = "accepted" // accepted by the Send API
	StateFailed   = "failed"   // refused for good; the librarian was told
	StateParked   = "parked"   // set aside in the dead-letter bucket; the librarian was told
)

// Record is one bridged message in the ledger. It names the patron only by
// the guest pseudonym; Text is kept only when transcripts are on. Its JSON
// tags are those of the records written before schema 5, which are still
// read (ledger_codec.go).
type Record struct {
	Time      time.Time `json:"t"`
	Direction Direction `json:"dir"`
	// Kind is message, postback, attachment, page_inbox, reply, notice,
	// reaction or edit.
	Kind  string `json:"kind"`
	Page  string `json:"page"`
	Guest string `json:"guest"`
	// MID is the Facebook message ID, XMPPID the stanza id.
	MID    string `json:"mid,omitempty"`
	XMPPID string `json:"xid,omitempty"`
	// Operator is the bare JID of the librarian who wrote or received it.
	Operator string `json:"op,omitempty"`
	State    string `json:"state"`
	// Error says why a message bounced or failed.
	Error string `json:"err,omitempty"`
	// Attempts counts Send API calls for outbound messages.
	Attempts int    `json:"attempts,omitempty"`
	Text     string `json:"text,omitempty"`
	// Copies holds, when a patron message was offered to several
	// operators at once (broadcast routing), the stanza id of each
	// operator's copy, by bare JID, so that an edit corrects each copy.
	Copies map[string]string `json:"copies,omitempty"`
}

// Ref names a ledger record by an identity a later event carries: the id
// of the stanza it was written as, or its Facebook message ID.
type Ref string

// StanzaRef is the reference of the record written as stanza id.
func StanzaRef(id string) Ref { return Ref("x:" + id) }

// MessageRef is the reference of the record of Facebook message mid.
func MessageRef(mid string) Ref { return Ref("m:" + mid) }

// key is ref as a key of BucketLedgerRef.
func (ref Ref) key() []byte { return []byte(BoundedKey(string(ref))) }

// Ledger is the ledger (BucketLedger and BucketLedgerRef) within one
// transaction. Its methods write only in a writable transaction.
type Ledger struct {
	recs, refs *bolt.Bucket
}

// Add writes a new record and its references; it returns the record's
// key.
func (l Ledger) Add(r *Record) ([]byte, error) {
	k, err := TimeKey(l.recs, r.Time)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	if err := l.Put(k, r); err != nil {
		return nil, err
	}
	if err := l.addRefs(k, r); err != nil {
		return nil, err
	}
	return k, nil
}

// Put writes r at key k, over the record there if any. It does not
// change the references.
func (l Ledger) Put(k []byte, r *Record) error {
	if err := l.recs.Put(k, EncodeRecord(r)); err != nil {
		return fmt.Errorf("writing ledger record: %w", err)
	}
	return nil
}

// AddRef points ref at the record of key k.
func (l Ledger) AddRef(ref Ref, k []byte) error {
	if err := l.refs.Put(ref.key(), k); err != nil {
		return fmt.Errorf("ledger ref: %w", err)
	}
	return nil
}

func (l Ledger) addRefs(k []byte, r *Record) error {
	if r.XMPPID != "" {
		if err := l.AddRef(StanzaRef(r.XMPPID), k); err != nil {
			return err
		}
	}
	if r.MID != "" {
		if err := l.AddRef(MessageRef(r.MID), k); err != nil {
			return err
		}
	}
	return nil
}

// Update applies fn to the record of key k, if there is one, and writes
// it back, with references for a stanza id or message ID fn set.
func (l Ledger) Update(k []byte, fn func(*Record)) error {
	if k == nil {
		return nil
	}
	rec, err := l.Get(k)
	if err != nil || rec == nil {
		return err
	}
	before := *rec
	fn(rec)
	if err := l.Put(k, rec); err != nil {
		return err
	}
	if rec.MID != before.MID || rec.XMPPID != before.XMPPID {
		return l.addRefs(k, rec)
	}
	return nil
}

// Get reads the record of key k; nil if there is none.
func (l Ledger) Get(k []byte) (*Record, error) {
	if k == nil {
		return nil, nil
	}
	v := l.recs.Get(k)
	if v == nil {
		return nil, nil
	}
	var r Record
	if err := DecodeRecord(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ByRef returns the key of the record ref names, or nil.
func (l Ledger) ByRef(ref Ref) []byte {
	k := l.refs.Get(ref.key())
	if k == nil {
		return nil
	}
	return bytes.Clone(k)
}

// Has reports whether ref names a record.
func (l Ledger) Has(ref Ref) bool { return l.refs.Get(ref.key()) != nil }

// Scan calls fn with each record whose time is in [from, to), oldest
// first, until fn returns false or an error; a zero to has no end. The
// record is fn's to keep; the key is valid only during the call.
func (l Ledger) Scan(from, to time.Time, fn func(k []byte, r *Record) (bool, error)) error {
	var end []byte
	if !to.IsZero() {
		end = TimeBound(to)
	}
	c := l.recs.Cursor()
	for k, v := c.Seek(TimeBound(from)); k != nil && (end == nil || bytes.Compare(k[:8], end) < 0); k, v = c.Next() {
		var r Record
		if err := DecodeRecord(v, &r); err != nil {
			return fmt.Errorf("ledger record %x: %w", k, err)
		}
		more, err := fn(k, &r)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// Raw returns the encoded record of key k, or nil: for sweeps that look
// at many records and decode few (RecordHasText).
func (l Ledger) Raw(k []byte) []byte { return l.recs.Get(k) }

// ForEachRaw calls fn with every encoded record, in key order, until fn
// returns an error; fn must not write to the ledger.
func (l Ledger) ForEachRaw(fn func(k, v []byte) error) error { return l.recs.ForEach(fn) }
