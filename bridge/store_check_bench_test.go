package bridge

import (
	"os"
	"testing"
	"time"
)

// BenchmarkStoreCheck times, on a store of a million ledger records (the
// shape of a year of service, see SeedBenchLedger), the checks every open
// makes ("open": the file's header pages, free-page list and root page,
// the buckets' first pages and the schema record) and the full check
// ("verify": every record read, then bbolt's tx.Check), which runs only
// on request (askbridge check-store, serve --verify-store) or when a
// header page is not valid.
func BenchmarkStoreCheck(b *testing.B) {
	dir := b.TempDir()
	SeedBenchLedger(b, dir, 1_000_000, time.Now())
	if info, err := os.Stat(StorePath(dir)); err == nil {
		b.Logf("store file: %d MB", info.Size()>>20)
	}
	for _, verify := range []bool{false, true} {
		name := "open"
		if verify {
			name = "verify"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				st, err := OpenStoreWith(dir, StoreOptions{LockWait: time.Second, Verify: verify})
				if err != nil {
					b.Fatal(err)
				}
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
