package bridge

import (
	"encoding/json"
	"fmt"
	"math"
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
// the guest pseudonym; Text is kept only when transcripts are on.
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

// addRecord writes a new record and its references; it returns the key.
func addRecord(tx *bolt.Tx, r *Record) ([]byte, error) {
	b := tx.Bucket(bucketLedger)
	k, err := timeKey(b, r.Time)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	if err := putRecord(b, k, r); err != nil {
		return nil, err
	}
	if err := addRefs(tx, k, r); err != nil {
		return nil, err
	}
	return k, nil
}

// addRef points ref ("x:"+stanza id or "m:"+mid) at the ledger key k.
func addRef(tx *bolt.Tx, ref string, k []byte) error {
	if err := tx.Bucket(bucketLedgerRef).Put([]byte(boundedKey(ref)), k); err != nil {
		return fmt.Errorf("ledger ref: %w", err)
	}
	return nil
}

func addRefs(tx *bolt.Tx, k []byte, r *Record) error {
	refs := tx.Bucket(bucketLedgerRef)
	if r.XMPPID != "" {
		if err := refs.Put([]byte(boundedKey("x:"+r.XMPPID)), k); err != nil {
			return fmt.Errorf("ledger ref: %w", err)
		}
	}
	if r.MID != "" {
		if err := refs.Put([]byte(boundedKey("m:"+r.MID)), k); err != nil {
			return fmt.Errorf("ledger ref: %w", err)
		}
	}
	return nil
}

// updateRecord applies fn to the record at key k, if it exists.
func updateRecord(tx *bolt.Tx, k []byte, fn func(*Record)) error {
	if k == nil {
		return nil
	}
	rec, err := recordAt(tx, k)
	if err != nil || rec == nil {
		return err
	}
	r := *rec
	before := r
	fn(&r)
	if err := putRecord(tx.Bucket(bucketLedger), k, &r); err != nil {
		return err
	}
	if r.MID != before.MID || r.XMPPID != before.XMPPID {
		return addRefs(tx, k, &r)
	}
	return nil
}

// recordAt reads the record at key k; nil if there is none.
func recordAt(tx *bolt.Tx, k []byte) (*Record, error) {
	if k == nil {
		return nil, nil
	}
	v := tx.Bucket(bucketLedger).Get(k)
	if v == nil {
		return nil, nil
	}
	var r Record
	if err := decodeRecord(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// recordByRef finds the ledger key of a record by "x:"+stanza id or
// "m:"+mid.
func recordByRef(tx *bolt.Tx, ref string) []byte {
	k := tx.Bucket(bucketLedgerRef).Get([]byte(boundedKey(ref)))
	if k == nil {
		return nil
	}
	return append([]byte(nil), k...)
}

// Records returns the ledger records with times in [from, to), oldest
// first.
func (s *Store) Records(from, to time.Time) ([]Record, error) {
	var out []Record
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLedger).Cursor()
		end := string(timeBound(to))
		for k, v := c.Seek(timeBound(from)); k != nil && string(k[:8]) < end; k, v = c.Next() {
			var r Record
			if err := decodeRecord(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading ledger: %w", err)
	}
	return out, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding entry: %w", err)
	}
	if err := b.Put(k, data); err != nil {
		return fmt.Errorf("writing entry: %w", err)
	}
	return nil
}

// timeBound is the 8-byte key prefix of a time, clamped to the range of
// times the ledger can hold (1970 to 2262).
func timeBound(t time.Time) []byte {
	switch {
	case t.Before(time.Unix(0, 0)):
		return u64(0)
	case t.After(time.Unix(0, math.MaxInt64)):
		return u64(math.MaxInt64)
	}
	return u64(uint64(t.UnixNano()))
}
