package bridge

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

func setSchema(t *testing.T, dir string, v uint64) {
	t.Helper()
	db, err := bolt.Open(StorePath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		return tx.Bolt().Bucket(store.BucketMeta).Put([]byte("schema"), store.U64(v))
	}); err != nil {
		t.Fatal(err)
	}
}

func schemaOf(t *testing.T, st *Store) uint64 {
	t.Helper()
	var v uint64
	if err := st.view(func(tx *store.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bolt().Bucket(store.BucketMeta).Get([]byte("schema")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A store of an older schema is opened and marked with the current one; a
// store of a newer schema (written by a later release) is refused, so that
// a downgrade cannot misread its records.
func TestStoreSchema(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	setSchema(t, dir, 1)
	st, err = OpenStore(dir, time.Second)
	if err != nil {
		t.Fatalf("schema 1 store: %v", err)
	}
	if v := schemaOf(t, st); v != store.SchemaVersion {
		t.Errorf("schema %d after opening, want %d", v, store.SchemaVersion)
	}
	st.Close()

	setSchema(t, dir, store.SchemaVersion+1)
	_, err = OpenStore(dir, time.Second)
	if err == nil || !strings.Contains(err.Error(), "newer than this askbridge") {
		t.Fatalf("newer schema: %v", err)
	}
}
