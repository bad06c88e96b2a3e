package bridge

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// VerifyReport is what a full check of a store found.
type VerifyReport struct {
	// Records counts the key/value pairs read, in every bucket.
	Records int
	// Pages is the number of pages in use (the high-water mark).
	Pages int
	// PageSize is the size of a page in bytes.
	PageSize int
	// Took is how long the check ran.
	Took time.Duration
	// touched folds bytes of every record, so that reading them is not
	// optimised away.
	touched byte
}

// maxCheckProblems bounds how many of bbolt's findings a DamagedError
// names.
const maxCheckProblems = 3

// verifyDB reads every record of every bucket (each key and value, so that
// every page is touched), then runs bbolt's consistency check (tx.Check:
// free pages freed once, every page reachable or free, keys in order). The
// reading runs first and guarded: bbolt's check runs in a goroutine of its
// own, where a fault could not be caught, so it only sees pages that were
// read safely.
func verifyDB(db *bolt.DB, path string) (VerifyReport, error) {
	var rep VerifyReport
	start := time.Now()
	err := guarded(path, "reading every record", func() error {
		return db.View(func(tx *bolt.Tx) error {
			rep.PageSize = db.Info().PageSize
			rep.Pages = int(tx.Size()) / rep.PageSize
			return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
				n, sum, err := readBucket(b, 0)
				rep.Records += n
				rep.touched ^= sum
				return err
			})
		})
	})
	if errors.Is(err, errTooDeep) {
		return rep, &DamagedError{Path: path, Problem: "its buckets are nested too deep (scrambled pages?)"}
	}
	if err != nil {
		return rep, err
	}
	var problems []string
	extra := 0
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if len(problems) < maxCheckProblems {
				problems = append(problems, e.Error())
			} else {
				extra++
			}
		}
		return nil
	})
	rep.Took = time.Since(start)
	if err != nil {
		return rep, fmt.Errorf("bridge: checking %s: %w", path, err)
	}
	if len(problems) > 0 {
		msg := "bbolt's consistency check found " + strings.Join(problems, "; ")
		if extra > 0 {
			msg += fmt.Sprintf(" (and %d more)", extra)
		}
		return rep, &DamagedError{Path: path, Problem: msg}
	}
	return rep, nil
}

// maxBucketDepth bounds nested buckets; askbridge nests none, so a deep
// nesting is a damaged page.
const maxBucketDepth = 16

var errTooDeep = errors.New("buckets nested too deep")

// readBucket reads every key and value of b and of its nested buckets,
// touching their first and last bytes, and returns how many it read and
// those bytes folded.
func readBucket(b *bolt.Bucket, depth int) (int, byte, error) {
	if depth > maxBucketDepth {
		return 0, 0, errTooDeep
	}
	n := 0
	var sum byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n++
		sum ^= k[0] ^ k[len(k)-1]
		if v == nil {
			if child := b.Bucket(k); child != nil {
				m, s, err := readBucket(child, depth+1)
				n, sum = n+m, sum^s
				if err != nil {
					return n, sum, err
				}
			}
			continue
		}
		if len(v) > 0 {
			sum ^= v[0] ^ v[len(v)-1]
		}
	}
	return n, sum, nil
}

// VerifyFile runs the checks of every open and the full check on the
// store file at path — the configured store, or a backup before it is
// restored — reading it only: nothing is written. It fails with
// ErrStoreLocked while a daemon holds the file.
func VerifyFile(path string, lockWait time.Duration) (VerifyReport, error) {
	var rep VerifyReport
	in, err := inspectStoreFile(path)
	if err != nil {
		return rep, err
	}
	if in.absent {
		return rep, fmt.Errorf("bridge: no store at %s: %w", path, fs.ErrNotExist)
	}
	if in.empty {
		return rep, &DamagedError{Path: path, Problem: "the file is empty (0 bytes)"}
	}
	var db *bolt.DB
	err = guarded(path, "opening it", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: lockWait})
		if errors.Is(err, bolt.ErrTimeout) {
			return fmt.Errorf("bridge: opening %s: %w", path, ErrStoreLocked)
		}
		if err != nil {
			return fmt.Errorf("bridge: opening %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	defer db.Close()
	err = guarded(path, "reading its buckets", func() error {
		return db.View(func(tx *bolt.Tx) error {
			_, err := checkShape(tx, path)
			return err
		})
	})
	if err != nil {
		return rep, err
	}
	return verifyDB(db, path)
}
