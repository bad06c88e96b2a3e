package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/internal/boltgroup"
)

// Bucket names. Keys are documented beside each; values are JSON, except
// sessions (see session_codec.go) and the 8-byte times of seen.
var (
	// bucketSeen: Facebook event identity (mid, or kind+mid for edits and
	// reactions) → 8-byte first-seen time (UnixNano). Pruned after seenTTL.
	bucketSeen = []byte("seen")
	// bucketInbox: 8-byte sequence → messenger.Event, in arrival order.
	bucketInbox = []byte("inbox")
	// bucketToXMPP: 8-byte sequence → xmppEntry, oldest first.
	bucketToXMPP = []byte("out_xmpp")
	// bucketToFacebook: PSID + 0x00 + 8-byte sequence → fbEntry, so that
	// one conversation's entries are contiguous and in order.
	bucketToFacebook = []byte("out_facebook")
	// bucketLedger: 8-byte time (UnixNano) + 8-byte sequence → Record.
	// Time-ordered so that statistics and retention scan ranges.
	bucketLedger = []byte("ledger")
	// bucketLedgerRef: "x:"+stanza id or "m:"+mid → ledger key, to update a
	// record's delivery state when a bounce or receipt arrives.
	bucketLedgerRef = []byte("ledger_ref")
	// bucketConversations: PSID → Conversation.
	bucketConversations = []byte("conversations")
	// bucketSessions: 8-byte start time (UnixNano) + 8-byte sequence →
	// stats.Session.
	bucketSessions = []byte("sessions")
	// bucketOpen: PSID → nothing, for conversations with an open session.
	bucketOpen = []byte("open_sessions")
	// bucketMeta: "schema" → schema version.
	bucketMeta = []byte("meta")
)

var allBuckets = [][]byte{bucketSeen, bucketInbox, bucketToXMPP, bucketToFacebook,
	bucketLedger, bucketLedgerRef, bucketConversations, bucketSessions, bucketOpen, bucketMeta}

// schemaVersion is stored in the meta bucket; a later version migrates.
// An askbridge refuses a store of a newer schema than its own, so that
// going back to an older release cannot misread newer records.
//
//   - 1: every value JSON.
//   - 2: sessions written in a binary encoding; JSON sessions written by
//     schema 1 are still read as they are, and rewritten when they change.
//   - 3: session records version 2, with reply outcome counts (an older
//     askbridge could not read them).
//   - 4: inbox, outbox and held-message values sealed with the queue keys
//     (see sealed.go); plain JSON values are still read.
const schemaVersion = 4

// ErrBusy means a compaction was put off because a backup is running.
var ErrBusy = errors.New("bridge: store busy with a backup; compaction put off")

// ErrStoreLocked means another process (usually the running daemon) holds
// the store file.
var ErrStoreLocked = errors.New("store is in use by another askbridge process")

// Store is the BoltDB file that holds all of the bridge's state. Every
// transaction passes a gate that Compact closes while it rewrites the file.
type Store struct {
	gate  sync.RWMutex
	group boltgroup.Group
	db    *bolt.DB
	path  string
	// keys seal the values that carry message text; see sealed.go.
	keys *keyRing
	// backups counts copies in progress; Compact waits for none.
	backups atomic.Int32
}

// StorePath is where the store lives inside the state directory.
func StorePath(stateDir string) string {
	return filepath.Join(stateDir, "askbridge.db")
}

// OpenStore opens (creating if needed) the store in stateDir. It waits at
// most lockWait for another process to release the file.
func OpenStore(stateDir string, lockWait time.Duration) (*Store, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("bridge: creating state dir: %w", err)
	}
	path := StorePath(stateDir)
	db, err := openBolt(path, lockWait)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get([]byte("schema")); v != nil && int(binary.BigEndian.Uint64(v)) > schemaVersion {
			return fmt.Errorf("store schema %d is newer than this askbridge (%d)", binary.BigEndian.Uint64(v), schemaVersion)
		}
		return meta.Put([]byte("schema"), u64(schemaVersion))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bridge: preparing %s: %w", path, err)
	}
	keys, err := openKeyRing(stateDir, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	removeBackupLeftovers(path)
	rings.Store(db, keys)
	return &Store{db: db, path: path, keys: keys}, nil
}

func openBolt(path string, lockWait time.Duration) (*bolt.DB, error) {
	// A large initial mapping (address space, not memory) spares the
	// remaps for which a write would wait on long read transactions such
	// as a backup being streamed.
	//
	// The free-page list is written at every commit (bbolt's default), so
	// that opening even a large store is instant; rebuilding it at open
	// instead (NoFreelistSync) took 0.4–0.5 s on a store of 1,000,000
	// ledger records. A long list is avoided instead: a purge that frees
	// many pages asks for a compaction (see compactAfterRefs).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, InitialMmapSize: 1 << 30})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("bridge: opening %s: %w", path, ErrStoreLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: opening %s: %w", path, err)
	}
	return db, nil
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.db.Update(fn)
}

func (s *Store) view(fn func(*bolt.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.db.View(fn)
}

// batch is update for concurrent callers on the message path: their
// transactions share commits (see boltgroup). fn may run more than once.
func (s *Store) batch(fn func(*bolt.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.group.Do(s.db, fn)
}

// Compact rewrites the store into a fresh file holding only live data and
// replaces the old file with it. Deleted records (a forgotten patron's
// PSID, purged transcripts) leave no bytes behind in freed pages, and the
// file shrinks. Transactions wait while it runs.
//
// It returns ErrBusy, doing nothing, while a backup is being written: a
// slow backup must not hold every transaction up behind the compaction.
func (s *Store) Compact() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.backups.Load() > 0 {
		return ErrBusy
	}
	tmp := s.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("bridge: compacting: %w", err)
	}
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("bridge: compacting: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("bridge: compacting: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bridge: compacting: %w", err)
	}
	rings.Delete(s.db)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bridge: compacting: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(s.path))
	}
	db, err := openBolt(s.path, time.Second)
	if err != nil {
		return fmt.Errorf("bridge: reopening after compaction: %w", err)
	}
	rings.Store(db, s.keys)
	s.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return fmt.Errorf("bridge: compacting: %w", renameErr)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close closes the store file.
func (s *Store) Close() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	rings.Delete(s.db)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bridge: closing store: %w", err)
	}
	return nil
}

// Path is the store file's path.
func (s *Store) Path() string { return s.path }

// Writable checks that a write transaction commits.
func (s *Store) Writable() error {
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte("probe"), u64(uint64(time.Now().UnixNano())))
	})
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// seqKey returns the bucket's next sequence number as a key.
func seqKey(b *bolt.Bucket) ([]byte, error) {
	n, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	return u64(n), nil
}

// timeKey is a ledger key: the time, then a sequence to keep keys unique.
func timeKey(b *bolt.Bucket, t time.Time) ([]byte, error) {
	n, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], n)
	return k, nil
}
