package store

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
)

// Values that carry message text — inbox events, both outboxes' entries,
// and conversations while they hold messages — are sealed: AES-256-GCM
// under the current queue key (see keyring.go), as
//
//	sealV1 | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag of the record
//
// with the first five bytes as additional data; the record is binary
// (entry_codec.go) for conversations and outbox entries, JSON for inbox
// events and parked entries. Plain values (JSON, first byte '{', as
// releases before schema 4 wrote; binary, first byte 0x02, in a store
// restored from a backup) are still read, and sealed by the next
// maintenance pass.
const (
	sealV1     byte = 1
	sealHeader      = 5
	sealNonce       = 12
)

// SealedBuckets are the buckets whose values may be sealed.
var SealedBuckets = [][]byte{BucketInbox, BucketToXMPP, BucketToFacebook, BucketParkedXMPP, BucketConversations}

// rings holds the key ring of each open store, by its BoltDB handle, so
// that code given only a transaction can seal and open values. Store sets
// and clears the entries.
var rings sync.Map // *bolt.DB → *KeyRing

// Attach makes ring the key ring of the open store db, for the sealing
// and opening of values given one of its transactions.
func Attach(db *bolt.DB, ring *KeyRing) { rings.Store(db, ring) }

// Detach forgets the key ring of db, closed or replaced.
func Detach(db *bolt.DB) { rings.Delete(db) }

// SealOverhead is how many bytes sealing adds to a value: header, nonce
// and authentication tag.
const SealOverhead = sealHeader + sealNonce + 16

func ringOf(tx *bolt.Tx) (*KeyRing, error) {
	if r, ok := rings.Load(tx.DB()); ok {
		return r.(*KeyRing), nil
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
	return r.Seal(data)
}

// sealBytes seals plain with the current key of tx's store.
func sealBytes(tx *bolt.Tx, plain []byte) ([]byte, error) {
	r, err := ringOf(tx)
	if err != nil {
		return nil, fmt.Errorf("sealing entry: %w", err)
	}
	return r.Seal(plain)
}

// putSealedBytes stores plain, sealed, at k.
func putSealedBytes(b *bolt.Bucket, k, plain []byte) error {
	data, err := sealBytes(b.Tx(), plain)
	if err != nil {
		return err
	}
	if err := b.Put(k, data); err != nil {
		return fmt.Errorf("writing entry: %w", err)
	}
	return nil
}

// OpenJSON decodes into v a value written by PutSealed, or plain JSON.
func OpenJSON(tx *bolt.Tx, data []byte, v any) error {
	plain, err := OpenValue(tx, data)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// OpenValue returns the record of a stored value, opening it if sealed.
func OpenValue(tx *bolt.Tx, data []byte) ([]byte, error) {
	if !IsSealed(data) {
		return data, nil
	}
	r, err := ringOf(tx)
	if err != nil {
		return nil, fmt.Errorf("opening entry: %w", err)
	}
	return r.Open(data)
}

// PutSealed stores v, sealed, at k.
func PutSealed(b *bolt.Bucket, k []byte, v any) error {
	data, err := sealJSON(b.Tx(), v)
	if err != nil {
		return err
	}
	if err := b.Put(k, data); err != nil {
		return fmt.Errorf("writing entry: %w", err)
	}
	return nil
}

func IsSealed(v []byte) bool { return len(v) > 0 && v[0] == sealV1 }

// SealedWith returns the id of the key that sealed v; ok is false for a
// value that is not sealed.
func SealedWith(v []byte) (id uint32, ok bool) {
	if !IsSealed(v) || len(v) < sealHeader {
		return 0, false
	}
	return binary.BigEndian.Uint32(v[1:sealHeader]), true
}

// ErrKeyGone is the error of a value sealed with a key the ring does not
// have. The store refuses to open without the keys its values need, so it
// means a mistake: the queues keep such an entry (and log it) rather than
// drop a message that the right key file would make readable.
var ErrKeyGone = errors.New("its key is not in the queue key file")

// seal seals plain with the current key.
func (r *KeyRing) Seal(plain []byte) ([]byte, error) {
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
func (r *KeyRing) Open(v []byte) ([]byte, error) {
	id, ok := SealedWith(v)
	if !ok || len(v) < sealHeader+sealNonce {
		return nil, errors.New("opening entry: truncated")
	}
	k := r.key(id)
	if k == nil {
		return nil, fmt.Errorf("opening entry: sealed with key %d: %w", id, ErrKeyGone)
	}
	plain, err := k.aead.Open(nil, v[sealHeader:sealHeader+sealNonce], v[sealHeader+sealNonce:], v[:sealHeader])
	if err != nil {
		return nil, fmt.Errorf("opening entry sealed with key %d: %w", id, err)
	}
	return plain, nil
}

// WantsSeal reports whether a plain value of the bucket carries message
// text and is to be sealed: every entry of the inbox and outboxes, and a
// conversation while it holds messages.
func WantsSeal(bucket, plain []byte) bool {
	if !bytes.Equal(bucket, BucketConversations) {
		return true
	}
	if len(plain) > 0 && plain[0] == '{' {
		return bytes.Contains(plain, []byte(`"held":`))
	}
	// The bridge writes a binary conversation plain only when it holds no
	// messages, but a backup holds every value opened (Store.Backup), and
	// a store restored from it has held messages in plain records.
	var c Conversation
	return DecodeConversation(plain, &c) == nil && len(c.Held) > 0
}

// SealedKeys returns, from one read transaction, how many values of the
// sealed buckets each key sealed.
func SealedKeys(tx *bolt.Tx) (map[uint32]int, error) {
	used := map[uint32]int{}
	for _, name := range SealedBuckets {
		err := tx.Bucket(name).ForEach(func(_, v []byte) error {
			if id, ok := SealedWith(v); ok {
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

// OpenKeyRing loads the queue keys of the store db in stateDir, creating
// the key file when there is none and nothing in the store is sealed. It
// refuses a store holding sealed values whose keys it lacks: they could
// not be read, and would be lost.
func OpenKeyRing(stateDir string, db *bolt.DB) (*KeyRing, error) {
	path := QueueKeysPath(stateDir)
	var used map[uint32]int
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		used, err = SealedKeys(tx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("store: checking sealed entries: %w", err)
	}
	sealed := 0
	for _, n := range used {
		sealed += n
	}
	r, err := LoadKeyRing(path)
	if keyRingMissing(err) {
		if sealed > 0 {
			return nil, fmt.Errorf("store: %s is missing, but the store holds %d queued entries sealed with its keys: "+
				"put the key file back, or restore a backup made with askbridge backup: %w", path, sealed, ErrQueueKeysMissing)
		}
		return CreateKeyRing(path, time.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	lacking := 0
	for id, n := range used {
		if r.key(id) == nil {
			lacking += n
		}
	}
	if lacking > 0 {
		return nil, fmt.Errorf("store: the store holds %d queued entries sealed with keys %s does not have "+
			"(was one of the two files replaced by an older copy?): %w", lacking, path, ErrQueueKeysMissing)
	}
	return r, nil
}
