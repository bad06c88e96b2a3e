package bridge

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/crashpoint"
	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// seenTTL is how long event identities are kept for deduplication.
// Facebook retries failed deliveries for up to a day; a week is ample.
const seenTTL = 7 * 24 * time.Hour

// dedupKey is the identity of an event for deduplication, or "" for events
// that are idempotent anyway (deliveries, reads).
func dedupKey(e *messenger.Event) string {
	return store.BoundedKey(rawDedupKey(e))
}

func rawDedupKey(e *messenger.Event) string {
	switch e.Kind {
	case messenger.KindMessage, messenger.KindEcho:
		if e.Deleted && e.MID != "" {
			// An unsend names the message it takes back.
			return "d:" + string(e.MID)
		}
		if e.MID != "" {
			return "m:" + string(e.MID)
		}
	case messenger.KindEdit:
		return fmt.Sprintf("e:%s:%d", e.MID, e.Time.UnixMilli())
	case messenger.KindReaction:
		return fmt.Sprintf("r:%s:%s:%s:%d", e.MID, e.ReactionAction, e.Reaction, e.Time.UnixMilli())
	case messenger.KindPostback:
		if e.MID != "" {
			return "p:" + string(e.MID)
		}
		// No mid: the patron's pseudonymous identity would do, but the PSID
		// itself must not be kept here for a week.
		h := sha256.Sum256([]byte(string(e.Page) + "\x00" + string(e.Patron)))
		return fmt.Sprintf("p:%x:%d", h[:8], e.Time.UnixMilli())
	}
	return ""
}

// Accept stores the events of one webhook POST, in one transaction,
// skipping events already seen. It returns only after the commit, so the
// webhook answers 200 only for stored events. Events of one patron are
// taken in timestamp order.
//
// When the durable inbox is empty — always, unless a backlog is left from
// before a restart — the events are routed in that same transaction: their
// ledger records and outbox entries commit with the deduplication marks,
// and the message's path costs one commit less. Otherwise they join the
// inbox behind the backlog, so that no patron's message overtakes an
// earlier one, and the dispatcher routes them.
//
// While a compaction holds the store's writes, the events are stored in
// the spill instead (see spill.go), deduplicated against the store and the
// spill, and join the inbox once the compaction has switched files: the
// acknowledgement does not wait for the compaction.
func (b *Bridge) Accept(ctx context.Context, events []messenger.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bridge: accepting events: %w", err)
	}
	// Group each patron's events at the place of their first one, in
	// timestamp order; patrons keep their order of arrival.
	first := map[messenger.PSID]int{}
	for i, e := range events {
		if _, ok := first[e.Patron]; !ok {
			first[e.Patron] = i
		}
	}
	sorted := append([]messenger.Event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool {
		fi, fj := first[sorted[i].Patron], first[sorted[j].Patron]
		if fi != fj {
			return fi < fj
		}
		return sorted[i].Time.Before(sorted[j].Time)
	})
	now := b.now()
	cfg := b.config()
	var stored, dups, routed int
	spilled, err := b.store.accept(func(tx *store.Tx) error {
		stored, dups, routed = 0, 0, 0
		// Registered first, so that the crash points fire before the
		// commit hands the routed entries to the outboxes' owners: killed
		// there, the daemon has written none of them (see atCommit).
		tx.OnCommit(func() { atCommit(routed) })
		seen, inbox := tx.Seen(), tx.Inbox()
		backlog := !inbox.Empty()
		for i := range sorted {
			e := &sorted[i]
			if k := dedupKey(e); k != "" {
				if seen.Has(k) {
					dups++
					continue
				}
				if err := seen.Mark(k, now); err != nil {
					return err
				}
			}
			stored++
			if !backlog {
				if err := b.route(tx, cfg, e); err != nil {
					return err
				}
				routed++
				continue
			}
			if _, err := inbox.Add(e); err != nil {
				return err
			}
		}
		return nil
	}, func(sp *spillTx) error {
		// A compaction holds the store's writes: the events wait in the
		// spill, which the compaction moves into the inbox after it.
		stored, dups, routed = 0, 0, 0
		for i := range sorted {
			e := &sorted[i]
			added, err := sp.add(e, dedupKey(e), now)
			if err != nil {
				return err
			}
			if !added {
				dups++
				continue
			}
			stored++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bridge: storing webhook events: %w", err)
	}
	if spilled {
		crashpoint.Hit(crashpoint.AfterInboxCommit) // nothing routed, nothing handed over
	}
	b.metrics.eventsStored.Add(float64(stored))
	b.metrics.duplicates.Add(float64(dups))
	if dups > 0 {
		b.log.Debug("duplicate events skipped", zap.Int("duplicates", dups))
	}
	if routed > 0 {
		signal(b.xmppReady)
	}
	if stored > routed {
		signal(b.inboxReady)
	}
	return nil
}

// atCommit runs the crash points of a commit of webhook events, routed of
// them straight to the outboxes: in a commit hook registered before any
// entry was queued, so ahead of the hooks that hand the entries to the
// outboxes' owners. Hit after the commit returned instead, a crash point
// would race the XMPP owner, which may already have written a stanza of
// the commit when the kill lands: a stanza on the wire whose removal never
// commits, written again after the restart, is the at-least-once delivery
// no daemon can avoid, not the state the crash point names. (In a group
// commit a later caller's hooks follow an earlier caller's hand-over; the
// crash tests post one webhook at a time.)
func atCommit(routed int) {
	crashpoint.Hit(crashpoint.AfterInboxCommit)
	if routed > 0 {
		crashpoint.Hit(crashpoint.AfterDispatch)
	}
}
