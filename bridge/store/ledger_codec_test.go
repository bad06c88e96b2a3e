package store

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"strings"
	"testing"
	"time"
)

// sameRecord reports how a and b differ: the time by instant (the codec
// keeps instants, not zones), copies with nil and empty alike.
func sameRecord(a, b *Record) string {
	switch {
	case !a.Time.Equal(b.Time):
		return "time"
	case a.Direction != b.Direction || a.Kind != b.Kind || a.Page != b.Page || a.Guest != b.Guest:
		return "identity"
	case a.MID != b.MID || a.XMPPID != b.XMPPID || a.Operator != b.Operator:
		return "ids"
	case a.State != b.State || a.Error != b.Error || a.Attempts != b.Attempts || a.Text != b.Text:
		return "state"
	case !maps.Equal(a.Copies, b.Copies):
		return "copies"
	}
	return ""
}

func recordSamples() []Record {
	loc, _ := time.LoadLocation("America/Toronto")
	t0 := time.Date(2026, 3, 8, 1, 59, 59, 123456789, loc)
	return []Record{
		{},
		{Time: t0, Direction: Inbound, Kind: "message", Page: "510249619162304", Guest: "3f9a0c2b7d1e4a65",
			MID: "m_AbC-123_def", XMPPID: "fb-0123456789abcdef", State: StateQueued},
		{Time: t0, Direction: Outbound, Kind: "reply", Page: "510249619162304", Guest: "3f9a0c2b7d1e4a65",
			MID: "m_out", XMPPID: "r1", Operator: "alice@library.test", State: StateFailed,
			Error: "graph 10/2018278", Attempts: 3, Text: "We open at 9 — à bientôt 📚"},
		{Time: time.Unix(0, 0), Direction: Internal, Kind: "notice", State: StateSent,
			Copies: map[string]string{"alice@library.test": "fb-1.1", "bob@library.test": "fb-1", "": ""}},
		{Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Attempts: math.MinInt, Text: strings.Repeat("x", 5000)},
		{Time: time.Date(300000, 6, 1, 0, 0, 0, 0, time.FixedZone("", 3600)), Attempts: math.MaxInt,
			Guest: "bad utf8 \xff", Text: "\x00\x01\u2028"},
	}
}

// TestRecordCodec: every sample reads back as written, and a JSON record
// of an earlier release reads as encoding/json reads it.
func TestRecordCodec(t *testing.T) {
	for i, want := range recordSamples() {
		v := EncodeRecord(&want)
		if v[0] != recordV1 {
			t.Fatalf("sample %d: version byte %#x", i, v[0])
		}
		var got Record
		if err := DecodeRecord(v, &got); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if d := sameRecord(&want, &got); d != "" {
			t.Errorf("sample %d: %s differs: wrote %+v, read %+v", i, d, want, got)
		}
		if has, err := RecordHasText(v); err != nil || has != (want.Text != "") {
			t.Errorf("sample %d: RecordHasText = %v, %v", i, has, err)
		}
		legacy, err := json.Marshal(&want)
		if err != nil {
			continue // a time JSON cannot hold: no earlier release wrote it
		}
		var viaJSON, old Record
		_ = json.Unmarshal(legacy, &viaJSON)
		if err := DecodeRecord(legacy, &old); err != nil {
			t.Fatalf("sample %d, JSON: %v", i, err)
		}
		if d := sameRecord(&viaJSON, &old); d != "" {
			t.Errorf("sample %d, JSON: %s differs", i, d)
		}
		if has, err := RecordHasText(legacy); err != nil || has != (viaJSON.Text != "") {
			t.Errorf("sample %d, JSON: RecordHasText = %v, %v", i, has, err)
		}
	}
}

// TestRecordCodecErrors: a damaged record is an error, never a panic or a
// record read wrong.
func TestRecordCodecErrors(t *testing.T) {
	full := EncodeRecord(&recordSamples()[2])
	for n := 1; n < len(full); n++ {
		var r Record
		if err := DecodeRecord(full[:n], &r); err == nil {
			t.Errorf("a record cut at %d of %d bytes reads without error", n, len(full))
		} else if !errors.Is(err, errTruncated) {
			t.Errorf("cut at %d: %v does not say it is truncated", n, err)
		}
	}
	var r Record
	if err := DecodeRecord(append(full, 0), &r); err == nil {
		t.Error("a byte after the last field reads without error")
	}
	if err := DecodeRecord([]byte{0x07, 1, 2}, &r); err == nil || !strings.Contains(err.Error(), "unknown version 7") {
		t.Errorf("unknown version: %v", err)
	}
	if err := DecodeRecord(nil, &r); err == nil {
		t.Error("an empty record reads without error")
	}
	// A copy count larger than the bytes left could hold.
	bad := append(EncodeRecord(&Record{})[:len(EncodeRecord(&Record{}))-1], 0xff, 0xff, 0x03)
	if err := DecodeRecord(bad, &r); !errors.Is(err, errTruncated) {
		t.Errorf("impossible copy count: %v", err)
	}
}

// TestRecordSmallerThanJSON: the binary record of a typical message takes
// at most 60% of the bytes of its JSON (the strings themselves are most
// of it).
func TestRecordSmallerThanJSON(t *testing.T) {
	r := recordSamples()[1]
	r.Operator = "ask@chat.library.example.org"
	bin := EncodeRecord(&r)
	js, _ := json.Marshal(&r)
	if len(bin)*10 > len(js)*6 {
		t.Errorf("binary %d bytes, JSON %d", len(bin), len(js))
	}
	t.Logf("typical inbound record: binary %d bytes, JSON %d", len(bin), len(js))
}

// FuzzDecodeRecord: any bytes decode to a record or an error, never a
// panic, and a record that decodes encodes back to bytes that decode
// alike.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range recordSamples() {
		f.Add(EncodeRecord(&r))
		js, _ := json.Marshal(&r)
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var r Record
		if DecodeRecord(v, &r) != nil {
			return
		}
		_, _ = RecordHasText(v)
		var again Record
		if err := DecodeRecord(EncodeRecord(&r), &again); err != nil {
			t.Fatalf("re-encoded record: %v", err)
		}
		if d := sameRecord(&r, &again); d != "" {
			t.Fatalf("re-encoded record: %s differs", d)
		}
	})
}

// BenchmarkRecordCodec compares the binary record with the JSON one of
// earlier releases, for a typical inbound record: encode, decode, and the
// delivery-state change (decode, change, encode) every relayed message
// makes.
func BenchmarkRecordCodec(b *testing.B) {
	r := recordSamples()[1]
	r.Operator = "ask@chat.library.example.org"
	bin := EncodeRecord(&r)
	js, _ := json.Marshal(&r)
	codecs := []struct {
		name   string
		v      []byte
		encode func(*Record) []byte
		decode func([]byte, *Record) error
	}{
		{"binary", bin, EncodeRecord, DecodeRecord},
		{"json", js, func(r *Record) []byte { v, _ := json.Marshal(r); return v }, func(v []byte, r *Record) error { return json.Unmarshal(v, r) }},
	}
	for _, c := range codecs {
		b.Run("encode/"+c.name, func(b *testing.B) {
			for b.Loop() {
				_ = c.encode(&r)
			}
			b.ReportMetric(float64(len(c.v)), "bytes/record")
		})
		b.Run("decode/"+c.name, func(b *testing.B) {
			var out Record
			for b.Loop() {
				if err := c.decode(c.v, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("mark-sent/"+c.name, func(b *testing.B) {
			var out Record
			for b.Loop() {
				if err := c.decode(c.v, &out); err != nil {
					b.Fatal(err)
				}
				out.State = StateSent
				_ = c.encode(&out)
			}
		})
	}
}
