package bridge

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// maintenanceFirst is how long after start the first maintenance pass
// waits (plus jitter), so that start-up and the first webhooks never wait
// behind a purge of a large store.
var maintenanceFirst = time.Minute

// maintenanceLoop prunes old deduplication entries and purges what the
// privacy rules no longer allow to keep, a minute after start and then
// once an hour.
func (b *Bridge) maintenanceLoop(ctx context.Context) {
	first := maintenanceFirst + rand.N(maintenanceFirst/2+1)
	if !wait(ctx, nil, first) {
		return
	}
	for {
		if n, err := b.pruneSeen(); err != nil {
			b.log.Error("pruning deduplication entries", zap.Error(err))
		} else if n > 0 {
			b.log.Debug("pruned deduplication entries", zap.Int("n", n))
		}
		if res, err := b.Purge(false); err != nil {
			b.log.Error("purging patron data", zap.Error(err))
		} else if res.Conversations+res.Transcripts > 0 {
			b.log.Info("patron data purged", zap.Int("psids", res.Conversations),
				zap.Int("transcripts", res.Transcripts), zap.Bool("compacted", res.Compacted))
		}
		if !wait(ctx, nil, time.Hour) {
			return
		}
	}
}

func (b *Bridge) pruneSeen() (int, error) {
	cutoff := uint64(b.now().Add(-seenTTL).UnixNano())
	n := 0
	err := b.store.update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketSeen)
		var old [][]byte
		err := seen.ForEach(func(k, v []byte) error {
			if len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := seen.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: pruning seen: %w", err)
	}
	return n, nil
}

func encodeKey(k []byte) string { return hex.EncodeToString(k) }
