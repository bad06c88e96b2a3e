package bridge

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/stats"
)

// psidRetention is how long after a patron's last message the bridge keeps
// the PSID it needs to reply; afterwards only the pseudonym remains.
const psidRetention = 7 * 24 * time.Hour

// compactEvery bounds how often routine purges rewrite the store file.
const compactEvery = 24 * time.Hour

// Keys in the meta bucket that make purging and compaction survive
// restarts.
var (
	metaNeedsCompaction = []byte("needs_compaction") // something was deleted since the last compaction
	metaLastCompaction  = []byte("last_compaction")  // UnixNano of the last compaction
	metaTranscriptsTo   = []byte("transcripts_to")   // transcripts before this time are purged
)

// refsKeep is how long ledger references (stanza ids, mids) are kept: they
// serve bounces, receipts, edits and reactions, which come soon after.
const refsKeep = 7 * 24 * time.Hour

// PurgeResult tells what a purge removed.
type PurgeResult struct {
	// Conversations whose PSID was removed.
	Conversations int
	// Transcripts whose message text was removed (statistics rows stay).
	Transcripts int
	// Compacted is true when the store file was rewritten, so that no
	// removed bytes linger in freed pages.
	Compacted bool
}

// Purge removes what the privacy rules no longer allow the bridge to keep:
// PSIDs of conversations without an open session whose patron last wrote
// more than 7 days ago (and that have no reply waiting), and message text
// older than privacy.transcript_retention. It then compacts the store if
// anything was removed and force is set or the last compaction is a day
// old.
func (b *Bridge) Purge(force bool) (PurgeResult, error) {
	cfg := b.config()
	now := b.now()
	var res PurgeResult
	err := b.store.update(func(tx *bolt.Tx) error {
		res = PurgeResult{}
		convs := tx.Bucket(bucketConversations)
		var old [][]byte
		err := convs.ForEach(func(k, v []byte) error {
			var c Conversation
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("conversation record: %w", err)
			}
			last := c.LastPatron
			if last.IsZero() {
				last = c.LastActivity
			}
			if c.Session == "" && now.Sub(last) > psidRetention && !hasPending(tx, string(k)) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := convs.Delete(k); err != nil {
				return err
			}
		}
		res.Conversations = len(old)
		n, err := purgeTranscripts(tx, now.Add(-cfg.Privacy.TranscriptRetention), nil)
		if err != nil {
			return err
		}
		res.Transcripts = n
		if _, err := pruneRefs(tx, now.Add(-refsKeep)); err != nil {
			return err
		}
		if res.Conversations+res.Transcripts > 0 {
			return tx.Bucket(bucketMeta).Put(metaNeedsCompaction, []byte{1})
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("bridge: purging: %w", err)
	}
	res.Compacted, err = b.compactIfDue(force, now)
	return res, err
}

// compactIfDue compacts the store when something was deleted since the
// last compaction and a day has passed (or force is set).
func (b *Bridge) compactIfDue(force bool, now time.Time) (bool, error) {
	b.compactMu.Lock()
	defer b.compactMu.Unlock()
	var needed bool
	var last time.Time
	err := b.store.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		needed = meta.Get(metaNeedsCompaction) != nil
		if v := meta.Get(metaLastCompaction); len(v) == 8 {
			last = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil || !needed || (!force && now.Sub(last) < compactEvery) {
		return false, err
	}
	if err := b.store.Compact(); errors.Is(err, ErrBusy) {
		return false, nil // next time
	} else if err != nil {
		return false, err
	}
	err = b.store.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(metaNeedsCompaction); err != nil {
			return err
		}
		return meta.Put(metaLastCompaction, u64(uint64(now.UnixNano())))
	})
	return true, err
}

// pruneRefs drops ledger references to records older than before.
func pruneRefs(tx *bolt.Tx, before time.Time) (int, error) {
	refs := tx.Bucket(bucketLedgerRef)
	end := string(timeBound(before))
	var old [][]byte
	err := refs.ForEach(func(k, v []byte) error {
		if len(v) >= 8 && string(v[:8]) < end {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := refs.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// hasPending reports whether replies to the patron still wait to be sent.
func hasPending(tx *bolt.Tx, psid string) bool {
	prefix := append([]byte(psid), 0)
	k, _ := tx.Bucket(bucketToFacebook).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// purgeTranscripts clears the text of ledger records older than before;
// with guests set, only of those guests' records (at any age).
func purgeTranscripts(tx *bolt.Tx, before time.Time, guests map[string]bool) (int, error) {
	b := tx.Bucket(bucketLedger)
	meta := tx.Bucket(bucketMeta)
	c := b.Cursor()
	end := string(timeBound(before))
	type upd struct {
		k []byte
		r Record
	}
	var todo []upd
	k, v := c.First()
	if from := meta.Get(metaTranscriptsTo); guests == nil && from != nil {
		k, v = c.Seek(from) // older ones were purged before
	}
	for ; k != nil; k, v = c.Next() {
		if guests == nil && string(k[:8]) >= end {
			break
		}
		if !bytes.Contains(v, []byte(`"text":`)) {
			continue // no transcript: no need to decode (transcripts are off by default)
		}
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return 0, fmt.Errorf("ledger record: %w", err)
		}
		if r.Text == "" || (guests != nil && !guests[r.Guest]) {
			continue
		}
		r.Text = ""
		todo = append(todo, upd{append([]byte(nil), k...), r})
	}
	for _, u := range todo {
		if err := putJSON(b, u.k, &u.r); err != nil {
			return 0, err
		}
	}
	if guests == nil {
		if err := meta.Put(metaTranscriptsTo, timeBound(before)); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// Forget carries out a deletion request for a patron: their PSID goes
// from every bucket (conversation, open session, queued messages), their
// transcripts are erased, and their statistics rows stay but are unlinked
// from the pseudonym. The store is then compacted so no bytes remain.
func (b *Bridge) Forget(psid string) (int, error) {
	cfg := b.config()
	guests := map[string]bool{}
	for _, p := range cfg.Messenger.Pages {
		guests[b.pseudo.Guest(p.ID, psid)] = true
	}
	if conv, err := b.store.Conversation(psid); err == nil && conv != nil {
		guests[conv.Guest] = true // also for a Page no longer configured
	}
	jid := []byte(patronJID(psid, cfg.XMPP.Domain))
	removed := 0
	err := b.store.update(func(tx *bolt.Tx) error {
		removed = 0
		if conv, err := getConversation(tx, psid); err != nil {
			return err
		} else if conv != nil {
			if _, err := b.closeSession(tx, cfg, conv, b.now()); err != nil {
				return err
			}
			if err := tx.Bucket(bucketConversations).Delete([]byte(psid)); err != nil {
				return err
			}
			removed++
		}
		if err := tx.Bucket(bucketOpen).Delete([]byte(psid)); err != nil {
			return err
		}
		// Queued messages to and from the patron.
		prefix := append([]byte(psid), 0)
		out := tx.Bucket(bucketToFacebook)
		var keys [][]byte
		for k, _ := out.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = out.Cursor().Seek(prefix) {
			if err := out.Delete(k); err != nil {
				return err
			}
			removed++
		}
		for _, name := range [][]byte{bucketToXMPP, bucketInbox} {
			bk := tx.Bucket(name)
			keys = keys[:0]
			err := bk.ForEach(func(k, v []byte) error {
				if bytes.Contains(v, jid) || bytes.Contains(v, []byte(`"patron":"`+psid+`"`)) {
					keys = append(keys, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := bk.Delete(k); err != nil {
					return err
				}
				removed++
			}
		}
		n, err := purgeTranscripts(tx, time.Time{}, guests)
		if err != nil {
			return err
		}
		removed += n
		if err := tx.Bucket(bucketMeta).Put(metaNeedsCompaction, []byte{1}); err != nil {
			return err
		}
		return unlinkSessions(tx, guests)
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: forgetting a patron: %w", err)
	}
	compacted, err := b.compactIfDue(true, b.now())
	if err != nil {
		return removed, err
	}
	if !compacted {
		return removed, fmt.Errorf("bridge: forgetting a patron: the store is busy with a backup; the removed data stays in freed pages until the next compaction (run forget again later)")
	}
	b.log.Info("patron forgotten on request", zap.Int("records", removed))
	return removed, nil
}

// unlinkSessions replaces the guests' pseudonym in their sessions and
// ledger records, so the statistics rows stay but cannot be tied to them.
func unlinkSessions(tx *bolt.Tx, guests map[string]bool) error {
	const forgotten = "forgotten"
	type sessionUpd struct {
		k []byte
		s stats.Session
	}
	var sessions []sessionUpd
	dec := newSessionDecoder()
	var s stats.Session
	err := tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
		if err := decodeSession(v, &s, dec); err != nil {
			return fmt.Errorf("session %x: %w", k, err)
		}
		if guests[s.Guest] {
			s.Guest = forgotten
			sessions = append(sessions, sessionUpd{bytes.Clone(k), s})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range sessions {
		if err := putSession(tx, sessions[i].k, &sessions[i].s); err != nil {
			return err
		}
	}
	type upd struct {
		k []byte
		v any
	}
	var todo []upd
	lb := tx.Bucket(bucketLedger)
	err = lb.ForEach(func(k, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("ledger record: %w", err)
		}
		if guests[r.Guest] {
			r.Guest = forgotten
			todo = append(todo, upd{append([]byte(nil), k...), r})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range todo {
		if err := putJSON(lb, u.k, u.v); err != nil {
			return err
		}
	}
	return nil
}

