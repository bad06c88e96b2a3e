package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/messenger"
)

// boltLoad writes, for every event, the records the bridge creates for a
// patron message — deduplication mark, inbox event, conversation, session,
// open-session index, ledger record with its two references, XMPP outbox
// entry — through the bridge's own store (bridge.Store.WriteBaseline: the
// same encodings and sealing, commits shared by concurrent POSTs and
// fsynced as the bridge's are), one commit per POST. It is a lower bound
// of the bridge's storage work (the bridge spreads it over three commits
// and also deletes the inbox and outbox entries), so its rate is an upper
// bound of what BoltDB allows the bridge.
func boltLoad(ctx context.Context, dir, tag string, l load, pats *patrons, tl *timeline) (*postStats, error) {
	state, err := os.MkdirTemp(dir, "baseline-")
	if err != nil {
		return nil, fmt.Errorf("loadgen: bolt baseline: %w", err)
	}
	defer os.RemoveAll(state)
	st, err := bridge.OpenStore(state, time.Second)
	if err != nil {
		return nil, fmt.Errorf("loadgen: bolt baseline: %w", err)
	}
	defer st.Close()

	stats := &postStats{errs: map[string]int{}, acked: make([]bool, l.Events)}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	pace := newPacer(l.Rate / float64(l.EventsPerPost))
	sq := &seqs{total: int64(l.Events)}
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		own := pats.owned(w)
		wg.Go(func() {
			j := 0
			for {
				at, ok := pace.next(ctx)
				if !ok {
					return
				}
				from, to := sq.take(l.EventsPerPost)
				if from == to {
					return
				}
				msgs := make([]bridge.BaselineMessage, 0, to-from)
				for s := from; s < to; s++ {
					msgs = append(msgs, baselineMessage(tag, s, own[j%len(own)], at))
					j++
					tl.sent(s, at)
				}
				stats.posts.Add(1)
				stats.events.Add(to - from)
				err := st.WriteBaseline(msgs)
				now := time.Now()
				if err != nil {
					stats.fail("commit")
					continue
				}
				stats.ack(tl, from, to, at, now)
			}
		})
	}
	wg.Wait()
	return stats, nil
}

// baselineMessage is the patron message of event seq.
func baselineMessage(tag string, seq int64, psid string, at time.Time) bridge.BaselineMessage {
	return bridge.BaselineMessage{
		Event: messenger.Event{Kind: messenger.KindMessage, Page: messenger.PageID(pageID), Patron: messenger.PSID(psid),
			Time: at.UTC().Truncate(time.Millisecond), MID: messenger.MID(fmt.Sprintf("m_lg.%s.%d", tag, seq)),
			Text: fmt.Sprintf("lg %s %d", tag, seq)},
		Guest:  fmt.Sprintf("%016x", uint64(seq)*2654435761),
		Queue:  "librarian@localhost",
		Domain: bridgeDomain,
	}
}
