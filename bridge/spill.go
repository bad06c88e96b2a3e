package bridge

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/internal/boltgroup"
	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// While a compaction holds the store's writes (it copies the file, then
// replaces it), webhook events are stored in the spill: a small BoltDB
// file beside the store, written and fsynced like the store, whose values
// are sealed with the same queue keys. So the webhook's acknowledgement
// never waits for a compaction, and a 200 still means the events are on
// disk. Once the compaction has switched to the new file, the spilled
// events are moved, in the order they were stored, into the store's inbox
// (which the dispatcher routes), while later events still go to the spill
// behind them; the last few move with the spill closed to new events.
// After that, events go to the store again: to the inbox behind the moved
// ones until the dispatcher has routed them, so that none overtakes an
// earlier one.
//
// Deduplication holds across both files: an event is spilled only if
// neither the store nor the spill has seen it, and moved only if the store
// has still not seen it (a POST that was committing in the store when the
// compaction began may have carried it too). A crash at any point loses
// and duplicates nothing: the spill is read again when the store is
// opened, and the store records, in the transaction that moves events,
// how far the spill has been moved (metaSpillDrained), so events moved
// before a crash are not moved twice.

// spillFile, in the state directory, is the spill.
const spillFile = "askbridge.spill.db"

// SpillPath is where the spill lives inside the state directory.
func SpillPath(stateDir string) string {
	return filepath.Join(stateDir, spillFile)
}

// Buckets of the spill.
var (
	// spillMetaBucket: "id" → 8 random bytes naming this spill file.
	spillMetaBucket = []byte("meta")
	// spillInbox: 8-byte sequence → messenger.Event (sealed), in arrival
	// order.
	spillInbox = []byte("inbox")
	// spillSeen: deduplication key → 8-byte first-seen time (UnixNano).
	spillSeen = []byte("seen")
	spillID   = []byte("id")
)

// metaSpillDrained, in the store's meta bucket: the spill's id and the
// sequence of the last spilled event moved into the store (8 + 8 bytes).
var metaSpillDrained = []byte("spill_drained")

// spillChunk bounds how many spilled events one store transaction moves
// while the spill still takes events.
const spillChunk = 256

// spillBox is an open spill.
type spillBox struct {
	db    *bolt.DB
	path  string
	id    []byte
	group boltgroup.Group
	// holdsKeys: the box holds the store's copying lock read-locked (see
	// Store.copying), so that no queue key its events are sealed with is
	// dropped before they are moved.
	holdsKeys bool
}

// openSpill opens the spill at path, making it if there is none. A new
// spill's directory entry is synced before it is used, so that events
// acknowledged from it survive a crash.
func openSpill(path string) (*spillBox, error) {
	_, statErr := os.Stat(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the spill %s: %w", path, err)
	}
	box := &spillBox{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{spillMetaBucket, spillInbox, spillSeen} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(spillMetaBucket)
		if id := meta.Get(spillID); len(id) == 8 {
			box.id = bytes.Clone(id)
			return nil
		}
		box.id = make([]byte, 8)
		if _, err := rand.Read(box.id); err != nil {
			return err
		}
		return meta.Put(spillID, box.id)
	})
	if err == nil && errors.Is(statErr, os.ErrNotExist) {
		err = store.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing the spill %s: %w", path, err)
	}
	return box, nil
}

// spillTx is what an Accept writes to while events go to the spill: a
// write transaction of the spill and a read transaction of the store.
type spillTx struct {
	store *store.Tx
	box   *bolt.Tx
	keys  *store.KeyRing
}

// add spills the event, whose deduplication key is key ("" for events
// that need none), unless the store or the spill has seen it; it reports
// whether it did.
func (t *spillTx) add(e *messenger.Event, key string, now time.Time) (bool, error) {
	if key != "" {
		k := []byte(key)
		seen := t.box.Bucket(spillSeen)
		if t.store.Bolt().Bucket(store.BucketSeen).Get(k) != nil || seen.Get(k) != nil {
			return false, nil
		}
		if err := seen.Put(k, store.U64(uint64(now.UnixNano()))); err != nil {
			return false, fmt.Errorf("marking seen in the spill: %w", err)
		}
	}
	data, err := json.Marshal(e)
	if err != nil {
		return false, fmt.Errorf("encoding event: %w", err)
	}
	sealed, err := t.keys.Seal(data)
	if err != nil {
		return false, err
	}
	in := t.box.Bucket(spillInbox)
	k, err := store.SeqKey(in)
	if err != nil {
		return false, fmt.Errorf("spill key: %w", err)
	}
	if err := in.Put(k, sealed); err != nil {
		return false, fmt.Errorf("writing the spill: %w", err)
	}
	return true, nil
}

// accept stores the events of one webhook POST: with main, in a write
// transaction of the store shared with concurrent callers (see batch),
// or, while a compaction holds the store's writes and until the events
// spilled meanwhile are back in the store, with spill, in a write
// transaction of the spill shared likewise. It reports which. Either
// function may run more than once.
func (s *Store) accept(main func(*store.Tx) error, spill func(*spillTx) error) (spilled bool, err error) {
	s.spillMu.RLock()
	if box := s.spill; box != nil {
		defer s.spillMu.RUnlock()
		err := box.group.Do(box.db, func(btx *bolt.Tx) error {
			return s.view(func(tx *store.Tx) error {
				return spill(&spillTx{store: tx, box: btx, keys: s.keys})
			})
		})
		if err != nil {
			return true, fmt.Errorf("spill: %w", err)
		}
		return true, nil
	}
	// Compact opens the spill before it closes the gate, so a closed gate
	// without a spill is Close (or a compaction's very end): wait.
	locked := s.gate.TryRLock()
	s.spillMu.RUnlock()
	if !locked {
		return false, s.batch(main)
	}
	defer s.gate.RUnlock()
	return false, s.batchLocked(main)
}

// startSpill opens the spill and sends webhook events there from now on.
// The caller holds s.compacting.
func (s *Store) startSpill() error {
	s.copying.RLock()
	box, err := openSpill(SpillPath(filepath.Dir(s.path)))
	if err != nil {
		s.copying.RUnlock()
		return err
	}
	box.holdsKeys = true
	s.spillMu.Lock()
	s.spill = box
	s.spillMu.Unlock()
	return nil
}

// recoverSpill, at open, moves into the store the events of a spill that
// a crash or a failed move left. A spill that cannot be read is refused:
// it may hold acknowledged events.
func (s *Store) recoverSpill() error {
	path := SpillPath(filepath.Dir(s.path))
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	s.compacting.Lock()
	defer s.compacting.Unlock()
	return guarded(path, "moving its events into the store", func() error {
		box, err := openSpill(path)
		if err != nil {
			return err
		}
		s.spillMu.Lock()
		s.spill = box
		s.spillMu.Unlock()
		_, err = s.drainSpill()
		return err
	})
}

// retrySpill moves the spilled events into the store if a move failed
// before (a compaction moves them itself): the dispatcher calls it.
func (s *Store) retrySpill() (int, error) {
	if !s.spillOpen() || !s.compacting.TryLock() {
		return 0, nil
	}
	defer s.compacting.Unlock()
	return s.drainSpill()
}

func (s *Store) spillOpen() bool {
	s.spillMu.RLock()
	defer s.spillMu.RUnlock()
	return s.spill != nil
}

// spilled counts the events in the spill not yet moved into the store.
func (s *Store) spilled() (int, error) {
	s.spillMu.RLock()
	defer s.spillMu.RUnlock()
	if s.spill == nil {
		return 0, nil
	}
	var done uint64
	err := s.view(func(tx *store.Tx) error {
		done = drainedUpTo(tx, s.spill.id)
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.spill.db.View(func(btx *bolt.Tx) error {
		c := btx.Bucket(spillInbox).Cursor()
		for k, _ := c.Seek(store.U64(done + 1)); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// drainSpill moves the spilled events into the store's inbox, oldest
// first, in transactions of at most spillChunk events while the spill
// still takes events, and the last ones with the spill closed to new
// events; then it closes and removes the spill. It returns how many
// events it moved (duplicates of events the store had seen are dropped).
// The caller holds s.compacting and not the gate.
func (s *Store) drainSpill() (int, error) {
	s.spillMu.RLock()
	box := s.spill
	s.spillMu.RUnlock()
	if box == nil {
		return 0, nil
	}
	total := 0
	for {
		n, more, err := s.moveSpilled(box, spillChunk)
		total += n
		if err != nil {
			return total, err
		}
		if !more {
			break
		}
	}
	// The rest, with no Accept writing to the spill any more.
	s.spillMu.Lock()
	n, _, err := s.moveSpilled(box, 0)
	total += n
	if err != nil {
		s.spillMu.Unlock()
		return total, err
	}
	s.at(spillMoved)
	s.spill = nil
	s.spillMu.Unlock()
	return total, s.closeSpill(box, true)
}

// closeSpill closes the spill; with remove, it also removes its file,
// whose events are all in the store.
func (s *Store) closeSpill(box *spillBox, remove bool) error {
	if box.holdsKeys {
		s.copying.RUnlock()
		box.holdsKeys = false
	}
	err := box.db.Close()
	if err == nil && remove {
		err = os.Remove(box.path)
	}
	if err != nil {
		return fmt.Errorf("closing the spill: %w", err)
	}
	return nil
}

// drainedUpTo returns the sequence of the last event of the spill with
// the given id that was moved into the store, 0 if none.
func drainedUpTo(tx *store.Tx, id []byte) uint64 {
	v := tx.Bolt().Bucket(store.BucketMeta).Get(metaSpillDrained)
	if len(v) != 16 || !bytes.Equal(v[:8], id) {
		return 0
	}
	return binary.BigEndian.Uint64(v[8:])
}

// moveSpilled moves up to limit (0: all) spilled events not moved yet into
// the store's inbox, in one transaction of the store that also records how
// far the spill has been moved. more reports that events were left.
func (s *Store) moveSpilled(box *spillBox, limit int) (moved int, more bool, err error) {
	err = s.update(func(tx *store.Tx) error {
		moved, more = 0, false
		seen, inbox := tx.Bolt().Bucket(store.BucketSeen), tx.Bolt().Bucket(store.BucketInbox)
		done := drainedUpTo(tx, box.id)
		var last []byte
		err := box.db.View(func(btx *bolt.Tx) error {
			firstSeen := btx.Bucket(spillSeen)
			c := btx.Bucket(spillInbox).Cursor()
			looked := 0
			for k, v := c.Seek(store.U64(done + 1)); k != nil; k, v = c.Next() {
				if limit > 0 && looked == limit {
					more = true
					return nil
				}
				looked++
				last = bytes.Clone(k)
				plain, err := s.keys.Open(v)
				if err != nil {
					return fmt.Errorf("spilled event %x: %w", k, err)
				}
				var e messenger.Event
				if err := json.Unmarshal(plain, &e); err != nil {
					return fmt.Errorf("spilled event %x: %w", k, err)
				}
				if key := []byte(dedupKey(&e)); len(key) > 0 {
					if seen.Get(key) != nil {
						continue // the store took it too, before the compaction
					}
					at := firstSeen.Get(key)
					if len(at) != 8 {
						at = store.U64(uint64(time.Now().UnixNano()))
					}
					if err := seen.Put(key, at); err != nil {
						return fmt.Errorf("marking seen: %w", err)
					}
				}
				ik, err := store.SeqKey(inbox)
				if err != nil {
					return fmt.Errorf("inbox key: %w", err)
				}
				// Sealed again with the current key: the rotation of the
				// queue keys reads the store, not the spill.
				sealed, err := s.keys.Seal(plain)
				if err != nil {
					return err
				}
				if err := inbox.Put(ik, sealed); err != nil {
					return fmt.Errorf("writing inbox: %w", err)
				}
				moved++
			}
			return nil
		})
		if err != nil || last == nil {
			return err
		}
		return tx.Bolt().Bucket(store.BucketMeta).Put(metaSpillDrained, append(bytes.Clone(box.id), last...))
	})
	if err != nil {
		return 0, false, fmt.Errorf("moving spilled events into the store: %w", err)
	}
	return moved, more, nil
}
