package bridge

import (
	"fmt"

	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// Session records written before version 1 are JSON. Maintenance rewrites
// them in the current version, a few thousand per write transaction, and
// remembers how far it got (metaSessionsFrom), so that an interrupted
// migration goes on where it stopped; once every record has been looked
// at, metaSessionsBinary says so and the walk is not made again. Until
// then a JSON record is still read, with encoding/json.
var (
	metaSessionsFrom   = []byte("sessions_migrate_from") // the next key to look at
	metaSessionsBinary = []byte("sessions_binary")       // every session record is binary
)

// migrateSessions rewrites the JSON session records in the current
// version. It returns how many it rewrote.
func (p *maintPass) migrateSessions() (int, error) {
	var from []byte
	done := false
	err := p.b.store.view(func(tx *store.Tx) error {
		meta := tx.Bolt().Bucket(store.BucketMeta)
		done = meta.Get(metaSessionsBinary) != nil
		from = cloneOrNil(meta.Get(metaSessionsFrom))
		return nil
	})
	if err != nil || done {
		return 0, err
	}
	n, err := p.run(&sweep{
		bucket: store.BucketSessions,
		from:   from,
		always: true,
		pick:   func(_ *store.Tx, _, v []byte) (bool, error) { return store.LegacySession(v), nil },
		apply: func(tx *store.Tx, k []byte) (bool, error) {
			v := tx.Sessions().Raw(k)
			if !store.LegacySession(v) {
				return false, nil // rewritten meanwhile
			}
			var s stats.Session
			if err := store.DecodeSession(v, &s, nil); err != nil {
				return false, fmt.Errorf("session %x: %w", k, err)
			}
			return true, putSession(tx, k, &s)
		},
		commit: func(tx *store.Tx, _ int, resume []byte) error {
			meta := tx.Bolt().Bucket(store.BucketMeta)
			if resume == nil {
				if err := meta.Delete(metaSessionsFrom); err != nil {
					return err
				}
				return meta.Put(metaSessionsBinary, []byte{1})
			}
			return meta.Put(metaSessionsFrom, resume)
		},
	})
	if err != nil {
		return n, fmt.Errorf("bridge: rewriting JSON session records: %w", err)
	}
	return n, nil
}

func cloneOrNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
