package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// queueKeysFile, in the state directory, holds the keys that seal queued
// message text in the store (see sealed.go). Each maintenance pass starts
// a new key, seals every queued entry again with it, and drops the keys no
// entry uses any more: the text of a delivered message, left in the
// store's freed pages or in a copy of the file, can then no longer be
// read.
const queueKeysFile = "queue.keys"

// ErrQueueKeysMissing means the key file is gone while the store holds
// entries sealed with its keys: they could not be read.
var ErrQueueKeysMissing = errors.New("queue key file missing")

// ringKey is one AES-256-GCM key of the ring.
type ringKey struct {
	ID      uint32    `json:"id"`
	Created time.Time `json:"created"`
	Key     []byte    `json:"key"`
	aead    cipher.AEAD
}

// keyRingFile is the key file's content, oldest key first; the last key
// is the current one.
type keyRingFile struct {
	Version int        `json:"version"`
	Keys    []*ringKey `json:"keys"`
}

// KeyRing holds the queue keys in memory and writes every change to the
// key file before it takes effect.
type KeyRing struct {
	path string
	// change serializes rotations and drops (and their file writes).
	change sync.Mutex
	mu     sync.RWMutex
	keys   []*ringKey // oldest first; the last is current
}

// QueueKeysPath is where the queue key file lives inside the state
// directory.
func QueueKeysPath(stateDir string) string {
	return filepath.Join(stateDir, queueKeysFile)
}

// LoadKeyRing reads the key file at path; the error wraps fs.ErrNotExist
// when there is none.
func LoadKeyRing(path string) (*KeyRing, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading queue keys: %w", err)
	}
	var f keyRingFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading queue keys %s: %w", path, err)
	}
	if f.Version != 1 || len(f.Keys) == 0 {
		return nil, fmt.Errorf("reading queue keys %s: version %d with %d keys is not a key file of this askbridge", path, f.Version, len(f.Keys))
	}
	for _, k := range f.Keys {
		if err := k.init(); err != nil {
			return nil, fmt.Errorf("reading queue keys %s: key %d: %w", path, k.ID, err)
		}
	}
	return &KeyRing{path: path, keys: f.Keys}, nil
}

// CreateKeyRing makes a key file with one new key.
func CreateKeyRing(path string, now time.Time) (*KeyRing, error) {
	r := &KeyRing{path: path}
	if _, err := r.Rotate(now); err != nil {
		return nil, err
	}
	return r, nil
}

func (k *ringKey) init() error {
	if len(k.Key) != 32 {
		return fmt.Errorf("%d bytes, want 32", len(k.Key))
	}
	block, err := aes.NewCipher(k.Key)
	if err != nil {
		return err
	}
	k.aead, err = cipher.NewGCM(block)
	return err
}

// current returns the key that seals new values.
// CurrentID is the id of the current key, the one Seal uses.
func (r *KeyRing) CurrentID() uint32 { return r.current().ID }

// Has reports whether the ring holds the key of id.
func (r *KeyRing) Has(id uint32) bool { return r.key(id) != nil }

func (r *KeyRing) current() *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[len(r.keys)-1]
}

// key returns the key with the id, or nil once it was dropped.
func (r *KeyRing) key(id uint32) *ringKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// ids lists the ids of the keys, oldest first.
func (r *KeyRing) IDs() []uint32 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]uint32, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID
	}
	return ids
}

// rotate makes a new key the current one, once it is in the key file, and
// returns its id.
func (r *KeyRing) Rotate(now time.Time) (uint32, error) {
	r.change.Lock()
	defer r.change.Unlock()
	k := &ringKey{Created: now.UTC(), Key: make([]byte, 32)}
	if _, err := rand.Read(k.Key); err != nil {
		return 0, fmt.Errorf("store: making a queue key: %w", err)
	}
	for k.ID == 0 || r.key(k.ID) != nil {
		var id [4]byte
		if _, err := rand.Read(id[:]); err != nil {
			return 0, fmt.Errorf("store: making a queue key: %w", err)
		}
		k.ID = binary.BigEndian.Uint32(id[:])
	}
	if err := k.init(); err != nil {
		return 0, fmt.Errorf("store: making a queue key: %w", err)
	}
	r.mu.RLock()
	keys := append(slices.Clone(r.keys), k)
	r.mu.RUnlock()
	if err := r.write(keys); err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
	return k.ID, nil
}

// drop removes the keys that are neither current nor in keep, from memory
// and then from the key file, and returns how many it removed.
func (r *KeyRing) Drop(keep map[uint32]bool) (int, error) {
	r.change.Lock()
	defer r.change.Unlock()
	r.mu.RLock()
	cur := r.keys[len(r.keys)-1]
	var kept []*ringKey
	for _, k := range r.keys {
		if k == cur || keep[k.ID] {
			kept = append(kept, k)
		}
	}
	n := len(r.keys) - len(kept)
	r.mu.RUnlock()
	if n == 0 {
		return 0, nil
	}
	r.mu.Lock()
	r.keys = kept
	r.mu.Unlock()
	return n, r.write(kept)
}

// write replaces the key file atomically: a temporary file beside it,
// synced, renamed over it, and the directory synced.
func (r *KeyRing) write(keys []*ringKey) error {
	data, err := json.Marshal(keyRingFile{Version: 1, Keys: keys})
	if err != nil {
		return fmt.Errorf("store: encoding queue keys: %w", err)
	}
	if err := writeFileAtomic(r.path, data); err != nil {
		return fmt.Errorf("store: writing queue keys: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to path (mode 0600) so that path holds
// either its old content or the new one, also after a crash.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// keyRingMissing reports whether err says there is no key file.
func keyRingMissing(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// SyncDir flushes dir's entries (a file created or renamed in it) to
// disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
