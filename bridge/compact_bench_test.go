package bridge

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/askbridge/askbridge/bridge/store"
)

// BenchmarkCompactWhileAccepting runs, on a store holding a year of
// ledger records (1,000,000, seeded by SeedBenchLedger; a fresh copy per
// iteration), a first maintenance pass and then the compaction it makes
// due, while webhook events are accepted at 200 a second, one per call,
// and the bridge runs (dispatcher, XMPP writer and confirmer on a link
// that takes everything). Acceptance latency is measured from each
// call's scheduled start: "idle-" for 3 s before the pass, "pass-" during
// the pass, "compact-" during the compaction; "compact-s" and "pass-s"
// are their durations. Every accepted event must then reach the link.
// Metrics are medians over the iterations; each is also logged.
func BenchmarkCompactWhileAccepting(b *testing.B) {
	const every = 5 * time.Millisecond // 200 events/s
	defer func(d time.Duration) { maintenanceFirst = d }(maintenanceFirst)
	maintenanceFirst = 24 * time.Hour // the benchmark runs the pass itself
	tmpl := b.TempDir()
	SeedBenchLedger(b, tmpl, 1_000_000, time.Now())
	var (
		idleP99, passP50, passP99, passMax, passS []float64
		compP50, compP99, compMax, compS          []float64
	)
	// during runs f while acceptances flow and returns their sorted
	// latencies and how long f took.
	during := func(br *Bridge, f func()) ([]time.Duration, time.Duration) {
		stop := make(chan struct{})
		done := make(chan []time.Duration, 1)
		go func() { done <- ackLoad(b, br, every, stop) }()
		t0 := time.Now()
		f()
		d := time.Since(t0)
		close(stop)
		lat := <-done
		slices.Sort(lat)
		return lat, d
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		copyStateDir(b, tmpl, dir)
		st, br := openBenchBridge(b, dir)
		// The pass must not compact by itself: the compaction is timed
		// apart, right after it.
		err := st.update(func(tx *store.Tx) error {
			return tx.Bolt().Bucket(store.BucketMeta).Put(metaLastCompaction, store.U64(uint64(time.Now().Add(-time.Hour).UnixNano())))
		})
		if err != nil {
			b.Fatal(err)
		}
		link := newBenchLink()
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- br.Run(ctx, link) }()

		idle, _ := during(br, func() { <-time.After(3 * time.Second) })
		b.StartTimer()
		pass, passTook := during(br, func() {
			rep, err := br.maintain(context.Background())
			if err != nil || rep.Purge.Compacted {
				b.Errorf("pass: %+v, %v", rep, err)
			}
		})
		comp, compTook := during(br, func() {
			if ok, err := br.compactIfDue(true, time.Now()); err != nil || !ok {
				b.Errorf("compaction: done %v, %v", ok, err)
			}
		})
		b.StopTimer()
		accepted := int64(len(idle) + len(pass) + len(comp))
		deadline := time.After(2 * time.Minute)
		for {
			left, err := br.Pending()
			if err != nil {
				b.Fatal(err)
			}
			if left == 0 && link.n.Load() >= accepted {
				break
			}
			select {
			case <-link.sent:
			case <-time.After(time.Second): // the last removal signals nothing
			case <-deadline:
				b.Fatalf("%d entries still pending, %d of %d accepted events relayed", left, link.n.Load(), accepted)
			}
		}
		cancel()
		if err := <-ran; err != nil {
			b.Fatal(err)
		}
		if b.Failed() {
			b.FailNow()
		}
		idleP99 = append(idleP99, ms(percentile(idle, 0.99)))
		passP50 = append(passP50, ms(percentile(pass, 0.5)))
		passP99 = append(passP99, ms(percentile(pass, 0.99)))
		passMax = append(passMax, ms(pass[len(pass)-1]))
		passS = append(passS, passTook.Seconds())
		compP50 = append(compP50, ms(percentile(comp, 0.5)))
		compP99 = append(compP99, ms(percentile(comp, 0.99)))
		compMax = append(compMax, ms(comp[len(comp)-1]))
		compS = append(compS, compTook.Seconds())
		b.Logf("idle: %d acks, p99 %.1f ms; pass %.2f s: %d acks, p50 %.1f ms, p99 %.1f ms, max %.1f ms; "+
			"compaction %.2f s: %d acks, p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d relayed",
			len(idle), ms(percentile(idle, 0.99)), passTook.Seconds(), len(pass), ms(percentile(pass, 0.5)),
			ms(percentile(pass, 0.99)), ms(pass[len(pass)-1]), compTook.Seconds(), len(comp),
			ms(percentile(comp, 0.5)), ms(percentile(comp, 0.99)), ms(comp[len(comp)-1]), link.n.Load())
		b.StartTimer()
	}
	b.ReportMetric(median(idleP99), "idle-ack-p99-ms")
	b.ReportMetric(median(passP50), "pass-ack-p50-ms")
	b.ReportMetric(median(passP99), "pass-ack-p99-ms")
	b.ReportMetric(median(passMax), "pass-ack-max-ms")
	b.ReportMetric(median(passS), "pass-s")
	b.ReportMetric(median(compP50), "compact-ack-p50-ms")
	b.ReportMetric(median(compP99), "compact-ack-p99-ms")
	b.ReportMetric(median(compMax), "compact-ack-max-ms")
	b.ReportMetric(median(compS), "compact-s")
}
