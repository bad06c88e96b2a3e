package bridge

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

// backupSuffix names the temporary copies Backup makes beside the store.
const backupSuffix = ".backup-"

// Backup writes a consistent copy of the whole store to w: a BoltDB file
// as of one moment, which a restore puts in place of askbridge.db.
//
// The copy holds live data only: it is made with bolt.Compact, which
// leaves out the store's freed pages (where the text of delivered
// messages may lie), in a temporary file beside the store. The values
// sealed with the queue keys are then opened in the copy, so that the
// messages queued at that moment are restored without the key file, which
// stays behind and is rotated (see store/keyring.go).
//
// It holds no lock that other transactions wait on: the copy is read in
// one read transaction, and w gets the bytes after it ended, however
// slowly it takes them. Compactions are put off while the copy is made.
func (s *Store) Backup(w io.Writer) (int64, error) {
	s.gate.RLock()
	s.backups.Add(1)
	db := s.db
	s.gate.RUnlock()
	s.copying.RLock()
	tmp, err := s.backupCopy(db)
	s.copying.RUnlock()
	s.backups.Add(-1)
	if tmp != "" {
		defer os.Remove(tmp)
	}
	if err != nil {
		return 0, fmt.Errorf("bridge: backup: %w", err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return 0, fmt.Errorf("bridge: backup: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("bridge: backup: %w", err)
	}
	return n, nil
}

// backupCopy compacts db into a new file beside the store, opens the
// sealed values there, and returns the file's path.
func (s *Store) backupCopy(db *bolt.DB) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+backupSuffix+"*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		return tmp, err
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return tmp, err
	}
	if err := bolt.Compact(dst, db, 64<<20); err != nil {
		dst.Close()
		return tmp, err
	}
	if err := dst.Update(func(tx *bolt.Tx) error { return unsealAll(tx, s.keys) }); err != nil {
		dst.Close()
		return tmp, err
	}
	return tmp, dst.Close()
}

// unsealAll replaces every sealed value with its record, in the clear.
func unsealAll(tx *bolt.Tx, keys *store.KeyRing) error {
	for _, name := range store.SealedBuckets {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		var ks, vs [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if !store.IsSealed(v) {
				return nil
			}
			plain, err := keys.Open(v)
			if err != nil {
				return fmt.Errorf("%s %x: %w", name, k, err)
			}
			ks, vs = append(ks, bytes.Clone(k)), append(vs, plain)
			return nil
		})
		if err != nil {
			return err
		}
		for i := range ks {
			if err := b.Put(ks[i], vs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBackupLeftovers removes the temporary copies of backups cut short
// by a crash.
func removeBackupLeftovers(storePath string) {
	old, _ := filepath.Glob(storePath + backupSuffix + "*")
	for _, p := range old {
		_ = os.Remove(p)
	}
}
