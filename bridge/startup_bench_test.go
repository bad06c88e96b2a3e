package bridge

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// seedChunk is how many records one seeding transaction writes.
const seedChunk = 50_000

// SeedBenchLedger fills the store in dir with n ledger records spread over
// the year before now, each with its two references, the deduplication
// entries of the last week and one conversation per patron active in the
// last week — the shape a store has after a year of service. It is for
// benchmarks (exported for the bridge_test package).
func SeedBenchLedger(tb testing.TB, dir string, n int, now time.Time) {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	ps, err := LoadPseudonymizer(dir, st)
	if err != nil {
		tb.Fatal(err)
	}
	start := now.Add(-365 * 24 * time.Hour)
	step := 365 * 24 * time.Hour / time.Duration(n)
	const patrons = 20_000
	for from := 0; from < n; from += seedChunk {
		err := st.update(func(tx *store.Tx) error {
			ledger, seen := tx.Ledger(), tx.Bolt().Bucket(store.BucketSeen)
			convs := tx.Bolt().Bucket(store.BucketConversations)
			for i := from; i < min(from+seedChunk, n); i++ {
				at := start.Add(time.Duration(i) * step)
				psid := fmt.Sprintf("7%015d", i%patrons)
				guest := ps.Guest(testPage, psid)
				mid := fmt.Sprintf("m_seed.%d", i)
				k := make([]byte, 16)
				binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
				binary.BigEndian.PutUint64(k[8:], uint64(i+1))
				r := &Record{Time: at, Direction: Inbound, Kind: "message", Page: testPage, Guest: guest,
					MID: mid, XMPPID: "fb-" + hex.EncodeToString(k[:10]), Operator: "alice@library.test", State: StateSent}
				if i%2 == 1 {
					r.Direction, r.Kind, r.MID = Outbound, "reply", mid+".out"
				}
				if err := ledger.Put(k, r); err != nil {
					return err
				}
				if err := ledger.AddRef(store.StanzaRef(r.XMPPID), k); err != nil {
					return err
				}
				if err := ledger.AddRef(store.MessageRef(r.MID), k); err != nil {
					return err
				}
				if now.Sub(at) < seenTTL && r.Direction == Inbound {
					if err := seen.Put([]byte("m:"+mid), store.U64(uint64(at.UnixNano()))); err != nil {
						return err
					}
					c := &Conversation{Page: testPage, PSID: psid, Guest: guest, LastPatron: at, LastActivity: at}
					if err := putJSON(convs, []byte(psid), c); err != nil {
						return err
					}
				}
			}
			return tx.Bolt().Bucket(store.BucketLedger).SetSequence(uint64(n))
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// SeedBenchSessions fills the store in dir with n finished sessions spread
// over 2026 (Toronto time), most answered, some tagged and rated.
func SeedBenchSessions(tb testing.TB, dir string, n int) {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	step := 365 * 24 * time.Hour / time.Duration(n)
	ops := []string{"alice@library.test", "bob@library.test", "carol@library.test"}
	tags := [][]string{nil, {"hours"}, {"databases", "research"}, nil, {"printing"}}
	statuses := []stats.Status{stats.StatusAnswered, stats.StatusAnswered, stats.StatusAnswered, stats.StatusMissed, stats.StatusAfterHours, stats.StatusAutoOnly}
	for from := 0; from < n; from += seedChunk {
		err := st.update(func(tx *store.Tx) error {
			b := tx.Bolt().Bucket(store.BucketSessions)
			for i := from; i < min(from+seedChunk, n); i++ {
				at := start.Add(time.Duration(i) * step)
				k := make([]byte, 16)
				binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
				binary.BigEndian.PutUint64(k[8:], uint64(i+1))
				s := &stats.Session{ID: hex.EncodeToString(k), Guest: fmt.Sprintf("%016x", uint64(i)*2654435761),
					Page: testPage, Queue: testQueue, Started: at, Ended: at.Add(time.Duration(60+i%3600) * time.Second),
					Status: statuses[i%len(statuses)], MessagesIn: 1 + i%7}
				if s.Status == stats.StatusAnswered {
					s.Accepted = at.Add(time.Duration(5+i%240) * time.Second)
					s.Operator = ops[i%len(ops)]
					s.MessagesOut = 1 + i%5
					s.Questions = 1 + i%2
					s.ReadLevel = i % 7
					s.Tags = tags[i%len(tags)]
				}
				if err := putJSON(b, k, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkStartup opens a store holding a year of ledger records and
// starts the bridge, then times the first webhook event of the new
// process: "ms/open" to open the store and build the bridge, "ms/ack" until
// the event's inbox commit returns (what the webhook's 200 waits for),
// "ms/relay" until its stanza reaches the link.
//
// In the "first-pass-at-start" case every start is on a fresh copy of the
// seeded store and the maintenance loop runs its first pass at once
// instead of a minute later: the worst case, a first pass over a large
// store (about 1,900,000 references to prune) running while webhooks
// arrive. A second event then comes 300 ms after the start, while the pass
// is well under way: "ms/late-ack" and "ms/late-relay" time it from its
// arrival (the relay until the link's count of messages grows).
func BenchmarkStartup(b *testing.B) {
	cases := []struct {
		n           int
		passAtStart bool
	}{{0, false}, {1_000_000, false}, {1_000_000, true}}
	for _, c := range cases {
		name := fmt.Sprintf("ledger=%d", c.n)
		if c.passAtStart {
			name += "/first-pass-at-start"
		}
		b.Run(name, func(b *testing.B) {
			seeded := b.TempDir()
			if c.n > 0 {
				SeedBenchLedger(b, seeded, c.n, time.Now())
			}
			if c.passAtStart {
				defer func(d time.Duration) { maintenanceFirst = d }(maintenanceFirst)
				maintenanceFirst = 0
			}
			var open, ack, relay, lastAck, lastRelay, lateAck, lateRelay time.Duration
			for b.Loop() {
				dir := seeded
				if c.passAtStart {
					b.StopTimer()
					dir = b.TempDir()
					copyStateDir(b, seeded, dir)
					b.StartTimer()
				}
				t0 := time.Now()
				st, err := OpenStore(dir, time.Second)
				if err != nil {
					b.Fatal(err)
				}
				ps, err := LoadPseudonymizer(dir, st)
				if err != nil {
					b.Fatal(err)
				}
				br, err := New(Options{Config: testConfig(dir), Store: st, Pseudonyms: ps, SendAPI: newFakeAPI(), Log: zap.NewNop()})
				if err != nil {
					b.Fatal(err)
				}
				open += time.Since(t0)
				link := newBenchLink()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- br.Run(ctx, link) }()
				if err := br.Accept(context.Background(), benchEvents(1, 1000)); err != nil {
					b.Fatal(err)
				}
				lastAck = time.Since(t0)
				ack += lastAck
				select {
				case <-link.sent:
				case <-time.After(time.Minute):
					b.Fatal("no stanza within a minute")
				}
				lastRelay = time.Since(t0)
				relay += lastRelay
				if c.passAtStart {
					time.Sleep(time.Until(t0.Add(300 * time.Millisecond)))
					n0, t1 := link.n.Load(), time.Now()
					if err := br.Accept(context.Background(), benchEvents(1, 1000)); err != nil {
						b.Fatal(err)
					}
					a := time.Since(t1)
					for link.n.Load() == n0 {
						select {
						case <-link.sent:
						case <-time.After(time.Minute):
							b.Fatal("no stanza within a minute")
						}
					}
					r := time.Since(t1)
					lateAck, lateRelay = lateAck+a, lateRelay+r
					b.Logf("event 300 ms after start: ack %.1f ms, relay %.1f ms", ms(a), ms(r))
				}
				b.Logf("start: ack %.1f ms, relay %.1f ms", ms(lastAck), ms(lastRelay))
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(per(open), "ms/open")
			b.ReportMetric(per(ack), "ms/ack")
			b.ReportMetric(per(relay), "ms/relay")
			// The last start shows the steady state, after earlier starts
			// did one-time work (such as a first purge).
			b.ReportMetric(float64(lastAck.Microseconds())/1000, "ms/last-ack")
			b.ReportMetric(float64(lastRelay.Microseconds())/1000, "ms/last-relay")
			if c.passAtStart {
				b.ReportMetric(per(lateAck), "ms/late-ack")
				b.ReportMetric(per(lateRelay), "ms/late-relay")
			}
		})
	}
}

// BenchmarkPurge is the hourly maintenance pass (pruning deduplication
// entries and references, the privacy purge) on a store holding a year of
// ledger records, with transcripts off. The first iteration is a first
// pass (about 1,900,000 references to prune), the later ones the steady
// state: "s/first-pass" and "ms/later-pass" time them apart, and
// "ms/longest-tx" is the longest write transaction of any pass, for which
// webhook commits wait.
func BenchmarkPurge(b *testing.B) {
	dir := b.TempDir()
	SeedBenchLedger(b, dir, 1_000_000, time.Now())
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ps, err := LoadPseudonymizer(dir, st)
	if err != nil {
		b.Fatal(err)
	}
	br, err := New(Options{Config: testConfig(dir), Store: st, Pseudonyms: ps, SendAPI: newFakeAPI(), Log: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	var first, later, longest time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		rep, err := br.maintain(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		if i == 0 {
			first = d
		} else {
			later += d
		}
		longest = max(longest, rep.Longest)
		b.Logf("pass %d: %.3f s, %d write txs, longest %.1f ms", i+1, d.Seconds(), rep.Txs, ms(rep.Longest))
		i++
	}
	b.ReportMetric(first.Seconds(), "s/first-pass")
	if i > 1 {
		b.ReportMetric(ms(later)/float64(i-1), "ms/later-pass")
	}
	b.ReportMetric(ms(longest), "ms/longest-tx")
}
