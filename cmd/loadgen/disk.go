package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// fsyncProbes is how many fdatasync calls probeDisk times.
const fsyncProbes = 200

// probeDisk times fdatasync of a rewritten 4 KiB block in dir, the floor
// under every durable BoltDB commit (which makes two). On a shared virtual
// disk its tail, not the code, bounds the tail latency of anything
// durable.
func probeDisk(dir string) (Percentiles, error) {
	path := filepath.Join(dir, "fsync-probe")
	f, err := os.Create(path)
	if err != nil {
		return Percentiles{}, fmt.Errorf("loadgen: disk probe: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	block := make([]byte, 4096)
	var rec recorder
	for i := range fsyncProbes {
		block[0] = byte(i)
		if _, err := f.WriteAt(block, int64(i%16)*4096); err != nil {
			return Percentiles{}, fmt.Errorf("loadgen: disk probe: %w", err)
		}
		t := time.Now()
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return Percentiles{}, fmt.Errorf("loadgen: disk probe: %w", err)
		}
		rec.add(time.Since(t))
	}
	return rec.summary(), nil
}
