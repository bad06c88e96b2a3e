package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Ledger records. Every read and write of BucketLedger goes through
// EncodeRecord and DecodeRecord (Ledger's methods use them).
//
// Records written by this version are binary, version 1:
//
//	0x01                          version
//	time   Time
//	string Direction, Kind, Page, Guest, MID, XMPPID, Operator, State, Error
//	varint Attempts
//	string Text
//	uvarint number of copies, then each as string operator, string stanza id,
//	        in operator order
//
// with the primitives of codec.go. Nothing may follow the last field.
//
// Records written before are JSON objects (Record's JSON tags) and start
// with '{'; they are read as they are and written in the current version
// when they next change. A later version takes the next version byte;
// bytes 0x00–0x1f never start JSON, so they cannot be confused with old
// records.

// recordV1 is the first byte of a version 1 ledger record.
const recordV1 byte = 1

// EncodeRecord returns r's record in the current version.
func EncodeRecord(r *Record) []byte {
	n := 1 + 11 + 10*2 + len(r.Direction) + len(r.Kind) + len(r.Page) + len(r.Guest) + len(r.MID) +
		len(r.XMPPID) + len(r.Operator) + len(r.State) + len(r.Error) + len(r.Text)
	for op, id := range r.Copies {
		n += 4 + len(op) + len(id)
	}
	b := make([]byte, 0, n)
	b = append(b, recordV1)
	b = appendTime(b, r.Time)
	for _, s := range [...]string{string(r.Direction), r.Kind, r.Page, r.Guest, r.MID, r.XMPPID, r.Operator, r.State, r.Error} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(r.Attempts))
	b = appendString(b, r.Text)
	b = binary.AppendUvarint(b, uint64(len(r.Copies)))
	if len(r.Copies) == 0 {
		return b
	}
	for _, op := range slices.Sorted(maps.Keys(r.Copies)) {
		b = appendString(b, op)
		b = appendString(b, r.Copies[op])
	}
	return b
}

// DecodeRecord decodes a ledger record of any version into r, which it
// overwrites entirely. The record keeps no reference to v. A record that
// cannot be read gives an error, never a panic.
func DecodeRecord(v []byte, r *Record) error {
	*r = Record{}
	switch {
	case len(v) == 0:
		return errors.New("empty ledger record")
	case v[0] == recordV1:
		if err := decodeRecordV1(v[1:], r); err != nil {
			return fmt.Errorf("ledger record version %d: %w", v[0], err)
		}
		return nil
	case v[0] < 0x20 && v[0] != '\t' && v[0] != '\n' && v[0] != '\r':
		return fmt.Errorf("ledger record of unknown version %d (a newer askbridge wrote it?)", v[0])
	}
	if err := json.Unmarshal(v, r); err != nil {
		return fmt.Errorf("ledger record: %w", err)
	}
	return nil
}

func decodeRecordV1(b []byte, r *Record) error {
	d := binReader{b: b}
	r.Time = d.time("time")
	var fields [9][]byte
	for i, what := range [...]string{"dir", "kind", "page", "guest", "mid", "xid", "op", "state", "err"} {
		fields[i] = d.bytes(what)
	}
	r.Attempts = d.int("attempts")
	text := d.bytes("text")
	at := d.i
	n := d.uvarint("copies", at)
	if d.err != nil {
		return d.err
	}
	if n > uint64(len(b)-d.i)/2 { // every copy takes at least its two length bytes
		return fmt.Errorf("copies at offset %d: %d copies in %d bytes: %w", at+1, n, len(b)-d.i, errTruncated)
	}
	if n > 0 {
		r.Copies = make(map[string]string, n)
		for range n {
			op, id := d.bytes("copy operator"), d.bytes("copy id")
			r.Copies[string(op)] = string(id)
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.i != len(b) {
		return fmt.Errorf("%d bytes after the last field", len(b)-d.i)
	}
	// One allocation for all the strings.
	n = uint64(len(text))
	for _, f := range fields {
		n += uint64(len(f))
	}
	var sb strings.Builder
	sb.Grow(int(n))
	for _, f := range fields {
		sb.Write(f)
	}
	sb.Write(text)
	all := sb.String()
	var strs [10]string
	for i, f := range fields {
		strs[i], all = all[:len(f)], all[len(f):]
	}
	strs[9] = all
	r.Direction = Direction(strs[0])
	r.Kind, r.Page, r.Guest, r.MID, r.XMPPID = strs[1], strs[2], strs[3], strs[4], strs[5]
	r.Operator, r.State, r.Error, r.Text = strs[6], strs[7], strs[8], strs[9]
	return nil
}

// RecordHasText reports, without decoding it all, whether the ledger
// record v still holds a transcript.
func RecordHasText(v []byte) (bool, error) {
	if len(v) > 0 && v[0] == recordV1 {
		d := binReader{b: v[1:]}
		d.time("time")
		for range 9 {
			d.bytes("field")
		}
		d.int("attempts")
		text := d.bytes("text")
		if d.err != nil {
			return false, fmt.Errorf("ledger record version %d: %w", v[0], d.err)
		}
		return len(text) > 0, nil
	}
	if !bytes.Contains(v, []byte(`"text":`)) {
		return false, nil // no transcript: no need to decode (transcripts are off by default)
	}
	var r Record
	if err := DecodeRecord(v, &r); err != nil {
		return false, err
	}
	return r.Text != "", nil
}
