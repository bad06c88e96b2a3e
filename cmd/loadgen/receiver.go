package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
)

// receiver is the librarian's Jabber client: it counts the load
// generator's messages as they arrive, by the sequence number in their
// body ("lg <tag> <seq>"), and measures each one's end-to-end latency from
// its send time.
type receiver struct {
	c   *jabberclient.Client
	tag string
	tl  *timeline
	log *zap.Logger
	// checkOrder counts messages that overtake an earlier one of the same
	// patron (meaningful when each patron has one sender).
	checkOrder bool

	got       []atomic.Uint32 // copies received per seq
	distinct  atomic.Int64
	dups      atomic.Int64
	reordered atomic.Int64
	lastRecv  atomic.Int64 // UnixNano
	e2e       recorder

	mu      sync.Mutex
	lastSeq map[string]int64 // patron → last seq received
	foreign int              // messages not from this phase
	// troubles counts, among those, the error stanzas (by condition) and
	// the bridge's own notices (such as "Not delivered").
	troubles map[string]int
	done     chan struct{}
	cancel   context.CancelFunc
}

// dialReceiver logs in as user on the c2s listener at addr.
func dialReceiver(ctx context.Context, addr, user, password, tag string, tl *timeline, checkOrder bool, log *zap.Logger) (*receiver, error) {
	u, err := jid.Parse(user)
	if err != nil {
		return nil, fmt.Errorf("loadgen: receiver JID %q: %w", user, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := jabberclient.Dial(dctx, addr, u, password, log.Named("receiver"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: receiver: %w", err)
	}
	r := &receiver{c: c, tag: tag, tl: tl, log: log, checkOrder: checkOrder,
		got: make([]atomic.Uint32, len(tl.sentAt)), lastSeq: map[string]int64{}, troubles: map[string]int{}, done: make(chan struct{})}
	rctx, rcancel := context.WithCancel(context.Background())
	r.cancel = rcancel
	go r.run(rctx)
	return r, nil
}

// run takes messages until ctx ends or the stream closes.
func (r *receiver) run(ctx context.Context) {
	defer close(r.done)
	prefix := "lg " + r.tag + " "
	for {
		m, err := r.c.Next(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, jabberclient.ErrClosed) {
				r.log.Warn("receiver stopped", zap.Error(err))
			}
			return
		}
		now := time.Now()
		rest, ok := strings.CutPrefix(m.Body, prefix)
		seq, err := strconv.ParseInt(rest, 10, 64)
		if !ok || err != nil || seq < 0 || seq >= int64(len(r.got)) {
			r.mu.Lock()
			r.foreign++
			if k := trouble(m); k != "" {
				r.troubles[k]++
				r.log.Debug("receiver: trouble", zap.String("kind", k), zap.String("from", m.From), zap.String("body", m.Body))
			}
			r.mu.Unlock()
			continue
		}
		if r.got[seq].Add(1) > 1 {
			r.dups.Add(1)
			continue
		}
		r.distinct.Add(1)
		r.lastRecv.Store(now.UnixNano())
		if t, ok := r.tl.sentTime(seq); ok {
			r.e2e.add(now.Sub(t))
		}
		if r.checkOrder {
			patron, _, _ := strings.Cut(m.From, "@")
			r.mu.Lock()
			if last, ok := r.lastSeq[patron]; ok && seq < last {
				r.reordered.Add(1)
			} else {
				r.lastSeq[patron] = seq
			}
			r.mu.Unlock()
		}
	}
}

// trouble names what an unexpected message says went wrong: "stanza
// <condition>" for an error stanza, "bridge notice" for the bridge's own
// words; "" for anything else.
func trouble(m jabberclient.Received) string {
	switch {
	case m.Type == "error" && m.ErrorCondition != "":
		return "stanza " + m.ErrorCondition
	case m.Type == "error":
		return "stanza error"
	case strings.HasPrefix(m.Body, bridgeVoice):
		return "bridge notice"
	}
	return ""
}

// bridgeVoice starts every notice the bridge itself writes to a librarian
// (bridge/voice.go).
const bridgeVoice = "[askbridge] "

// troubleCounts returns a copy of the troubles counted so far.
func (r *receiver) troubleCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.troubles)
}

// waitFor returns once want distinct messages have arrived, or nothing new
// arrived for idle, or ctx ends.
func (r *receiver) waitFor(ctx context.Context, want int64, idle time.Duration) {
	awaitCount(ctx, &r.distinct, want, idle, r.done)
}

// awaitCount returns once n reaches want, or n did not change for idle, or
// ctx ends or done is closed. It looks at n every 10 ms.
func awaitCount(ctx context.Context, n *atomic.Int64, want int64, idle time.Duration, done <-chan struct{}) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	last, lastChange := n.Load(), time.Now()
	for n.Load() < want {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		}
		if x := n.Load(); x != last {
			last, lastChange = x, time.Now()
		} else if time.Since(lastChange) > idle {
			return
		}
	}
}

// close stops counting and logs out.
func (r *receiver) close() {
	r.cancel()
	<-r.done
	if err := r.c.Close(); err != nil {
		r.log.Debug("receiver close", zap.Error(err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.foreign > 0 {
		r.log.Info("receiver ignored messages of other phases", zap.Int("n", r.foreign))
	}
}

// fill adds what the receiver counted to p; acked are the events the sender
// had acknowledged and is owed.
func (r *receiver) fill(p *PhaseResult, acked []bool) {
	p.Received = int(r.distinct.Load())
	p.Duplicated = int(r.dups.Load())
	p.Reordered = int(r.reordered.Load())
	for seq, ok := range acked {
		if ok && r.got[seq].Load() == 0 {
			p.Lost++
		}
	}
	p.E2ELatency = r.e2e.summary()
	if secs := r.tl.seconds(r.lastRecv.Load()); secs > 0 {
		p.E2EPerSec = round3(float64(p.Received) / secs)
	}
}
