package bridge

import (
	"fmt"

	"github.com/askbridge/askbridge/bridge/store"
)

// KeyRotation tells what a rotation of the queue keys did.
type KeyRotation struct {
	// Current is the id of the new key.
	Current uint32
	// Resealed counts values sealed again with it (or, written in plain
	// JSON by an older release, sealed for the first time).
	Resealed int
	// Dropped counts the keys no value used any more, now gone from the
	// key file; Kept counts the older keys still in use (by values written
	// while the pass ran, which the next pass seals again).
	Dropped, Kept int
}

// rotateKeys starts a new queue key, seals every value of the sealed
// buckets sealed with an older key (or not at all) again with it, in small
// transactions, and then drops the keys no value uses: the text of
// messages delivered before the pass, wherever a copy of it lies (freed
// pages, copies of the file), can no longer be read.
func (p *maintPass) rotateKeys() (KeyRotation, error) {
	var rot KeyRotation
	ring := p.b.store.keys
	cur, err := ring.Rotate(p.b.now())
	if err != nil {
		return rot, err
	}
	rot.Current = cur
	for _, name := range store.SealedBuckets {
		n, err := p.reseal(name, ring, cur)
		rot.Resealed += n
		if err != nil {
			return rot, fmt.Errorf("bridge: sealing %s again: %w", name, err)
		}
	}
	// Values are sealed inside write transactions, with the key current
	// at that moment. Once this empty one has committed, every write
	// transaction that may have used an older key has committed too, so
	// the read that follows sees all the values older keys sealed.
	if _, err := p.update(func(*store.Tx) error { return nil }); err != nil {
		return rot, fmt.Errorf("bridge: rotating queue keys: %w", err)
	}
	var used map[uint32]int
	err = p.b.store.view(func(tx *store.Tx) error {
		var err error
		used, err = store.SealedKeys(tx.Bolt())
		return err
	})
	if err != nil {
		return rot, fmt.Errorf("bridge: rotating queue keys: %w", err)
	}
	keep := map[uint32]bool{}
	for id := range used {
		keep[id] = true
	}
	// A backup opens its copy's sealed values after taking its
	// snapshot: the keys it may need stay until it has.
	p.b.store.copying.Lock()
	rot.Dropped, err = ring.Drop(keep)
	p.b.store.copying.Unlock()
	rot.Kept = len(ring.IDs()) - 1
	return rot, err
}

// reseal seals again with key cur the values of the bucket sealed with
// another key, and seals the plain ones that carry message text. Sealing
// a plain value leaves its text in a freed page, so it asks for a
// compaction.
func (p *maintPass) reseal(bucket []byte, ring *store.KeyRing, cur uint32) (int, error) {
	stale := func(v []byte) bool {
		if id, ok := store.SealedWith(v); ok {
			return id != cur
		}
		return store.WantsSeal(bucket, v)
	}
	plain := 0
	return p.run(&sweep{
		bucket: bucket,
		pick:   func(_ *store.Tx, _, v []byte) (bool, error) { return stale(v), nil },
		apply: func(tx *store.Tx, k []byte) (bool, error) {
			b := tx.Bolt().Bucket(bucket)
			v := b.Get(k)
			if v == nil || !stale(v) {
				return false, nil
			}
			if !store.IsSealed(v) {
				plain++
			}
			data, err := store.OpenValue(tx.Bolt(), v)
			if err != nil {
				return false, fmt.Errorf("%x: %w", k, err)
			}
			sealed, err := ring.Seal(data)
			if err != nil {
				return false, err
			}
			if err := b.Put(k, sealed); err != nil {
				return false, err
			}
			return true, nil
		},
		commit: func(tx *store.Tx, _ int, _ []byte) error {
			n := plain
			plain = 0
			return noteRemoval(tx, n, nil)
		},
	})
}
