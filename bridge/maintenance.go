package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge/store"
)

// maintenanceFirst is how long after start the first maintenance pass
// waits (plus jitter), so that start-up and the first webhooks never wait
// behind a purge of a large store.
var maintenanceFirst = time.Minute

// Sizes of maintenance transactions. BoltDB has one writer at a time, and
// every webhook acknowledgement needs a write transaction, so maintenance
// never holds the writer for long: it reads in read transactions of at
// most maintScanKeys keys, and writes in write transactions of at most
// maintWriteKeys deletions or updates, each cut short once its work has
// taken maintWriteBudget. After each write transaction it rests as long
// as the transaction held the writer, and at least maintMinRest, so that
// it never has more than half of the writer's time and webhook commits
// queued behind it go first.
const (
	maintScanKeys    = 10_000
	maintWriteKeys   = 1_000
	maintWriteBudget = 10 * time.Millisecond
	maintMinRest     = time.Millisecond
)

// maintenanceLoop rotates the queue keys, prunes old deduplication
// entries and references and purges what the privacy rules no longer
// allow to keep, a minute after start and then once an hour.
func (b *Bridge) maintenanceLoop(ctx context.Context) {
	first := maintenanceFirst + rand.N(maintenanceFirst/2+1)
	if !wait(ctx, nil, first) {
		return
	}
	for {
		rep, err := b.maintain(ctx)
		if ctx.Err() != nil {
			return // shutting down; the next start resumes
		}
		if err != nil {
			b.log.Error("maintenance pass", zap.Error(err))
		}
		res := rep.Purge
		if res.Conversations+res.Transcripts+res.Parked > 0 {
			b.log.Info("patron data purged", zap.Int("psids", res.Conversations),
				zap.Int("transcripts", res.Transcripts), zap.Int("parked", res.Parked), zap.Bool("compacted", res.Compacted))
		}
		if rep.Migrated > 0 {
			b.log.Info("session records rewritten from JSON", zap.Int("sessions", rep.Migrated))
		}
		b.log.Debug("maintenance pass done", zap.Uint32("queue_key", rep.Keys.Current), zap.Int("resealed", rep.Keys.Resealed),
			zap.Int("keys_dropped", rep.Keys.Dropped), zap.Int("keys_kept", rep.Keys.Kept), zap.Int("seen_pruned", rep.Seen), zap.Int("refs_pruned", rep.Refs),
			zap.Int("write_txs", rep.Txs), zap.Duration("longest_write_tx", rep.Longest))
		if !wait(ctx, nil, time.Hour) {
			return
		}
	}
}

// maintReport tells what one maintenance pass did.
type maintReport struct {
	// Keys is what the rotation of the queue keys did.
	Keys KeyRotation
	// Seen and Refs count pruned deduplication entries and ledger
	// references.
	Seen, Refs int
	// Migrated counts session records rewritten from JSON.
	Migrated int
	// Purge is what the privacy purge removed.
	Purge PurgeResult
	// Txs counts the pass's write transactions, and Longest is the longest
	// time one of them held the store's writer (compaction aside).
	Txs     int
	Longest time.Duration
	// MostChanges is the most entries one write transaction changed.
	MostChanges int
}

// maintain runs one maintenance pass: a new queue key, deduplication
// entries, the rewriting of JSON session records, then the privacy purge
// with reference pruning and a compaction when one is due. It stops
// between two transactions when ctx is done.
func (b *Bridge) maintain(ctx context.Context) (maintReport, error) {
	return b.newPass(ctx).maintain()
}

func (p *maintPass) maintain() (maintReport, error) {
	// First, so that a compaction due in this pass also removes the plain
	// values of an older release that it sealed.
	rot, keysErr := p.rotateKeys()
	p.rep.Keys = rot
	if err := p.ctx.Err(); err != nil {
		return p.rep, fmt.Errorf("bridge: maintenance: %w", err)
	}
	n, seenErr := p.pruneSeen()
	p.rep.Seen = n
	if err := p.ctx.Err(); err != nil {
		return p.rep, fmt.Errorf("bridge: maintenance: %w", err)
	}
	migrated, migrateErr := p.migrateSessions()
	p.rep.Migrated = migrated
	if err := p.ctx.Err(); err != nil {
		return p.rep, fmt.Errorf("bridge: maintenance: %w", err)
	}
	res, err := p.purge(false)
	p.rep.Purge = res
	return p.rep, errors.Join(keysErr, seenErr, migrateErr, err)
}

// maintPass carries one maintenance pass through its many small
// transactions.
type maintPass struct {
	b   *Bridge
	ctx context.Context
	// Transaction sizes: the maint* constants, which tests change.
	scanKeys, writeKeys  int
	writeBudget, minRest time.Duration
	rep                  maintReport
	// afterScan and afterWrite, if set, run after each read transaction
	// of a walk and after each write transaction (tests change the store
	// or stop the pass there).
	afterScan, afterWrite func()
}

func (b *Bridge) newPass(ctx context.Context) *maintPass {
	return &maintPass{b: b, ctx: ctx, scanKeys: maintScanKeys, writeKeys: maintWriteKeys,
		writeBudget: maintWriteBudget, minRest: maintMinRest}
}

// update runs fn in a write transaction and notes how long it held the
// writer.
func (p *maintPass) update(fn func(*store.Tx) error) (time.Duration, error) {
	var start time.Time
	err := p.b.store.update(func(tx *store.Tx) error {
		start = time.Now()
		return fn(tx)
	})
	if start.IsZero() {
		return 0, err
	}
	d := time.Since(start)
	p.rep.Txs++
	p.rep.Longest = max(p.rep.Longest, d)
	return d, err
}

// rest waits after a write transaction that held the writer for d (see
// maintMinRest); it reports whether the pass goes on.
func (p *maintPass) rest(d time.Duration) bool {
	if p.afterWrite != nil {
		p.afterWrite()
	}
	return wait(p.ctx, nil, max(d, p.minRest))
}

// sweep describes a walk over one bucket, in key order, that changes some
// of its entries.
type sweep struct {
	bucket []byte
	// from is the first key to look at; nil means the bucket's first.
	from []byte
	// end, if set, is the first key not to look at.
	end []byte
	// pick reports, in a read transaction, whether the entry is to be
	// changed.
	pick func(tx *store.Tx, k, v []byte) (bool, error)
	// apply changes one picked entry in a write transaction. The store may
	// have changed since pick saw it, so apply checks again; it reports
	// whether it changed anything.
	apply func(tx *store.Tx, k []byte) (bool, error)
	// commit, if set, runs at the end of each write transaction, with how
	// many entries it changed and the key from which the walk goes on (nil
	// when the walk is complete), so that progress commits with the
	// changes.
	commit func(tx *store.Tx, changed int, resume []byte) error
	// always makes a write transaction follow each read transaction, even
	// one that picked nothing, so that commit records the progress.
	always bool
}

// run walks the bucket in read transactions of at most scanKeys keys and
// applies what they picked in write transactions of at most writeKeys
// entries and writeBudget of work. Each write transaction is complete on
// its own: a crash or a cancellation between two loses no change and
// leaves the rest for the next pass. It returns how many entries changed.
func (p *maintPass) run(s *sweep) (int, error) {
	from, total := s.from, 0
	for {
		if err := p.ctx.Err(); err != nil {
			return total, err
		}
		keys, next, err := p.scan(s, from)
		if err != nil {
			return total, err
		}
		if p.afterScan != nil {
			p.afterScan()
		}
		for first := true; len(keys) > 0 || (first && s.always); first = false {
			var done, changed int
			d, err := p.update(func(tx *store.Tx) error {
				done, changed = 0, 0
				t0 := time.Now()
				for _, k := range keys {
					ok, err := s.apply(tx, k)
					if err != nil {
						return err
					}
					done++
					if ok {
						changed++
					}
					if time.Since(t0) >= p.writeBudget {
						break
					}
				}
				if s.commit == nil {
					return nil
				}
				resume := next
				if done < len(keys) {
					resume = keys[done]
				}
				return s.commit(tx, changed, resume)
			})
			if err != nil {
				return total, err
			}
			total += changed
			p.rep.MostChanges = max(p.rep.MostChanges, changed)
			keys = keys[done:]
			if !p.rest(d) {
				return total, p.ctx.Err()
			}
		}
		if next == nil {
			return total, nil
		}
		from = next
	}
}

// scan picks entries from from on, in one read transaction, until it has
// looked at scanKeys keys or picked writeKeys. next is the key to go on
// from, nil at the end of the walk.
func (p *maintPass) scan(s *sweep, from []byte) (keys [][]byte, next []byte, err error) {
	err = p.b.store.view(func(tx *store.Tx) error {
		keys, next = nil, nil
		c := tx.Bolt().Bucket(s.bucket).Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for n := 0; k != nil; k, v = c.Next() {
			if s.end != nil && bytes.Compare(k, s.end) >= 0 {
				return nil
			}
			if n == p.scanKeys || len(keys) == p.writeKeys {
				next = bytes.Clone(k)
				return nil
			}
			n++
			ok, err := s.pick(tx, k, v)
			if err != nil {
				return err
			}
			if ok {
				keys = append(keys, bytes.Clone(k))
			}
		}
		return nil
	})
	return keys, next, err
}

// pruneSeen drops deduplication entries older than seenTTL.
func (b *Bridge) pruneSeen() (int, error) {
	return b.newPass(context.Background()).pruneSeen()
}

func (p *maintPass) pruneSeen() (int, error) {
	cutoff := uint64(p.b.now().Add(-seenTTL).UnixNano())
	old := func(v []byte) bool { return len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff }
	n, err := p.run(&sweep{
		bucket: store.BucketSeen,
		pick:   func(_ *store.Tx, _, v []byte) (bool, error) { return old(v), nil },
		apply:  deleteIf(store.BucketSeen, old),
	})
	if err != nil {
		return n, fmt.Errorf("bridge: pruning seen: %w", err)
	}
	return n, nil
}

// deleteIf returns a sweep's apply that deletes the entry if its current
// value still satisfies old.
func deleteIf(bucket []byte, old func(v []byte) bool) func(*store.Tx, []byte) (bool, error) {
	return func(tx *store.Tx, k []byte) (bool, error) {
		b := tx.Bolt().Bucket(bucket)
		if v := b.Get(k); v == nil || !old(v) {
			return false, nil
		}
		if err := b.Delete(k); err != nil {
			return false, err
		}
		return true, nil
	}
}

func encodeKey(k []byte) string { return hex.EncodeToString(k) }
