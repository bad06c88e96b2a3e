package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// sameSession reports how a and b differ: times by instant (the codecs
// keep instants, not zones), tags with nil and empty alike.
func sameSession(a, b *stats.Session) string {
	switch {
	case a.ID != b.ID || a.Guest != b.Guest || a.Page != b.Page || a.Queue != b.Queue:
		return "identity"
	case !a.Started.Equal(b.Started):
		return "started"
	case !a.Accepted.Equal(b.Accepted):
		return "accepted"
	case !a.Ended.Equal(b.Ended):
		return "ended"
	case a.Operator != b.Operator || a.Status != b.Status:
		return "operator or status"
	case a.MessagesIn != b.MessagesIn || a.MessagesOut != b.MessagesOut || a.AutoReplies != b.AutoReplies ||
		a.Questions != b.Questions || a.ReadLevel != b.ReadLevel || a.Transfers != b.Transfers ||
		a.RepliesDelivered != b.RepliesDelivered || a.RepliesRefused != b.RepliesRefused || a.Protocol != b.Protocol:
		return "counts"
	case !slices.Equal(a.Tags, b.Tags):
		return "tags"
	}
	return ""
}

func codecSamples() []stats.Session {
	loc, _ := time.LoadLocation("America/Toronto")
	t0 := time.Date(2026, 3, 8, 1, 59, 59, 123456789, loc)
	return []stats.Session{
		{},
		{ID: "0001", Started: t0},
		{ID: "18a3b2c4d5e6f708000000000000002a", Guest: "3f9a0c2b7d1e4a65", Page: "510249619162304",
			Queue: "ask@chat.libraryh3lp.com", Started: t0, Accepted: t0.Add(42 * time.Second),
			Ended: t0.Add(9 * time.Minute), Operator: "alice@library.test", Status: stats.StatusAnswered,
			MessagesIn: 6, MessagesOut: 5, AutoReplies: 1, Questions: 2, ReadLevel: 3,
			Tags: []string{"hours", "printing"}, Transfers: 1, RepliesDelivered: 4, RepliesRefused: 1, Protocol: "instagram"},
		{ID: "x", Guest: "forgotten", Started: time.Unix(0, 0), Ended: time.Unix(1, 1).UTC(), Status: "weird <status> & \"quotes\"",
			Tags: []string{"é ü 中文 🎉", "interlibrary loan \"ILL\"", "tab\there", "\u2028", ""}},
		{ID: "neg", Started: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Accepted: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			MessagesIn: -1, Questions: math.MaxInt, ReadLevel: math.MinInt, Tags: []string{}},
		{ID: "far", Started: time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), Ended: time.Date(300000, 6, 1, 0, 0, 0, 0, time.FixedZone("", 3600))},
		{ID: "bad utf8 \xff", Guest: "\x00\x01", Queue: strings.Repeat("q", 300)},
	}
}

func TestSessionCodecRoundTrip(t *testing.T) {
	for _, want := range codecSamples() {
		rec := EncodeSession(&want)
		if rec[0] != sessionV2 {
			t.Fatalf("record starts with %#x", rec[0])
		}
		var got stats.Session
		if err := DecodeSession(rec, &got, NewSessionDecoder()); err != nil {
			t.Fatalf("%q: %v", want.ID, err)
		}
		if d := sameSession(&got, &want); d != "" {
			t.Errorf("%q: %s differs after a round trip:\n got %+v\nwant %+v", want.ID, d, got, want)
		}
	}
}

// TestDecodeVersion1 checks that a version 1 record, written before the
// reply outcome counts, still decodes, with both counts zero.
func TestDecodeVersion1(t *testing.T) {
	want := codecSamples()[2]
	want.RepliesDelivered, want.RepliesRefused, want.Protocol = 0, 0, ""
	rec := EncodeSession(&want)
	v1 := append([]byte{sessionV1}, rec[1:len(rec)-3]...) // two zero counts and an empty protocol, a byte each
	var got stats.Session
	if err := DecodeSession(v1, &got, nil); err != nil {
		t.Fatal(err)
	}
	if d := sameSession(&got, &want); d != "" {
		t.Errorf("%s differs:\n got %+v\nwant %+v", d, got, want)
	}
}

// TestDecodeOldJSON checks that records written as JSON before version 1
// (json.Marshal of a stats.Session) decode as encoding/json decodes them.
func TestDecodeOldJSON(t *testing.T) {
	for _, s := range codecSamples() {
		// JSON records predate the reply outcome counts.
		s.RepliesDelivered, s.RepliesRefused, s.Protocol = 0, 0, ""
		rec, err := json.Marshal(&s)
		if err != nil {
			continue // a year JSON cannot hold
		}
		var want, got stats.Session
		if err := json.Unmarshal(rec, &want); err != nil {
			t.Fatal(err)
		}
		if err := DecodeSession(rec, &got, NewSessionDecoder()); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if d := sameSession(&got, &want); d != "" {
			t.Errorf("%s: %s differs:\n got %+v\nwant %+v", rec, d, got, want)
		}
	}
}

func TestDecodeSessionErrors(t *testing.T) {
	good := EncodeSession(&codecSamples()[2])
	manyTags := EncodeSession(&stats.Session{ID: "x"})
	manyTags = manyTags[:len(manyTags)-3] // the reply counts and the protocol
	manyTags[len(manyTags)-1] = 0x7f
	tests := []struct {
		name string
		rec  []byte
		want string
	}{
		{"empty", nil, "empty session record"},
		{"version only", []byte{sessionV1}, "session record version 1: id at offset 1: truncated"},
		{"unknown version", []byte{3, 0, 0}, "session record of unknown version 3"},
		{"truncated", good[:len(good)-len("instagram")-5], "session record version 2: tag at offset 1"},
		{"truncated counts", good[:len(good)-len("instagram")-2], "session record version 2: replies_refused at offset"},
		{"truncated protocol", good[:len(good)-1], "session record version 2: protocol at offset"},
		{"trailing", append(slices.Clone(good), 0), "session record version 2: 1 bytes after the last field"},
		{"version 1 trailing", append([]byte{sessionV1}, good[1:]...), "session record version 1: 12 bytes after the last field"},
		{"string too long", []byte{sessionV1, 0x7f, 'a'}, "id at offset 1: length 127: truncated"},
		{"varint overflow", append([]byte{sessionV1}, bytes.Repeat([]byte{0xff}, 11)...), "id at offset 1: varint overflows 64 bits"},
		{"nanoseconds", []byte{sessionV1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, "started at offset 5: nanoseconds 4294967294 out of range"},
		{"too many tags", manyTags, "tags at offset " + fmt.Sprint(len(manyTags)-1) + ": 127 tags in 0 bytes: truncated"},
		{"bad json", []byte(`{"id":1}`), "session record in JSON: json: cannot unmarshal number"},
		{"not json", []byte("garbage"), "session record in JSON: invalid character"},
	}
	for _, tt := range tests {
		var s stats.Session
		err := DecodeSession(tt.rec, &s, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if err := DecodeSession([]byte{sessionV1}, &stats.Session{}, nil); !errors.Is(err, errTruncated) {
		t.Errorf("truncated record: %v does not match errTruncated", err)
	}
}

func FuzzSessionCodec(f *testing.F) {
	for _, s := range codecSamples() {
		f.Add(s.ID, s.Guest, s.Queue, string(s.Status), s.Started.Unix(), int64(s.Started.Nanosecond()), s.Accepted.UnixNano(),
			int64(s.MessagesIn), int64(s.Questions), strings.Join(s.Tags, "\x1f"))
	}
	f.Fuzz(func(t *testing.T, id, guest, queue, status string, sec, nsec, accepted, in, questions int64, tags string) {
		s := stats.Session{ID: id, Guest: guest, Page: queue + "p", Queue: queue, Started: time.Unix(sec, nsec),
			Operator: guest + "@x", Status: stats.Status(status), MessagesIn: int(in), Questions: int(questions), ReadLevel: int(in % 7),
			Transfers: int(questions >> 3), AutoReplies: int(-in), RepliesDelivered: int(in >> 2), RepliesRefused: int(-questions)}
		if accepted%3 != 0 {
			s.Accepted = time.Unix(0, accepted)
			s.Ended = s.Accepted.Add(time.Duration(questions))
		}
		if tags != "" {
			s.Tags = strings.Split(tags, "\x1f")
		}
		var got stats.Session
		if err := DecodeSession(EncodeSession(&s), &got, NewSessionDecoder()); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if d := sameSession(&got, &s); d != "" {
			t.Fatalf("%s differs after a round trip:\n got %+v\nwant %+v", d, got, s)
		}
	})
}

// FuzzDecodeSession feeds arbitrary bytes to the decoder, two records in
// a row through one SessionDecoder as a scan does (so that what it
// remembers from the first cannot change how it reads the second): it
// must never panic, and a record that is not version 1 must decode exactly
// as encoding/json decodes it, or fail where encoding/json fails.
func FuzzDecodeSession(f *testing.F) {
	var recs [][]byte
	for _, s := range codecSamples() {
		recs = append(recs, EncodeSession(&s))
		rec, _ := json.Marshal(&s)
		recs = append(recs, rec)
	}
	recs = append(recs,
		[]byte(`{"id":"a","started":"2026-02-29T10:00:00Z"}`),
		[]byte(`{"id":"a","started":"0000-02-29T24:00:00.1234567891-00:00","tags":null}`),
		[]byte(`{"messages_in":-0,"questions":00,"ID":"x","id":"y"}`),
		[]byte(`{"tags":["a","b",],"read_level":1e2}`),
		[]byte(`{"queue":"a\\","operator":"x","tags":["a\\"]}`),
		[]byte(`{"queue":"a\\\"b","operator":"x\"","tags":["a\\\"b"]}`),
		EncodeSession(&stats.Session{Queue: `a\`, Operator: `x"`, Tags: []string{`a\`}}))
	for i, a := range recs {
		f.Add(a, recs[(i+3)%len(recs)])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := NewSessionDecoder()
		for _, rec := range [][]byte{a, b} {
			var got stats.Session
			err := DecodeSession(rec, &got, d)
			if len(rec) == 0 || rec[0] < 0x20 && rec[0] != '\t' && rec[0] != '\n' && rec[0] != '\r' {
				continue
			}
			var want stats.Session
			wantErr := json.Unmarshal(rec, &want)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("%q: error %v, encoding/json's %v", rec, err, wantErr)
			}
			if err == nil {
				if d := sameSession(&got, &want); d != "" {
					t.Fatalf("%q: %s differs from encoding/json's:\n got %+v\nwant %+v", rec, d, got, want)
				}
			}
		}
	})
}

// BenchmarkDecodeSession decodes one answered, tagged session as the
// export reads it, from a JSON record (stores before version 1) and from
// a version 1 record.
func BenchmarkDecodeSession(b *testing.B) {
	loc, _ := time.LoadLocation("America/Toronto")
	at := time.Date(2026, 6, 1, 14, 3, 7, 536000000, loc)
	s := stats.Session{ID: "18a3b2c4d5e6f708000000000000002a", Guest: "3f9a0c2b7d1e4a65", Page: "510249619162304", Queue: "ask@chat.library.test",
		Started: at, Accepted: at.Add(42 * time.Second), Ended: at.Add(9 * time.Minute), Operator: "alice@library.test",
		Status: stats.StatusAnswered, MessagesIn: 6, MessagesOut: 5, Questions: 2, ReadLevel: 3, Tags: []string{"hours"}}
	js, err := json.Marshal(&s)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range []struct {
		name string
		v    []byte
	}{{"json", js}, {"v1", EncodeSession(&s)}} {
		b.Run(rec.name, func(b *testing.B) {
			d := NewSessionDecoder()
			var got stats.Session
			b.SetBytes(int64(len(rec.v)))
			b.ReportAllocs()
			for b.Loop() {
				if err := DecodeSession(rec.v, &got, d); err != nil {
					b.Fatal(err)
				}
			}
			if diff := sameSession(&got, &s); diff != "" {
				b.Fatalf("%s differs", diff)
			}
		})
	}
}
