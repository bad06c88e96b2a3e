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
	"go.uber.org/zap"

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
	// bucketParkedXMPP: the XMPP outbox key of an entry the bridge gave up
	// writing → parkedEntry (see deadletter.go).
	bucketParkedXMPP = []byte("dead_xmpp")
	// bucketMeta: "schema" → schema version.
	bucketMeta = []byte("meta")
)

var allBuckets = [][]byte{bucketSeen, bucketInbox, bucketToXMPP, bucketToFacebook,
	bucketLedger, bucketLedgerRef, bucketConversations, bucketSessions, bucketOpen, bucketParkedXMPP, bucketMeta}

// schemaVersion is stored in the meta bucket; a later version migrates.
// An askbridge refuses a store of a newer schema than its own, so that
// going back to an older release cannot misread newer records.
//
//   - 1: every value JSON.
//   - 2: sessions written in a binary encoding; JSON sessions written by
//     schema 1 are rewritten by maintenance (session_migrate.go), and
//     read with encoding/json until then.
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
	// copying is held (read-locked) by each backup from its snapshot to
	// the opening of its sealed values, so that no queue key is dropped
	// meanwhile.
	copying sync.RWMutex
	// fresh: the store held no record when opened.
	fresh bool
	// health is the outcome of the last commit.
	health commitHealth
}

// StorePath is where the store lives inside the state directory.
func StorePath(stateDir string) string {
	return filepath.Join(stateDir, "askbridge.db")
}

// OpenStore opens (creating if needed) the store in stateDir, with the
// checks every open makes (see OpenStoreWith). It waits at most lockWait
// for another process to release the file.
func OpenStore(stateDir string, lockWait time.Duration) (*Store, error) {
	return OpenStoreWith(stateDir, StoreOptions{LockWait: lockWait})
}

// StoreOptions tune OpenStoreWith.
type StoreOptions struct {
	// LockWait is how long to wait for another process to release the
	// file.
	LockWait time.Duration
	// Verify reads every record and runs bbolt's consistency check before
	// the store is used: about a second per million ledger records.
	// Without it only the cheap checks run, and the full one only when
	// they find something doubtful (a header page not valid).
	Verify bool
	// AllowNew lets an empty store be made although pseudonym.key shows
	// that one was kept in stateDir (askbridge new-store).
	AllowNew bool
	// Log, if set, is told about full checks.
	Log *zap.Logger
}

// OpenStoreWith opens (creating if needed) the store in stateDir. A store
// that cannot be trusted is refused with a *DamagedError, before anything
// is written to it:
//
//   - a file cut short, with no valid header page, or whose free-page
//     list or root page is not what its header says (read from the
//     file, not through bbolt's memory map);
//   - buckets that start outside the store or on pages of the wrong kind,
//     a store with buckets but no schema record;
//   - any fault or panic of bbolt's while it opens and reads the store;
//   - with o.Verify, or when a header page is not valid, whatever the
//     full check finds (see verifyDB);
//   - no store, or an empty file, where pseudonym.key shows one was kept,
//     unless o.AllowNew.
func OpenStoreWith(stateDir string, o StoreOptions) (*Store, error) {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("bridge: creating state dir: %w", err)
	}
	path := StorePath(stateDir)
	in, err := inspectStoreFile(path)
	if err != nil {
		return nil, err
	}
	if (in.absent || in.empty) && !o.AllowNew {
		if _, err := os.Stat(filepath.Join(stateDir, pseudonymKeyFile)); err == nil {
			problem := "there is no file"
			if in.empty {
				problem = "the file is empty (0 bytes)"
			}
			return nil, &DamagedError{Path: path, Lost: true,
				Problem: problem + ", but " + pseudonymKeyFile + " beside it shows that a store was kept here"}
		}
	}
	var db *bolt.DB
	err = guarded(path, "opening it", func() error {
		var err error
		db, err = openBolt(path, o.LockWait)
		return err
	})
	if err != nil {
		return nil, err
	}
	var sh storeShape
	prepared := true
	err = guarded(path, "reading its buckets", func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			sh, err = checkShape(tx, path)
			for _, name := range allBuckets {
				prepared = prepared && tx.Bucket(name) != nil
			}
			return err
		})
	})
	if err == nil && (o.Verify || in.doubt != "") {
		if in.doubt != "" {
			log.Warn("store: running the full check", zap.String("store", path), zap.String("why", in.doubt))
		}
		var rep VerifyReport
		rep, err = verifyDB(db, path)
		if err == nil {
			log.Info("store: full check passed", zap.String("store", path), zap.Int("records", rep.Records),
				zap.Int("pages", rep.Pages), zap.Duration("took", rep.Took))
		}
	}
	if err == nil && sh.schema > schemaVersion {
		err = fmt.Errorf("bridge: preparing %s: store schema %d is newer than this askbridge (%d)", path, sh.schema, schemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	// Opening a store that is ready writes nothing to it.
	if !prepared || sh.schema != schemaVersion {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(schemaVersion))
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("bridge: preparing %s: %w", path, err)
		}
	}
	keys, err := openKeyRing(stateDir, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	removeBackupLeftovers(path)
	rings.Store(db, keys)
	return &Store{db: db, path: path, keys: keys, fresh: !sh.hasData}, nil
}

// Fresh reports whether the store held no record (no message, session or
// conversation) when it was opened: a new install.
func (s *Store) Fresh() bool { return s.fresh }

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
	wrapped, outcome := s.tracked(fn)
	err := s.db.Update(wrapped)
	outcome(err)
	return err
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
	wrapped, outcome := s.tracked(fn)
	err := s.group.Do(s.db, wrapped)
	outcome(err)
	return err
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

// Writable checks that a write transaction commits. Its success does not
// clear CommitError.
func (s *Store) Writable() error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.db.Update(func(tx *bolt.Tx) error {
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
