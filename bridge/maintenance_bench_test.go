package bridge

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge/store"
)

// copyStateDir copies the files of the state directory src (the store and
// the pseudonym key) into dst, so that each benchmark iteration starts
// from the same seeded store.
func copyStateDir(tb testing.TB, src, dst string) {
	tb.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dst, e.Name()), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			in.Close()
			tb.Fatal(err)
		}
		_, err = io.Copy(out, in)
		if err == nil {
			err = out.Sync() // so that no writeback of the copy is timed
		}
		in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// openBenchBridge opens the store in dir and builds a bridge on it, not
// running; the store is closed at the end of the benchmark.
func openBenchBridge(b *testing.B, dir string) (*Store, *Bridge) {
	b.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ps, err := LoadPseudonymizer(dir, st)
	if err != nil {
		b.Fatal(err)
	}
	br, err := New(Options{Config: testConfig(dir), Store: st, Pseudonyms: ps, SendAPI: newFakeAPI(), Log: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	return st, br
}

// ackLoad makes one-event webhook acceptances at a fixed rate, each in
// its own goroutine, until stop is closed, and returns their latencies
// measured from each one's scheduled start (so that a stall cannot hide
// the acceptances it holds back).
func ackLoad(b *testing.B, br *Bridge, every time.Duration, stop <-chan struct{}) []time.Duration {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		wg   sync.WaitGroup
		next = time.Now()
	)
	for {
		select {
		case <-stop:
			wg.Wait()
			return lat
		case <-time.After(time.Until(next)):
		}
		sched := next
		next = next.Add(every)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := br.Accept(context.Background(), benchEvents(1, 1000)); err != nil {
				b.Error(err)
				return
			}
			d := time.Since(sched)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}()
	}
}

// percentile returns the p-th percentile (0 < p ≤ 1) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds))*p+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median returns the median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkMaintenanceAcks runs the first maintenance pass on a store
// holding a year of ledger records (a fresh copy per iteration, so that
// every pass is a first one: about 1,900,000 references to prune) while
// webhook events are accepted at 200 a second, one per call, and reports
// the acceptances' latency: "idle-" for 10 s of the same load before the
// pass (what the disk allows without maintenance), "ack-" during it,
// "after-" for a second after it.
// "longest-tx-ms" is the longest maintenance write transaction, "pass-s"
// the pass's duration. Metrics are medians over the iterations; each
// iteration is also logged.
func BenchmarkMaintenanceAcks(b *testing.B) {
	const every = 5 * time.Millisecond // 200 events/s
	tmpl := b.TempDir()
	SeedBenchLedger(b, tmpl, 1_000_000, time.Now())
	var idleP99, idleMax, afterP99, p50, p99, worst, longest, pass, txs []float64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		copyStateDir(b, tmpl, dir)
		st, br := openBenchBridge(b, dir)
		// Some seeded conversations have just passed the retention, so the
		// pass purges them and would compact the never compacted store
		// (BenchmarkCompact times that, BenchmarkCompactWhileAccepting the
		// acks meanwhile). Compaction is daily: note one an hour ago.
		err := st.update(func(tx *store.Tx) error {
			return tx.Bolt().Bucket(store.BucketMeta).Put(metaLastCompaction, store.U64(uint64(time.Now().Add(-time.Hour).UnixNano())))
		})
		if err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		time.AfterFunc(10*time.Second, func() { close(stop) })
		idle := ackLoad(b, br, every, stop)
		slices.Sort(idle)

		stop = make(chan struct{})
		done := make(chan []time.Duration, 1)
		go func() { done <- ackLoad(b, br, every, stop) }()
		b.StartTimer()
		t0 := time.Now()
		rep, err := br.maintain(context.Background())
		d := time.Since(t0)
		b.StopTimer()
		close(stop)
		lat := <-done
		if err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		stop = make(chan struct{})
		time.AfterFunc(time.Second, func() { close(stop) })
		after := ackLoad(b, br, every, stop)
		slices.Sort(after)
		afterP99 = append(afterP99, ms(percentile(after, 0.99)))
		idleP99 = append(idleP99, ms(percentile(idle, 0.99)))
		idleMax = append(idleMax, ms(idle[len(idle)-1]))
		p50 = append(p50, ms(percentile(lat, 0.5)))
		p99 = append(p99, ms(percentile(lat, 0.99)))
		worst = append(worst, ms(lat[len(lat)-1]))
		longest = append(longest, ms(rep.Longest))
		pass = append(pass, d.Seconds())
		txs = append(txs, float64(rep.Txs))
		if rep.Purge.Compacted {
			b.Fatal("the pass compacted the store")
		}
		b.Logf("pass %.2f s, %d write txs, longest %.1f ms; %d acks during it: p50 %.1f ms, p99 %.1f ms, max %.1f ms; idle: %d acks, p99 %.1f ms, max %.1f ms; after: p99 %.1f ms",
			d.Seconds(), rep.Txs, ms(rep.Longest), len(lat), ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), ms(lat[len(lat)-1]),
			len(idle), ms(percentile(idle, 0.99)), ms(idle[len(idle)-1]), ms(percentile(after, 0.99)))
		b.StartTimer()
	}
	b.ReportMetric(median(idleP99), "idle-ack-p99-ms")
	b.ReportMetric(median(idleMax), "idle-ack-max-ms")
	b.ReportMetric(median(afterP99), "after-ack-p99-ms")
	b.ReportMetric(median(p50), "ack-p50-ms")
	b.ReportMetric(median(p99), "ack-p99-ms")
	b.ReportMetric(median(worst), "ack-max-ms")
	b.ReportMetric(median(longest), "longest-tx-ms")
	b.ReportMetric(median(pass), "pass-s")
	b.ReportMetric(median(txs), "write-txs")
}

// BenchmarkCompact times Store.Compact, which rewrites the whole file
// while write transactions wait, on a store holding a year of ledger
// records: "seeded-s" as seeded, "after-pass-s" after a first maintenance
// pass (that does not compact) has pruned the old references: the file a
// routine compaction rewrites. The "-MB" metrics are the file's sizes.
func BenchmarkCompact(b *testing.B) {
	tmpl := b.TempDir()
	SeedBenchLedger(b, tmpl, 1_000_000, time.Now())
	var seeded, after, sizeSeeded, sizeCompacted, sizeAfter, sizeAfterCompacted []float64
	size := func(st *Store) float64 {
		fi, err := os.Stat(st.Path())
		if err != nil {
			b.Fatal(err)
		}
		return float64(fi.Size()) / (1 << 20)
	}
	compact := func(st *Store) time.Duration {
		b.StartTimer()
		t0 := time.Now()
		if err := st.Compact(); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		b.StopTimer()
		return d
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		copyStateDir(b, tmpl, dir)
		st, _ := openBenchBridge(b, dir)
		sizeSeeded = append(sizeSeeded, size(st))
		seeded = append(seeded, compact(st).Seconds())
		sizeCompacted = append(sizeCompacted, size(st))

		dir = b.TempDir()
		copyStateDir(b, tmpl, dir)
		st, br := openBenchBridge(b, dir)
		err := st.update(func(tx *store.Tx) error {
			return tx.Bolt().Bucket(store.BucketMeta).Put(metaLastCompaction, store.U64(uint64(time.Now().Add(-time.Hour).UnixNano())))
		})
		if err != nil {
			b.Fatal(err)
		}
		if rep, err := br.maintain(context.Background()); err != nil || rep.Purge.Compacted {
			b.Fatalf("pass: %+v %v", rep, err)
		}
		sizeAfter = append(sizeAfter, size(st))
		after = append(after, compact(st).Seconds())
		sizeAfterCompacted = append(sizeAfterCompacted, size(st))
		b.Logf("seeded %.0f MB: compacted in %.2f s to %.0f MB; after a pass %.0f MB: compacted in %.2f s to %.0f MB",
			sizeSeeded[len(sizeSeeded)-1], seeded[len(seeded)-1], sizeCompacted[len(sizeCompacted)-1],
			sizeAfter[len(sizeAfter)-1], after[len(after)-1], sizeAfterCompacted[len(sizeAfterCompacted)-1])
		b.StartTimer()
	}
	b.ReportMetric(median(seeded), "seeded-s")
	b.ReportMetric(median(after), "after-pass-s")
	b.ReportMetric(median(sizeSeeded), "seeded-MB")
	b.ReportMetric(median(sizeCompacted), "seeded-compacted-MB")
	b.ReportMetric(median(sizeAfter), "after-pass-MB")
	b.ReportMetric(median(sizeAfterCompacted), "after-pass-compacted-MB")
}

// BenchmarkMigrateSessions is maintenance rewriting the 1,000,000 JSON
// session records of a store from before record version 1: how long it
// takes, in how many write transactions, and the longest time one held
// the store's writer (what a webhook could wait behind).
func BenchmarkMigrateSessions(b *testing.B) {
	tmpl := b.TempDir()
	SeedBenchSessions(b, tmpl, 1_000_000)
	if _, err := NewPseudonymKey(tmpl); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		copyStateDir(b, tmpl, dir)
		_, br := openBenchBridge(b, dir)
		p := br.newPass(context.Background())
		b.StartTimer()
		t0 := time.Now()
		n, err := p.migrateSessions()
		d := time.Since(t0)
		b.StopTimer()
		if err != nil || n != 1_000_000 {
			b.Fatalf("migrated %d: %v", n, err)
		}
		b.ReportMetric(float64(p.rep.Txs), "write-txs")
		b.ReportMetric(float64(p.rep.Longest.Microseconds())/1000, "longest-tx-ms")
		b.Logf("1,000,000 sessions rewritten in %.1f s, %d write transactions, longest %v", d.Seconds(), p.rep.Txs, p.rep.Longest)
		b.StartTimer()
	}
}
