package bridge

import (
	"encoding/hex"
	"fmt"

	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// importChunk bounds how many sessions one ImportSessions transaction
// writes.
const importChunk = 10_000

// ImportSessions adds finished sessions to the ledger as they are, each
// under a new key from its start time; their IDs are replaced by those
// keys. It is for tools and tests that need a store with history (the
// statistics dashboard's tests and benchmark, the load generator), never
// for conversations the bridge is handling: nothing else about the
// patrons is written. Open sessions are refused.
func (s *Store) ImportSessions(sessions []stats.Session) error {
	for i := range sessions {
		if sessions[i].Open() {
			return fmt.Errorf("bridge: importing sessions: session %d (started %s) is open", i, sessions[i].Started)
		}
	}
	for from := 0; from < len(sessions); from += importChunk {
		chunk := sessions[from:min(from+importChunk, len(sessions))]
		err := s.update(func(tx *store.Tx) error {
			for i := range chunk {
				k, err := tx.Sessions().NewKey(chunk[i].Started)
				if err != nil {
					return err
				}
				r := chunk[i]
				r.ID = hex.EncodeToString(k)
				if err := putSession(tx, k, &r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bridge: importing sessions: %w", err)
		}
	}
	return nil
}
