package bridge

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

// Values that carry message text — inbox events, both outboxes' entries,
// and conversations while they hold messages — are sealed: AES-256-GCM
// under the current queue key (see keyring.go), as
//
//	sealV1 | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag of the JSON
//
// with the first five bytes as additional data. Plain JSON (first byte
// '{'), as releases before schema 4 wrote, is still read, and sealed by the
// next maintenance pass.
const (
	sealV1     byte = 1
	sealHeader      = 5
	sealNonce       = 12
)

// sealedBuckets are the buckets whose values may be sealed.
var sealedBuckets = [][]byte{store.BucketInbox, store.BucketToXMPP, store.BucketToFacebook, store.BucketParkedXMPP, store.BucketConversations}

// rings holds the key ring of each open store, by its BoltDB handle, so
// that code given only a transaction can seal and open values. Store sets
// and clears the entries.
var rings sync.Map // *bolt.DB → *keyRing

func ringOf(tx *bolt.Tx) (*keyRing, error) {
	if r, ok := rings.Load(tx.DB()); ok {
		return r.(*keyRing), nil
	}
	return nil, errors.New("no queue keys for this store")
}

// sealJSON encodes v as JSON and seals it with the store's current key.
func sealJSON(tx *bolt.Tx, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding entry: %w", err)
	}
	r, err := ringOf(tx)
	if err != nil {
		return nil, fmt.Errorf("sealing entry: %w", err)
	}
	return r.seal(data)
}

// openJSON decodes into v a value written by sealJSON, or plain JSON.
func openJSON(tx *bolt.Tx, data []byte, v any) error {
	plain, err := openValue(tx, data)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// openValue returns the JSON of a stored value, opening it if sealed.
func openValue(tx *bolt.Tx, data []byte) ([]byte, error) {
	if !isSealed(data) {
		return data, nil
	}
	r, err := ringOf(tx)
	if err != nil {
		return nil, fmt.Errorf("opening entry: %w", err)
	}
	return r.open(data)
}

// putSealed stores v, sealed, at k.
func putSealed(b *bolt.Bucket, k []byte, v any) error {
	data, err := sealJSON(b.Tx(), v)
	if err != nil {
		return err
	}
	if err := b.Put(k, data); err != nil {
		return fmt.Errorf("writing entry: %w", err)
	}
	return nil
}

func isSealed(v []byte) bool { return len(v) > 0 && v[0] == sealV1 }

// sealedWith returns the id of the key that sealed v; ok is false for a
// value that is not sealed.
func sealedWith(v []byte) (id uint32, ok bool) {
	if !isSealed(v) || len(v) < sealHeader {
		return 0, false
	}
	return binary.BigEndian.Uint32(v[1:sealHeader]), true
}

// errKeyGone is the error of a value sealed with a key the ring does not
// have. The store refuses to open without the keys its values need, so it
// means a mistake: the queues keep such an entry (and log it) rather than
// drop a message that the right key file would make readable.
var errKeyGone = errors.New("its key is not in the queue key file")

// seal seals plain with the current key.
func (r *keyRing) seal(plain []byte) ([]byte, error) {
	k := r.current()
	out := make([]byte, sealHeader+sealNonce, sealHeader+sealNonce+len(plain)+k.aead.Overhead())
	out[0] = sealV1
	binary.BigEndian.PutUint32(out[1:sealHeader], k.ID)
	if _, err := rand.Read(out[sealHeader:]); err != nil {
		return nil, fmt.Errorf("sealing entry: %w", err)
	}
	return k.aead.Seal(out, out[sealHeader:], plain, out[:sealHeader]), nil
}

// open returns the plaintext of a sealed value.
func (r *keyRing) open(v []byte) ([]byte, error) {
	id, ok := sealedWith(v)
	if !ok || len(v) < sealHeader+sealNonce {
		return nil, errors.New("opening entry: truncated")
	}
	k := r.key(id)
	if k == nil {
		return nil, fmt.Errorf("opening entry: sealed with key %d: %w", id, errKeyGone)
	}
	plain, err := k.aead.Open(nil, v[sealHeader:sealHeader+sealNonce], v[sealHeader+sealNonce:], v[:sealHeader])
	if err != nil {
		return nil, fmt.Errorf("opening entry sealed with key %d: %w", id, err)
	}
	return plain, nil
}

// wantsSeal reports whether a plain value of the bucket carries message
// text and is to be sealed: every entry of the inbox and outboxes, and a
// conversation while it holds messages.
func wantsSeal(bucket, plain []byte) bool {
	if bytes.Equal(bucket, store.BucketConversations) {
		return bytes.Contains(plain, []byte(`"held":`))
	}
	return true
}

// sealedKeys returns, from one read transaction, how many values of the
// sealed buckets each key sealed.
func sealedKeys(tx *bolt.Tx) (map[uint32]int, error) {
	used := map[uint32]int{}
	for _, name := range sealedBuckets {
		err := tx.Bucket(name).ForEach(func(_, v []byte) error {
			if id, ok := sealedWith(v); ok {
				used[id]++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return used, nil
}

// openKeyRing loads the queue keys of the store db in stateDir, creating
// the key file when there is none and nothing in the store is sealed. It
// refuses a store holding sealed values whose keys it lacks: they could
// not be read, and would be lost.
func openKeyRing(stateDir string, db *bolt.DB) (*keyRing, error) {
	path := QueueKeysPath(stateDir)
	var used map[uint32]int
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		used, err = sealedKeys(tx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("bridge: checking sealed entries: %w", err)
	}
	sealed := 0
	for _, n := range used {
		sealed += n
	}
	r, err := loadKeyRing(path)
	if keyRingMissing(err) {
		if sealed > 0 {
			return nil, fmt.Errorf("bridge: %s is missing, but the store holds %d queued entries sealed with its keys: "+
				"put the key file back, or restore a backup made with askbridge backup: %w", path, sealed, ErrQueueKeysMissing)
		}
		return createKeyRing(path, time.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	lacking := 0
	for id, n := range used {
		if r.key(id) == nil {
			lacking += n
		}
	}
	if lacking > 0 {
		return nil, fmt.Errorf("bridge: the store holds %d queued entries sealed with keys %s does not have "+
			"(was one of the two files replaced by an older copy?): %w", lacking, path, ErrQueueKeysMissing)
	}
	return r, nil
}
