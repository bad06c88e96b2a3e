package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger/standin"
)

// Identities the generated traffic uses. pageID and appSecret can be set
// by flags (to drive an external daemon) before any phase runs.
var (
	pageID    = "510249619162304"
	appSecret = "loadgen-app-secret"
)

const (
	pageName  = "Load Test Library"
	appID     = "1708188056130407"
	pageToken = "EAA-loadgen-page-token"
)

// load describes the traffic of one phase.
type load struct {
	Events        int
	EventsPerPost int
	Concurrency   int
	Patrons       int
	Rate          float64 // events per second; 0 = as fast as possible
	Duration      time.Duration
}

// patrons assigns patrons to senders: with at least as many patrons as
// senders, each patron belongs to one sender (so its messages have a
// defined order); otherwise senders share them.
type patrons struct {
	ids  []string
	conc int
}

// newPatrons makes n PSIDs (16 digits, unique to salt).
func newPatrons(n, conc int, salt int64) *patrons {
	p := &patrons{ids: make([]string, n), conc: conc}
	for i := range p.ids {
		p.ids[i] = fmt.Sprintf("7%06d%09d", salt%1_000_000, i)
	}
	return p
}

// owned returns the patrons of sender w.
func (p *patrons) owned(w int) []string {
	if len(p.ids) < p.conc {
		return []string{p.ids[w%len(p.ids)]}
	}
	var own []string
	for i := w; i < len(p.ids); i += p.conc {
		own = append(own, p.ids[i])
	}
	return own
}

// ordered reports whether each patron has a single sender.
func (p *patrons) ordered() bool { return len(p.ids) >= p.conc }

// webhookBody builds a Messenger webhook POST body with one entry per event,
// as Facebook batches them: text messages "lg <tag> <seq>".
func webhookBody(buf *bytes.Buffer, tag string, from int64, psids []string, at time.Time) []byte {
	buf.Reset()
	ms := at.UnixMilli()
	buf.WriteString(`{"object":"page","entry":[`)
	for i, psid := range psids {
		seq := from + int64(i)
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(buf, `{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_lg.%s.%d","text":"lg %s %d"}}]}`,
			pageID, ms, psid, pageID, ms, tag, seq, tag, seq)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// postStats is what the senders of a webhook phase counted.
type postStats struct {
	posts  atomic.Int64
	events atomic.Int64
	acks   atomic.Int64
	ackEvs atomic.Int64
	ackLat recorder
	mu     sync.Mutex
	errs   map[string]int
	acked  []bool // per seq: in an acknowledged POST
}

// postLoad sends signed webhook POSTs to url until l.Events events are
// sent or l.Duration passes, and records their fate in tl and the result.
func postLoad(ctx context.Context, url, tag string, l load, pats *patrons, tl *timeline, log *zap.Logger) *postStats {
	st := &postStats{errs: map[string]int{}, acked: make([]bool, l.Events)}
	hc := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: l.Concurrency * 2, MaxIdleConnsPerHost: l.Concurrency * 2,
			IdleConnTimeout: time.Minute, DisableCompression: true,
		},
	}
	defer hc.CloseIdleConnections()
	fb := standin.New(standin.Config{AppID: appID, AppSecret: appSecret, WebhookURL: url, HTTPClient: hc, Log: log.Named("facebook")})
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	pace := newPacer(l.Rate / float64(l.EventsPerPost))
	var sq = &seqs{total: int64(l.Events)}
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		own := pats.owned(w)
		wg.Go(func() {
			var buf bytes.Buffer
			j := 0
			psids := make([]string, 0, l.EventsPerPost)
			for {
				at, ok := pace.next(ctx)
				if !ok {
					return
				}
				from, to := sq.take(l.EventsPerPost)
				if from == to {
					return
				}
				psids = psids[:0]
				for range to - from {
					psids = append(psids, own[j%len(own)])
					j++
				}
				body := webhookBody(&buf, tag, from, psids, at)
				for s := from; s < to; s++ {
					tl.sent(s, at)
				}
				st.posts.Add(1)
				st.events.Add(to - from)
				status, err := fb.PostSigned(context.WithoutCancel(ctx), body)
				now := time.Now()
				switch {
				case err != nil:
					st.fail("transport")
					log.Debug("POST failed", zap.Error(err))
				case status != http.StatusOK:
					st.fail(strconv.Itoa(status))
				default:
					st.ack(tl, from, to, at, now)
				}
			}
		})
	}
	wg.Wait()
	return st
}

// ack records that events [from, to), sent at at, were acknowledged at now.
func (st *postStats) ack(tl *timeline, from, to int64, at, now time.Time) {
	st.acks.Add(1)
	st.ackEvs.Add(to - from)
	st.ackLat.add(now.Sub(at))
	tl.acked(now)
	st.mu.Lock()
	for s := from; s < to; s++ {
		st.acked[s] = true
	}
	st.mu.Unlock()
}

func (st *postStats) fail(key string) {
	st.mu.Lock()
	st.errs[key]++
	st.mu.Unlock()
}

// fill adds the sender's figures to p.
func (st *postStats) fill(p *PhaseResult, tl *timeline) {
	p.Posts = int(st.posts.Load())
	p.EventsSent = int(st.events.Load())
	p.AckedEvents = int(st.ackEvs.Load())
	p.AckLatency = st.ackLat.summary()
	st.mu.Lock()
	p.HTTPErrors = map[string]int{}
	for k, v := range st.errs {
		p.HTTPErrors[k] = v
	}
	st.mu.Unlock()
	if secs := tl.seconds(tl.lastAck.Load()); secs > 0 {
		p.Seconds = round3(secs)
		p.AcksPerSec = round3(float64(st.acks.Load()) / secs)
		p.AckEventsPerSec = round3(float64(p.AckedEvents) / secs)
	}
}
