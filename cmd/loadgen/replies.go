package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

// The replies phase measures the other direction: a librarian's reply,
// sent from the Jabber client that plays the librarians to a patron's JID,
// until the Send API stand-in receives the call that carries it.
//
// It starts a fresh daemon, opens one conversation per patron with a
// signed webhook event (so each patron has written within Messenger's
// 24-hour window and the queue may answer), waits until every opening
// message has reached the librarians, and then sends replies "lr <tag>
// <seq>" at -reply-rate. The stand-in, in this process, reports each
// accepted call through standin.Config.OnSent to the phase's
// replyCounter, which matches it by its text.

// replyBody is the text of reply seq: its token, unique to the phase.
func replyBody(tag string, seq int64) string {
	return "lr " + tag + " " + strconv.FormatInt(seq, 10)
}

// replyCounter counts the replies of one phase as they reach the Send API
// stand-in, by the sequence number in their text, and measures each one's
// latency from its (scheduled) send.
type replyCounter struct {
	prefix string
	tl     *timeline
	// checkOrder counts replies that overtake an earlier one to the same
	// patron (meaningful when each patron has one sender).
	checkOrder bool

	got       []atomic.Uint32 // copies received per seq
	distinct  atomic.Int64
	dups      atomic.Int64
	reordered atomic.Int64
	lastRecv  atomic.Int64 // UnixNano
	lat       recorder
	// arrived, when the phase runs as fast as possible, is closed for
	// each seq at its first arrival; nil when paced.
	arrived []chan struct{}

	mu      sync.Mutex
	lastSeq map[messenger.PSID]int64 // patron → last seq received
	foreign int                      // Send API calls not of this phase
}

// newReplyCounter counts the n replies of the phase tagged tag, whose send
// times tl holds. closedLoop makes await usable.
func newReplyCounter(tag string, tl *timeline, checkOrder, closedLoop bool) *replyCounter {
	c := &replyCounter{prefix: "lr " + tag + " ", tl: tl, checkOrder: checkOrder,
		got: make([]atomic.Uint32, len(tl.sentAt)), lastSeq: map[messenger.PSID]int64{}}
	if closedLoop {
		c.arrived = make([]chan struct{}, len(tl.sentAt))
		for i := range c.arrived {
			c.arrived[i] = make(chan struct{})
		}
	}
	return c
}

// sent takes one Send API call the stand-in accepted (its OnSent).
func (c *replyCounter) sent(m standin.SentMessage) {
	rest, ok := strings.CutPrefix(m.Text, c.prefix)
	seq, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil || seq < 0 || seq >= int64(len(c.got)) {
		c.mu.Lock()
		c.foreign++
		c.mu.Unlock()
		return
	}
	if c.got[seq].Add(1) > 1 {
		c.dups.Add(1)
		return
	}
	if t, ok := c.tl.sentTime(seq); ok {
		c.lat.add(m.At.Sub(t))
	}
	c.lastRecv.Store(m.At.UnixNano())
	if c.checkOrder {
		c.mu.Lock()
		if last, ok := c.lastSeq[m.Recipient]; ok && seq < last {
			c.reordered.Add(1)
		} else {
			c.lastSeq[m.Recipient] = seq
		}
		c.mu.Unlock()
	}
	// Counted last: whoever sees the count sees the reply's figures.
	c.distinct.Add(1)
	if c.arrived != nil {
		close(c.arrived[seq])
	}
}

// await waits until reply seq has arrived, or idle passed, or ctx ended,
// and reports whether it arrived. Only for a closed loop.
func (c *replyCounter) await(ctx context.Context, seq int64, idle time.Duration) bool {
	t := time.NewTimer(idle)
	defer t.Stop()
	select {
	case <-c.arrived[seq]:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// fill adds what the counter counted to p; written are the replies the
// librarians' client wrote to its stream, which are owed.
func (c *replyCounter) fill(p *PhaseResult, written []atomic.Bool) {
	p.Received = int(c.distinct.Load())
	p.Duplicated = int(c.dups.Load())
	p.Reordered = int(c.reordered.Load())
	for seq := range written {
		if written[seq].Load() && c.got[seq].Load() == 0 {
			p.Lost++
		}
	}
	p.E2ELatency = c.lat.summary()
	if secs := c.tl.seconds(c.lastRecv.Load()); secs > 0 {
		p.Seconds = round3(secs)
		p.E2EPerSec = round3(float64(p.Received) / secs)
	}
}

// foreignCalls is how many Send API calls were not replies of the phase.
func (c *replyCounter) foreignCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.foreign
}

// replyStats is what the librarians' senders counted.
type replyStats struct {
	sent    atomic.Int64
	written []atomic.Bool // per seq: written to the stream
	mu      sync.Mutex
	errs    map[string]int
}

func (st *replyStats) fail(key string) {
	st.mu.Lock()
	st.errs[key]++
	st.mu.Unlock()
}

// replyLoad sends l.Events replies from c to the patrons' JIDs at domain,
// or until l.Duration passes. Paced (l.Rate > 0), reply i is due at
// start + i/rate and timed from then; as fast as possible, each of
// l.Concurrency senders sends its next reply once the stand-in has its
// previous one (or after idle without it).
func replyLoad(ctx context.Context, c *jabberclient.Client, domain, tag string, l load, pats *patrons, tl *timeline,
	rc *replyCounter, idle time.Duration, log *zap.Logger) *replyStats {
	st := &replyStats{written: make([]atomic.Bool, l.Events), errs: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	pace := newPacer(l.Rate)
	sq := &seqs{total: int64(l.Events)}
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		own := pats.owned(w)
		wg.Go(func() {
			for j := 0; ; j++ {
				at, ok := pace.next(ctx)
				if !ok {
					return
				}
				seq, to := sq.take(1)
				if seq == to {
					return
				}
				tl.sent(seq, at)
				if _, err := c.SendChat(own[j%len(own)]+"@"+domain, replyBody(tag, seq)); err != nil {
					// The stream is broken: this sender is done.
					st.fail("xmpp send")
					log.Warn("sending a reply failed", zap.Error(err))
					return
				}
				st.written[seq].Store(true)
				st.sent.Add(1)
				if rc.arrived != nil && !rc.await(ctx, seq, idle) && ctx.Err() == nil {
					log.Debug("reply not at the Send API in time", zap.Int64("seq", seq))
				}
			}
		})
	}
	wg.Wait()
	return st
}

// openConversations posts one signed webhook event from each patron, "lg
// <tag> <i>" from patron i, with conc POSTs in flight. Every POST must be
// acknowledged.
func openConversations(ctx context.Context, url, tag string, ids []string, conc int, log *zap.Logger) error {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	fb := standin.New(standin.Config{AppID: appID, AppSecret: appSecret, WebhookURL: url, HTTPClient: hc, Log: log.Named("facebook")})
	defer fb.Close()
	var next atomic.Int64
	var mu sync.Mutex
	var failed int
	var firstErr string
	var wg sync.WaitGroup
	for range min(conc, len(ids)) {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) || ctx.Err() != nil {
					return
				}
				status, err := fb.PostSigned(ctx, webhookBody(&buf, tag, i, ids[i:i+1], time.Now()))
				if err == nil && status == http.StatusOK {
					continue
				}
				mu.Lock()
				failed++
				if firstErr == "" {
					firstErr = fmt.Sprintf("status %d, %v", status, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("loadgen: opening conversations: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("loadgen: opening conversations: %d of %d webhook POSTs failed (first: %s)", failed, len(ids), firstErr)
	}
	return nil
}

// repliesPhase measures a librarian's reply to the Send API: a fresh
// daemon (fresh store) per round.
func (e *env) repliesPhase(ctx context.Context, round int) (*PhaseResult, error) {
	c, err := e.startDaemon(ctx, fmt.Sprintf("daemon-replies-%d", round))
	if err != nil {
		return nil, err
	}
	defer c.stop()
	url, pid := "http://"+c.httpAddr+"/webhook", c.pid()
	pats := newPatrons(e.o.Patrons, e.o.Concurrency, randomSalt())
	openTag, tag := randomTag(), randomTag()

	// The librarians' client: it sees the patrons' first messages, then
	// answers them.
	r, err := dialReceiver(ctx, e.c2s, e.queue, e.queuePW, openTag, newTimeline(len(pats.ids)), false, e.log)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := openConversations(ctx, url, openTag, pats.ids, e.o.Concurrency, e.log); err != nil {
		return nil, err
	}
	e.drain(ctx, r, len(pats.ids))
	if n := int(r.distinct.Load()); n < len(pats.ids) {
		return nil, fmt.Errorf("loadgen: only %d of %d patrons' first messages reached the librarians", n, len(pats.ids))
	}

	l := load{Events: e.o.Replies, Concurrency: e.o.Concurrency, Patrons: e.o.Patrons, Rate: e.o.ReplyRate, Duration: e.o.duration}
	tl := newTimeline(l.Events)
	rc := newReplyCounter(tag, tl, pats.ordered(), l.Rate <= 0)
	e.replies.Store(rc)
	defer e.replies.Store(nil)
	rss := sampleRSS(pid, rssInterval)
	stopProf := e.profile(ctx, c, fmt.Sprintf("replies-round%d", round))
	cpu := meterCPU(e.pids(map[string]int{"daemon": pid}))
	st := replyLoad(ctx, r.c, bridgeDomain, tag, l, pats, tl, rc, e.o.drainIdle, e.log)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	awaitCount(dctx, &rc.distinct, st.sent.Load(), e.o.drainIdle, nil)
	cancel()
	stopProf()

	p := &PhaseResult{Phase: phaseReplies, Conversations: len(pats.ids), HTTPErrors: map[string]int{}}
	p.EventsSent = int(st.sent.Load())
	p.Posts = p.EventsSent
	rc.fill(p, st.written)
	st.mu.Lock()
	for k, v := range st.errs {
		p.HTTPErrors[k] += v
	}
	st.mu.Unlock()
	for k, v := range r.troubleCounts() {
		p.HTTPErrors[k] += v
	}
	cpu.finish(p, p.Received)
	rss.finish(p)
	p.Throughput = p.E2EPerSec
	if n := rc.foreignCalls(); n > 0 {
		e.log.Info("Send API calls other than the phase's replies", zap.Int("n", n))
	}
	return p, nil
}

// onSent hands each Send API call the stand-in accepts to the replies
// phase running, if any.
func (e *env) onSent(m standin.SentMessage) {
	if rc := e.replies.Load(); rc != nil {
		rc.sent(m)
	}
}
