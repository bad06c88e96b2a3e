package bridge

import (
	"fmt"
	"time"

	"github.com/askbridge/askbridge/bridge/store"
)

// Direction says which way a bridged message went.
type Direction = store.Direction

// Directions of ledger records.
const (
	// Inbound is patron → library.
	Inbound = store.Inbound
	// Outbound is library → patron.
	Outbound = store.Outbound
	// Internal is a notice from the bridge to the librarians.
	Internal = store.Internal
)

// Delivery states of a ledger record.
const (
	StateQueued   = store.StateQueued   // in an outbox
	StateSent     = store.StateSent     // written to the component stream
	StateBounced  = store.StateBounced  // the Jabber server answered with an error
	StateAccepted = store.StateAccepted // accepted by the Send API
	StateFailed   = store.StateFailed   // refused for good; the librarian was told
	StateParked   = store.StateParked   // set aside in the dead-letter bucket; the librarian was told
)

// Record is one bridged message in the ledger (see store.Record).
type Record = store.Record

// Records returns the ledger records with times in [from, to), oldest
// first; a zero to has no end.
func (s *Store) Records(from, to time.Time) ([]Record, error) {
	var out []Record
	err := s.view(func(tx *store.Tx) error {
		return tx.Ledger().Scan(from, to, func(_ []byte, r *Record) (bool, error) {
			out = append(out, *r)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading ledger: %w", err)
	}
	return out, nil
}
