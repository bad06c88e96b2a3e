package bridge

import (
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

	"github.com/askbridge/askbridge/bridge/store"
)

// ErrBusy means a compaction was put off because a backup is running.
var ErrBusy = errors.New("bridge: store busy with a backup; compaction put off")

// ErrStoreLocked means another process (usually the running daemon) holds
// the store file.
var ErrStoreLocked = errors.New("store is in use by another askbridge process")

// Store is the BoltDB file that holds all of the bridge's state.
//
// Locks, always taken in this order: compacting, spillMu, gate, swap. A
// write transaction holds gate and swap read-locked, a read transaction
// swap only; Compact holds gate while it copies the file and replaces it
// (writes wait, reads go on, webhook events go to the spill: see
// spill.go), and swap only while it renames the copy into place and
// opens it. copying is apart: see its comment.
type Store struct {
	gate  sync.RWMutex
	swap  sync.RWMutex
	group boltgroup.Group
	db    *bolt.DB
	path  string
	// keys seal the values that carry message text; see store/sealed.go.
	keys *store.KeyRing
	// backups counts copies in progress; Compact waits for none.
	backups atomic.Int32
	// copying is held (read-locked) by each backup from its snapshot to
	// the opening of its sealed values, and by a compaction's spill until
	// its events are in the store, so that no queue key is dropped
	// meanwhile.
	copying sync.RWMutex
	// compacting serializes compactions and the moves of spilled events
	// into the store.
	compacting sync.Mutex
	// spill, while not nil, takes webhook events instead of the store
	// (see spill.go); spillMu guards it, and each Accept writing to the
	// spill holds it read-locked.
	spillMu sync.RWMutex
	spill   *spillBox
	// hook, if set (by tests), is called at each stage of a compaction.
	hook func(compactStage)
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
			for _, name := range store.Buckets {
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
	if err == nil && sh.schema > store.SchemaVersion {
		err = fmt.Errorf("bridge: preparing %s: store schema %d is newer than this askbridge (%d)", path, sh.schema, store.SchemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	// Opening a store that is ready writes nothing to it.
	if !prepared || sh.schema != store.SchemaVersion {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range store.Buckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return tx.Bucket(store.BucketMeta).Put([]byte("schema"), store.U64(store.SchemaVersion))
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("bridge: preparing %s: %w", path, err)
		}
	}
	keys, err := store.OpenKeyRing(stateDir, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	removeBackupLeftovers(path)
	_ = os.Remove(path + compactSuffix) // a copy a crash cut short
	_ = os.Remove(path + oldSuffix)     // the old file of a compaction a crash cut short
	store.Attach(db, keys)
	st := &Store{db: db, path: path, keys: keys, fresh: !sh.hasData}
	if err := st.recoverSpill(); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("bridge: the spill %s holds events acknowledged to Facebook that could not be moved into the store "+
			"(leave the file in place, fix the cause and start again): %w", SpillPath(stateDir), err)
	}
	return st, nil
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

func (s *Store) update(fn func(*store.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	s.swap.RLock()
	defer s.swap.RUnlock()
	wrapped, outcome := s.tracked(fn)
	err := s.db.Update(wrapped)
	outcome(err)
	return err
}

func (s *Store) view(fn func(*store.Tx) error) error {
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.db.View(func(tx *bolt.Tx) error { return fn(store.Wrap(tx)) })
}

// batch is update for concurrent callers on the message path: their
// transactions share commits (see boltgroup). fn may run more than once.
func (s *Store) batch(fn func(*store.Tx) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.batchLocked(fn)
}

// batchLocked is batch for a caller holding the gate read-locked.
func (s *Store) batchLocked(fn func(*store.Tx) error) error {
	s.swap.RLock()
	defer s.swap.RUnlock()
	wrapped, outcome := s.tracked(fn)
	err := s.group.Do(s.db, wrapped)
	outcome(err)
	return err
}

// compactSuffix names the copy Compact makes beside the store.
const compactSuffix = ".compact"

// compactStage names the points of a compaction at which a test hook
// runs.
type compactStage int

const (
	// compactCopying: writes are held and the spill takes webhook
	// events; the copy is about to start.
	compactCopying compactStage = iota
	// compactCopied: the copy is complete and synced; the switch to it is
	// about to start.
	compactCopied
	// compactSwitched: the store is the new file and takes writes again;
	// the spill, still taking webhook events, is about to be moved.
	compactSwitched
	// spillMoved: the last spilled events are committed in the store; the
	// spill is about to be removed.
	spillMoved
)

// at runs the test hook, if any.
func (s *Store) at(stage compactStage) {
	if s.hook != nil {
		s.hook(stage)
	}
}

// compactReport tells what one compaction did.
type compactReport struct {
	// Held is how long writes were held: the copy and the switch.
	Held time.Duration
	// Spilled counts the webhook events stored in the spill meanwhile and
	// moved into the inbox since.
	Spilled int
}

// Compact rewrites the store into a fresh file holding only live data and
// replaces the old file with it. Deleted records (a forgotten patron's
// PSID, purged transcripts) leave no bytes behind in freed pages, and the
// file shrinks.
//
// Reads go on while it copies the store; write transactions wait for the
// copy and the switch to the new file, except the webhook's: Accept stores
// events meanwhile in the spill (see spill.go), and Compact moves them
// into the inbox before it returns.
//
// It returns ErrBusy, doing nothing, while a backup is being written: a
// slow backup must not hold every transaction up behind the compaction.
func (s *Store) Compact() error {
	_, err := s.compact()
	return err
}

func (s *Store) compact() (compactReport, error) {
	var rep compactReport
	s.compacting.Lock()
	defer s.compacting.Unlock()
	// Events a failed move left in the spill go first.
	if _, err := s.drainSpill(); err != nil {
		return rep, fmt.Errorf("bridge: compacting: %w", err)
	}
	if s.backups.Load() > 0 {
		return rep, ErrBusy
	}
	if err := s.startSpill(); err != nil {
		return rep, fmt.Errorf("bridge: compacting: %w", err)
	}
	held, old, err := s.rewrite()
	rep.Held = held
	s.at(compactSwitched)
	// Whatever happened, what the spill took goes to the store.
	n, moveErr := s.drainSpill()
	rep.Spilled = n
	if old != nil {
		if cerr := retire(old); cerr != nil && err == nil {
			err = fmt.Errorf("bridge: compacting: closing the old file: %w", cerr)
		}
	}
	if moveErr == nil {
		return rep, err
	}
	if errors.Is(err, ErrBusy) {
		err = nil // the move failed: not something to try again later
	}
	return rep, errors.Join(err, fmt.Errorf("bridge: compacting: %w", moveErr))
}

// rewrite holds writes while it copies the store into a new file and
// switches to it, and returns for how long it held them and the old file,
// still open (see switchTo), if it switched.
func (s *Store) rewrite() (held time.Duration, old *bolt.DB, err error) {
	s.gate.Lock()
	defer s.gate.Unlock()
	t0 := time.Now()
	defer func() { held = time.Since(t0) }()
	if s.backups.Load() > 0 {
		return 0, nil, ErrBusy
	}
	s.at(compactCopying)
	tmp := s.path + compactSuffix
	if err := copyLive(s.db, tmp); err != nil {
		os.Remove(tmp)
		return 0, nil, fmt.Errorf("bridge: compacting: %w", err)
	}
	s.at(compactCopied)
	old, err = s.switchTo(tmp)
	return 0, old, err
}

// switchTo replaces the store file with the copy at tmp and opens it,
// holding swap (no transaction runs) only while it renames the copy into
// place, syncs the directory and opens the copy: a few milliseconds. It
// returns the old file's handle, for retire. The caller holds the gate.
func (s *Store) switchTo(tmp string) (*bolt.DB, error) {
	s.swap.Lock()
	defer s.swap.Unlock()
	old := s.db
	// A second name keeps the old file, so that retire can shrink it bit
	// by bit instead of the rename freeing all its blocks at once.
	_ = os.Remove(s.path + oldSuffix)
	_ = os.Link(s.path, s.path+oldSuffix) // without it, retire frees the blocks at once
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		os.Remove(s.path + oldSuffix)
		return nil, fmt.Errorf("bridge: compacting: %w", err)
	}
	syncErr := store.SyncDir(filepath.Dir(s.path))
	// The old file, open still, keeps its lock and its blocks; the copy
	// is another file.
	db, err := openBolt(s.path, time.Second)
	if err != nil {
		// The old file is no longer the store: nothing may commit to it.
		store.Detach(old)
		return nil, fmt.Errorf("bridge: reopening after compaction: %w", errors.Join(err, old.Close()))
	}
	store.Detach(old)
	store.Attach(db, s.keys)
	s.db = db
	if syncErr != nil {
		return old, fmt.Errorf("bridge: compacting: %w", syncErr)
	}
	return old, nil
}

// oldSuffix names the store's old file, kept by a compaction until it is
// shrunk and removed.
const oldSuffix = ".old"

// Steps in which retire shrinks the old file. Freeing a large file's
// blocks at once (hundreds of megabytes, as closing the last handle of a
// file renamed over does) holds the file system's journal, with every
// commit's sync behind it, for 200–250 ms on the test machine (ext4
// mounted with discard); a few megabytes at a time, each step synced,
// hold it for a few milliseconds.
const (
	retireStep = 4 << 20
	retireRest = 2 * time.Millisecond
)

// retire closes the store's old file, which no transaction uses any more,
// and removes it (see oldSuffix), shrinking it step by step first.
func retire(old *bolt.DB) error {
	path := old.Path() + oldSuffix
	if err := old.Close(); err != nil {
		os.Remove(path)
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no second name: the blocks went with the close
	}
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	for n := fi.Size(); n > 0; {
		n = max(0, n-retireStep)
		if err := f.Truncate(n); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		time.Sleep(retireRest)
	}
	return nil
}

// copyTxSize bounds what one transaction of a compaction's copy writes.
// Each of its commits is synced, so the copy reaches the disk a few
// megabytes at a time: the spill's commits, on the same disk, then wait
// for little. (Synced once at the end, or in commits of 64 MB, the copy of
// a store of 1,000,000 ledger records held spilled acknowledgements up to
// 100–250 ms at each flush; in commits of 8 MB, under 40 ms.)
const copyTxSize = 8 << 20

// copyLive copies the live data of src into a new file at path, in one
// read transaction of src, and syncs it.
func copyLive(src *bolt.DB, path string) error {
	_ = os.Remove(path)
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, InitialMmapSize: 1 << 30})
	if err != nil {
		return err
	}
	if err := bolt.Compact(dst, src, copyTxSize); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// Close closes the store file, and the spill if events wait there (the
// next open moves them into the store).
func (s *Store) Close() error {
	s.compacting.Lock()
	defer s.compacting.Unlock()
	s.spillMu.Lock()
	defer s.spillMu.Unlock()
	var spillErr error
	if box := s.spill; box != nil {
		s.spill = nil
		spillErr = s.closeSpill(box, false)
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	s.swap.Lock()
	defer s.swap.Unlock()
	store.Detach(s.db)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bridge: closing store: %w", errors.Join(err, spillErr))
	}
	if spillErr != nil {
		return fmt.Errorf("bridge: closing store: %w", spillErr)
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
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketMeta).Put([]byte("probe"), store.U64(uint64(time.Now().UnixNano())))
	})
}
