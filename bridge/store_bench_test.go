package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"

	bolt "go.etcd.io/bbolt"
)

// Benchmarks of the bridge's hot paths on a real BoltDB file with every
// commit fsynced, as in production. They measure; they assert nothing
// about time.

// benchLink accepts every stanza and counts them.
type benchLink struct {
	n    atomic.Int64
	sent chan struct{}
}

func newBenchLink() *benchLink { return &benchLink{sent: make(chan struct{}, 1)} }

func (l *benchLink) SendBatch(stanzas []xmpp.Stanza) ([]error, error) {
	for _, s := range stanzas {
		if _, ok := s.(xmpp.Message); ok {
			l.n.Add(1)
		}
	}
	select {
	case l.sent <- struct{}{}:
	default:
	}
	return nil, nil
}

func (l *benchLink) Connected() bool { return true }

func (l *benchLink) SendPresence(xmpp.Presence) error { return nil }

func (l *benchLink) Sync() error { return nil }

// benchBridge opens a store in a fresh directory and builds a bridge on
// it, not running.
func benchBridge(b *testing.B) *Bridge {
	b.Helper()
	_, br := openBenchBridge(b, b.TempDir())
	return br
}

var benchSeq atomic.Int64

// benchEvents returns n patron messages of distinct patrons (patrons of
// them, cycling) with fresh mids.
func benchEvents(n, patrons int) []messenger.Event {
	evs := make([]messenger.Event, n)
	now := time.Now()
	for i := range evs {
		s := benchSeq.Add(1)
		evs[i] = messenger.Event{Kind: messenger.KindMessage, Page: testPage,
			Patron: messenger.PSID(fmt.Sprintf("7%015d", s%int64(patrons))), Time: now,
			MID: messenger.MID(fmt.Sprintf("m_bench.%d", s)), Text: fmt.Sprintf("Do you have the annual report? %d", s)}
	}
	return evs
}

// BenchmarkAccept is the store write of one webhook POST (deduplication
// marks and routing: ledger records, conversation, session and outbox
// entries, in one fsynced commit shared between concurrent POSTs).
// "serial" is one POST at a time, so every commit is its own; "parallel"
// has 16 POSTs in flight, as under load.
func BenchmarkAccept(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("serial/events=%d", n), func(b *testing.B) {
			br := benchBridge(b)
			b.ReportAllocs()
			for b.Loop() {
				if err := br.Accept(context.Background(), benchEvents(n, 1000)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(fmt.Sprintf("parallel16/events=%d", n), func(b *testing.B) {
			br := benchBridge(b)
			b.ReportAllocs()
			b.SetParallelism(8) // 16 goroutines on 2 CPUs
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := br.Accept(context.Background(), benchEvents(n, 1000)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// fillInbox stores n events directly (one commit), outside the timer.
func fillInbox(b *testing.B, br *Bridge, n, patrons int) {
	b.Helper()
	evs := benchEvents(n, patrons)
	err := br.store.update(func(tx *store.Tx) error {
		inbox := tx.Bolt().Bucket(store.BucketInbox)
		for i := range evs {
			k, err := store.SeqKey(inbox)
			if err != nil {
				return err
			}
			if err := putJSON(inbox, k, &evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDispatch moves a full dispatch batch (256 inbox entries) to the
// XMPP outbox and the ledger in one fsynced commit: routing, conversation
// and session updates, ledger record and references, outbox entry.
func BenchmarkDispatch(b *testing.B) {
	br := benchBridge(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fillInbox(b, br, dispatchBatch, 1000)
		b.StartTimer()
		n, err := br.dispatchOnce()
		if err != nil || n != dispatchBatch {
			b.Fatalf("dispatched %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*dispatchBatch), "ns/event")
}

// BenchmarkRoute is the CPU work of dispatching one event, without the
// commit: route inside write transactions of dispatchBatch events that are
// rolled back (BoltDB splits nodes only at commit, so longer transactions
// would measure an ever larger node instead).
func BenchmarkRoute(b *testing.B) {
	br := benchBridge(b)
	cfg := br.config()
	evs := benchEvents(4096, 1000)
	var btx *bolt.Tx
	var tx *store.Tx
	defer func() {
		if btx != nil {
			_ = btx.Rollback()
		}
	}()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%dispatchBatch == 0 {
			b.StopTimer()
			if btx != nil {
				_ = btx.Rollback()
			}
			var err error
			if btx, err = br.store.db.Begin(true); err != nil {
				b.Fatal(err)
			}
			tx = store.Wrap(btx)
			b.StartTimer()
		}
		e := evs[i%len(evs)]
		e.MID = messenger.MID(fmt.Sprintf("m_route.%d", i))
		i++
		if err := br.route(tx, cfg, &e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedgerWrite adds 256 ledger records with their references in
// one fsynced commit, as a dispatch batch does.
func BenchmarkLedgerWrite(b *testing.B) {
	br := benchBridge(b)
	now := time.Now()
	var seq int
	b.ReportAllocs()
	for b.Loop() {
		err := br.store.update(func(tx *store.Tx) error {
			for range 256 {
				seq++
				r := &Record{Time: now, Direction: Inbound, Kind: "message", Page: testPage, Guest: "7f3a9c0d1e2b4a5f",
					MID: fmt.Sprintf("m_ledger.%d", seq), XMPPID: fmt.Sprintf("fb-%020d", seq), State: StateQueued}
				if _, err := tx.Ledger().Add(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*256), "ns/record")
}

// BenchmarkCommit is an fsynced BoltDB commit of one small write: the
// floor under every transaction above on this disk.
func BenchmarkCommit(b *testing.B) {
	br := benchBridge(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := br.store.Writable(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDrainXMPP writes a full drain batch (256 stanzas) to a link
// that takes them at once, then removes them from the outbox and marks
// their ledger records sent in one fsynced commit.
func BenchmarkDrainXMPP(b *testing.B) {
	br := benchBridge(b)
	link := newBenchLink()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fillInbox(b, br, xmppBatch, 1000)
		if _, err := br.dispatchOnce(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, _, err := br.drainXMPP(link)
		if err != nil || n != xmppBatch {
			b.Fatalf("drained %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*xmppBatch), "ns/stanza")
}

// BenchmarkRelay is the whole path inside the bridge with its own loops:
// 16 concurrent POSTs of one event each, timed until the last stanza
// reaches the link.
func BenchmarkRelay(b *testing.B) {
	br := benchBridge(b)
	link := newBenchLink()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx, link) }()
	defer func() {
		cancel()
		<-done
	}()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Accept(context.Background(), benchEvents(1, 1000)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	deadline := time.Now().Add(time.Minute)
	for link.n.Load() < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(link.n.Load())/b.Elapsed().Seconds(), "msgs/s")
}

// drainXMPP writes one batch and confirms it, for benchmarks that drive the
// outbox step by step: a fresh owner reads the outbox, writes, and commits
// the removal itself.
func (b *Bridge) drainXMPP(link Link) (int, time.Time, error) {
	q := newXMPPQueue(b)
	if err := q.load(); err != nil {
		return 0, time.Time{}, err
	}
	due := q.write(link)
	items := q.own.written
	if len(items) == 0 {
		return 0, due, nil
	}
	if err := link.Sync(); err != nil {
		return 0, due, errors.New("bridge: the batch was not confirmed")
	}
	if err := b.store.batch(func(tx *store.Tx) error { return b.removeSent(tx, items) }); err != nil {
		return 0, due, err
	}
	return len(items), due, nil
}
