package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
	"github.com/askbridge/askbridge/messenger"
	"mellium.im/xmpp/jid"
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
	// Parked entries of the dead-letter bucket dropped after 7 days (they
	// hold the patron's JID and text).
	Parked int
	// Compacted is true when the store file was rewritten, so that no
	// removed bytes linger in freed pages.
	Compacted bool
}

// Purge removes what the privacy rules no longer allow the bridge to keep:
// PSIDs of conversations without an open session whose patron last wrote
// more than 7 days ago (and that have no reply waiting), and message text
// older than privacy.transcript_retention, and entries parked in the
// dead-letter bucket more than 7 days ago; it also prunes ledger
// references older than 7 days. It then compacts the store if anything
// was removed and force is set or the last compaction is a day old.
//
// It works in many small transactions (see maintWriteKeys), so that
// webhook commits are never held up for long; each leaves the store
// consistent, and a purge cut short by an error or a crash is completed by
// the next one.
func (b *Bridge) Purge(force bool) (PurgeResult, error) {
	return b.newPass(context.Background()).purge(force)
}

func (p *maintPass) purge(force bool) (PurgeResult, error) {
	cfg := p.b.config()
	now := p.b.now()
	var res PurgeResult
	var err error
	if res.Conversations, err = p.purgeConversations(now); err != nil {
		return res, fmt.Errorf("bridge: purging conversations: %w", err)
	}
	if res.Transcripts, err = p.purgeTranscripts(now.Add(-cfg.Privacy.TranscriptRetention)); err != nil {
		return res, fmt.Errorf("bridge: purging transcripts: %w", err)
	}
	if res.Parked, err = p.purgeParked(now.Add(-psidRetention)); err != nil {
		return res, fmt.Errorf("bridge: dropping old parked entries: %w", err)
	}
	if p.rep.Refs, err = p.pruneRefs(now.Add(-refsKeep)); err != nil {
		return res, fmt.Errorf("bridge: pruning ledger references: %w", err)
	}
	if p.rep.Refs >= compactAfterRefs {
		err := p.b.store.update(func(tx *store.Tx) error { return noteRemoval(tx, p.rep.Refs, nil) })
		if err != nil {
			return res, fmt.Errorf("bridge: pruning ledger references: %w", err)
		}
	}
	res.Compacted, err = p.b.compactIfDue(force, now)
	return res, err
}

// lateArrivals is how far before the transcript watermark each purge looks
// again, for records stored late: as long as deduplication remembers an
// event.
const lateArrivals = seenTTL

// compactAfterRefs is how many pruned references make a compaction due.
// Their freed pages are reused only as the store grows again; until then
// BoltDB writes the list of free pages at every commit (8 bytes a page:
// about 400 kB per webhook after a first prune of a year's references),
// and the next daily compaction gives them back instead.
// (A variable so that tests can lower it.)
var compactAfterRefs = 50_000

// noteRemoval marks, in the transaction that removed something, that the
// store needs a compaction.
func noteRemoval(tx *store.Tx, changed int, _ []byte) error {
	if changed == 0 {
		return nil
	}
	return tx.Bolt().Bucket(store.BucketMeta).Put(metaNeedsCompaction, []byte{1})
}

// purgeParked drops the entries parked before cutoff: a message nobody
// requeued within the PSID retention must not keep the patron's ID.
func (p *maintPass) purgeParked(cutoff time.Time) (int, error) {
	old := func(tx *store.Tx, k []byte) (*parkedEntry, error) {
		e, err := tx.XMPPOutbox().Parked(k)
		if err != nil || e == nil || !e.Parked.Before(cutoff) {
			return nil, err
		}
		return e, nil
	}
	return p.run(&sweep{
		bucket: store.BucketParkedXMPP,
		pick: func(tx *store.Tx, k, _ []byte) (bool, error) {
			e, err := old(tx, k)
			return e != nil, err
		},
		apply: func(tx *store.Tx, k []byte) (bool, error) {
			e, err := old(tx, k)
			if err != nil || e == nil {
				return false, err
			}
			if err := tx.Ledger().Update(e.Entry.Ledger, func(r *Record) {
				r.State, r.Error = StateFailed, "dropped from the dead-letter bucket after 7 days"
			}); err != nil {
				return false, err
			}
			return true, tx.XMPPOutbox().DropParked(k)
		},
		commit: noteRemoval,
	})
}

// purgeConversations removes the conversations (with their PSIDs) that
// staleConversation selects.
func (p *maintPass) purgeConversations(now time.Time) (int, error) {
	return p.run(&sweep{
		bucket: store.BucketConversations,
		pick: func(tx *store.Tx, k, v []byte) (bool, error) {
			c, err := tx.Conversations().Decode(v)
			return err == nil && staleConversation(tx, string(k), c, now), err
		},
		apply: func(tx *store.Tx, k []byte) (bool, error) {
			convs := tx.Conversations()
			c, err := convs.Get(string(k))
			if err != nil || c == nil || !staleConversation(tx, string(k), c, now) {
				return false, err
			}
			return true, convs.Delete(string(k))
		},
		commit: noteRemoval,
	})
}

// staleConversation reports whether c, the conversation of the patron
// key psid, is to be removed: no open session, the patron's last message
// older than psidRetention, and no reply waiting.
func staleConversation(tx *store.Tx, psid string, c *Conversation, now time.Time) bool {
	last := c.LastPatron
	if last.IsZero() {
		last = c.LastActivity
	}
	return c.Session == "" && now.Sub(last) > psidRetention && !hasPending(tx, psid)
}

// compactIfDue compacts the store when something was deleted since the
// last compaction and a day has passed (or force is set).
func (b *Bridge) compactIfDue(force bool, now time.Time) (bool, error) {
	b.compactMu.Lock()
	defer b.compactMu.Unlock()
	var needed bool
	var last time.Time
	err := b.store.view(func(tx *store.Tx) error {
		meta := tx.Bolt().Bucket(store.BucketMeta)
		needed = meta.Get(metaNeedsCompaction) != nil
		if v := meta.Get(metaLastCompaction); len(v) == 8 {
			last = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("bridge: checking for compaction: %w", err)
	}
	if !needed || (!force && now.Sub(last) < compactEvery) {
		return false, nil
	}
	t0 := time.Now()
	rep, err := b.store.compact()
	if rep.Spilled > 0 {
		signal(b.inboxReady) // the webhook events stored meanwhile
	}
	if errors.Is(err, ErrBusy) {
		return false, nil // next time
	} else if err != nil {
		return false, err
	}
	// Write transactions waited for the copy; webhook events did not.
	b.log.Info("store compacted", zap.Duration("took", time.Since(t0)), zap.Duration("writes_held", rep.Held),
		zap.Int("events_spilled", rep.Spilled))
	err = b.store.update(func(tx *store.Tx) error {
		meta := tx.Bolt().Bucket(store.BucketMeta)
		if err := meta.Delete(metaNeedsCompaction); err != nil {
			return err
		}
		return meta.Put(metaLastCompaction, store.U64(uint64(now.UnixNano())))
	})
	if err != nil {
		return true, fmt.Errorf("bridge: noting the compaction: %w", err)
	}
	return true, nil
}

// pruneRefs drops ledger references to records older than before. The
// references are keyed by stanza id or mid, not by time, so it reads them
// all, in read transactions.
func (p *maintPass) pruneRefs(before time.Time) (int, error) {
	end := store.TimeBound(before)
	old := func(v []byte) bool { return len(v) >= 8 && bytes.Compare(v[:8], end) < 0 }
	return p.run(&sweep{
		bucket: store.BucketLedgerRef,
		pick:   func(_ *store.Tx, _, v []byte) (bool, error) { return old(v), nil },
		apply:  deleteIf(store.BucketLedgerRef, old),
	})
}

// hasPending reports whether replies to the patron still wait to be sent.
func hasPending(tx *store.Tx, psid string) bool { return tx.FacebookOutbox().Pending(psid) }

// hasText reports whether a ledger record still holds a transcript, and
// returns the record when it does.
func hasText(v []byte) (Record, bool, error) {
	var r Record
	if ok, err := store.RecordHasText(v); err != nil || !ok {
		return r, false, err
	}
	if err := store.DecodeRecord(v, &r); err != nil {
		return r, false, err
	}
	return r, true, nil
}

// purgeTranscripts clears the text of ledger records older than before.
// It reads from the watermark in the meta bucket on (older records were
// purged before) and moves the watermark on with each write transaction,
// so that an interrupted purge resumes where it stopped.
func (p *maintPass) purgeTranscripts(before time.Time) (int, error) {
	var from []byte
	err := p.b.store.view(func(tx *store.Tx) error {
		from = bytes.Clone(tx.Bolt().Bucket(store.BucketMeta).Get(metaTranscriptsTo))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(from) >= 8 {
		// Records are keyed by the event's own time, and an event can be
		// stored well after it happened (Facebook redelivers for a day; a
		// backlog waits out an outage): the walk goes back lateArrivals
		// before the watermark, so that such a record is purged too. Records
		// without text there cost a byte search each.
		w := time.Unix(0, int64(binary.BigEndian.Uint64(from[:8])))
		from = store.TimeBound(w.Add(-lateArrivals))
	}
	end := store.TimeBound(before)
	return p.run(&sweep{
		bucket: store.BucketLedger,
		from:   from,
		end:    end,
		pick: func(_ *store.Tx, _, v []byte) (bool, error) {
			_, ok, err := hasText(v)
			return ok, err
		},
		apply: func(tx *store.Tx, k []byte) (bool, error) {
			l := tx.Ledger()
			r, ok, err := hasText(l.Raw(k))
			if err != nil || !ok {
				return false, err
			}
			r.Text = ""
			if err := l.Put(k, &r); err != nil {
				return false, err
			}
			return true, nil
		},
		always: true,
		commit: func(tx *store.Tx, changed int, resume []byte) error {
			if err := noteRemoval(tx, changed, resume); err != nil {
				return err
			}
			if resume == nil {
				resume = end
			}
			return tx.Bolt().Bucket(store.BucketMeta).Put(metaTranscriptsTo, resume)
		},
	})
}

// forgetTranscripts clears the text of the guests' ledger records, at any
// age.
func forgetTranscripts(tx *store.Tx, guests map[string]bool) (int, error) {
	l := tx.Ledger()
	type upd struct {
		k []byte
		r Record
	}
	var todo []upd
	err := l.ForEachRaw(func(k, v []byte) error {
		r, ok, err := hasText(v)
		if err != nil || !ok || !guests[r.Guest] {
			return err
		}
		r.Text = ""
		todo = append(todo, upd{bytes.Clone(k), r})
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, u := range todo {
		if err := l.Put(u.k, &u.r); err != nil {
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
	// The patron's address as this release writes it, or as earlier ones
	// wrote it (the configured domain's own spelling): the same localpart
	// on the component's domain, whatever its case.
	isPatron := func(j jid.JID) bool {
		return j.Localpart() == psid && strings.EqualFold(j.Domainpart(), cfg.XMPP.Domain)
	}
	holdsPatron := func(e *xmppEntry) bool {
		if p := e.Presence; p != nil && (isPatron(p.From) || isPatron(p.To)) {
			return true
		}
		return isPatron(e.Msg.From) || isPatron(e.Msg.To)
	}
	removed := 0
	err := b.store.update(func(tx *store.Tx) error {
		removed = 0
		if conv, err := getConversation(tx, psid); err != nil {
			return err
		} else if conv != nil {
			if _, err := b.closeSession(tx, cfg, conv, b.now()); err != nil {
				return err
			}
			if err := tx.Conversations().Delete(psid); err != nil {
				return err
			}
			removed++
		}
		if err := tx.Sessions().SetOpen(psid, false); err != nil {
			return err
		}
		// Queued messages to and from the patron.
		n, err := tx.FacebookOutbox().DeletePatron(psid)
		if err != nil {
			return err
		}
		removed += n
		b.xq.changed(tx)
		b.fq.changed(tx)
		// Queued messages from and to the patron, read as the queues read
		// them: one that cannot be read stops the forget (it may be the
		// patron's), as before.
		out := tx.XMPPOutbox()
		var keys [][]byte
		err = out.Scan(func(k []byte, e *xmppEntry, err error) (bool, error) {
			if err != nil {
				return false, fmt.Errorf("XMPP outbox entry %x: %w", k, err)
			}
			if holdsPatron(e) {
				keys = append(keys, bytes.Clone(k))
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := out.Remove(k); err != nil {
				return err
			}
			removed++
		}
		keys = keys[:0]
		err = out.ScanParked(func(k []byte, p *parkedEntry) error {
			if holdsPatron(&p.Entry) {
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := out.DropParked(k); err != nil {
				return err
			}
			removed++
		}
		inbox := tx.Inbox()
		keys = keys[:0]
		err = inbox.Scan(func(k []byte, e *messenger.Event, err error) (bool, error) {
			if err != nil {
				return false, fmt.Errorf("inbox entry %x: %w", k, err)
			}
			if patronKey(e.Channel, e.Patron) == psid {
				keys = append(keys, bytes.Clone(k))
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := inbox.Delete(k); err != nil {
				return err
			}
			removed++
		}
		n, err = forgetTranscripts(tx, guests)
		if err != nil {
			return err
		}
		removed += n
		if err := tx.Bolt().Bucket(store.BucketMeta).Put(metaNeedsCompaction, []byte{1}); err != nil {
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
func unlinkSessions(tx *store.Tx, guests map[string]bool) error {
	const forgotten = "forgotten"
	type sessionUpd struct {
		k []byte
		s stats.Session
	}
	var sessions []sessionUpd
	dec := store.NewSessionDecoder()
	err := tx.Sessions().Scan(nil, nil, dec, func(k []byte, s *stats.Session) (bool, error) {
		if guests[s.Guest] {
			s.Guest = forgotten
			sessions = append(sessions, sessionUpd{bytes.Clone(k), *s})
		}
		return true, nil
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
		r Record
	}
	var todo []upd
	l := tx.Ledger()
	err = l.Scan(time.Time{}, time.Time{}, func(k []byte, r *Record) (bool, error) {
		if guests[r.Guest] {
			r.Guest = forgotten
			todo = append(todo, upd{bytes.Clone(k), *r})
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, u := range todo {
		if err := l.Put(u.k, &u.r); err != nil {
			return err
		}
	}
	return nil
}
