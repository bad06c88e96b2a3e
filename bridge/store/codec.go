package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The binary records of the store (sessions, session_codec.go; ledger
// records, ledger_codec.go) share these primitives: a string is its
// length (uvarint) and its bytes, a varint is zig-zag (encoding/binary's
// Varint), and a time is uvarint 0 for the zero time, else uvarint
// nanoseconds+1 followed by varint Unix seconds. Times keep their instant,
// not their zone (every reader converts them to a configured zone).

// errTruncated is the error of a binary record that ends early.
var errTruncated = errors.New("truncated")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(t.Nanosecond())+1)
	return binary.AppendVarint(b, t.Unix())
}

// binReader reads the fields of a binary record (after its version
// byte); the first error sticks.
type binReader struct {
	b   []byte
	i   int
	err error
}

// fail records an error in the field that starts at b[at].
func (r *binReader) fail(what string, at int, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at offset %d: %w", what, at+1, err)
	}
}

func (r *binReader) uvarint(what string, at int) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.fail(what, at, varintError(n))
		return 0
	}
	r.i += n
	return x
}

func (r *binReader) varint(what string, at int) int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.fail(what, at, varintError(n))
		return 0
	}
	r.i += n
	return x
}

func varintError(n int) error {
	if n == 0 {
		return errTruncated
	}
	return errors.New("varint overflows 64 bits")
}

// bytes reads a length-prefixed string's bytes, which alias the record.
func (r *binReader) bytes(what string) []byte {
	at := r.i
	n := r.uvarint(what, at)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.i) {
		r.fail(what, at, fmt.Errorf("length %d: %w", n, errTruncated))
		return nil
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *binReader) int(what string) int {
	at := r.i
	x := r.varint(what, at)
	if x != int64(int(x)) {
		r.fail(what, at, fmt.Errorf("%d overflows int", x))
	}
	return int(x)
}

func (r *binReader) time(what string) time.Time {
	at := r.i
	ns := r.uvarint(what, at)
	if r.err != nil || ns == 0 {
		return time.Time{}
	}
	if ns > 1e9 {
		r.fail(what, at, fmt.Errorf("nanoseconds %d out of range", ns-1))
		return time.Time{}
	}
	sec := r.varint(what, at)
	return time.Unix(sec, int64(ns-1))
}
