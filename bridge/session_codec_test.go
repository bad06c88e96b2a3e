package bridge

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

	bolt "go.etcd.io/bbolt"

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
		rec := encodeSession(&want)
		if rec[0] != sessionV2 {
			t.Fatalf("record starts with %#x", rec[0])
		}
		var got stats.Session
		if err := decodeSession(rec, &got, newSessionDecoder()); err != nil {
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
	rec := encodeSession(&want)
	v1 := append([]byte{sessionV1}, rec[1:len(rec)-3]...) // two zero counts and an empty protocol, a byte each
	var got stats.Session
	if err := decodeSession(v1, &got, nil); err != nil {
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
		if err := decodeSession(rec, &got, newSessionDecoder()); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if d := sameSession(&got, &want); d != "" {
			t.Errorf("%s: %s differs:\n got %+v\nwant %+v", rec, d, got, want)
		}
	}
}

func TestDecodeSessionErrors(t *testing.T) {
	good := encodeSession(&codecSamples()[2])
	manyTags := encodeSession(&stats.Session{ID: "x"})
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
		err := decodeSession(tt.rec, &s, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if err := decodeSession([]byte{sessionV1}, &stats.Session{}, nil); !errors.Is(err, errTruncated) {
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
		if err := decodeSession(encodeSession(&s), &got, newSessionDecoder()); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if d := sameSession(&got, &s); d != "" {
			t.Fatalf("%s differs after a round trip:\n got %+v\nwant %+v", d, got, s)
		}
	})
}

// FuzzDecodeSession feeds arbitrary bytes to the decoder, two records in
// a row through one sessionDecoder as a scan does (so that what it
// remembers from the first cannot change how it reads the second): it
// must never panic, and a record that is not version 1 must decode exactly
// as encoding/json decodes it, or fail where encoding/json fails.
func FuzzDecodeSession(f *testing.F) {
	var recs [][]byte
	for _, s := range codecSamples() {
		recs = append(recs, encodeSession(&s))
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
		encodeSession(&stats.Session{Queue: `a\`, Operator: `x"`, Tags: []string{`a\`}}))
	for i, a := range recs {
		f.Add(a, recs[(i+3)%len(recs)])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := newSessionDecoder()
		for _, rec := range [][]byte{a, b} {
			var got stats.Session
			err := decodeSession(rec, &got, d)
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

// putSessionJSON writes a session as versions before 1 did.
func putSessionJSON(tx *bolt.Tx, key []byte, s *stats.Session) error {
	return putJSON(tx.Bucket(bucketSessions), key, s)
}

// RecodeBenchSessions rewrites in the current record version the
// sessions of the store in dir whose key's sequence number is a multiple
// of every (all of them for 1), as if they had changed since the upgrade
// from JSON records. It is for tests and benchmarks (exported for the
// bridge_test package).
func RecodeBenchSessions(tb testing.TB, dir string, every int) {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var seek []byte
	for done := false; !done; {
		err := st.update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketSessions).Cursor()
			k, v := c.Seek(seek)
			if seek != nil && bytes.Equal(k, seek) {
				k, v = c.Next()
			}
			var todo []sessionAt
			for i := 0; k != nil && i < seedChunk; k, v = c.Next() {
				seek = bytes.Clone(k)
				i++
				if keySequence(k)%uint64(every) != 0 {
					continue
				}
				var s stats.Session
				if err := decodeSession(v, &s, nil); err != nil {
					return err
				}
				todo = append(todo, sessionAt{seek, s})
			}
			done = k == nil
			for _, u := range todo {
				if err := putSession(tx, u.k, &u.s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

type sessionAt struct {
	k []byte
	s stats.Session
}

// keySequence is the sequence part of a session key.
func keySequence(k []byte) uint64 {
	if len(k) < 16 {
		return 0
	}
	var n uint64
	for _, c := range k[8:16] {
		n = n<<8 | uint64(c)
	}
	return n
}

// ReadSessionsJSON reads every session of the store in dir with
// encoding/json, as askbridge did before record version 1; records that
// are not JSON fail the test.
func ReadSessionsJSON(tb testing.TB, dir string) []stats.Session {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var out []stats.Session
	err = st.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var s stats.Session
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%x: %w", k, err)
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestForEachSession checks the chunked scan over a store mixing JSON and
// version 1 records: every session of the range once, in key order, and
// an early stop.
func TestForEachSession(t *testing.T) {
	dir := t.TempDir()
	const n = 3*sessionChunk + 17
	SeedBenchSessions(t, dir, n)
	RecodeBenchSessions(t, dir, 3)
	all := readAllSessions(t, dir)
	if len(all) != n {
		t.Fatalf("%d sessions seeded", len(all))
	}
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range [][2]int{{0, n}, {5, sessionChunk}, {sessionChunk - 1, 2*sessionChunk + 1}, {n - 1, n}, {7, 7}} {
		from, to := all[r[0]].Started, time.Unix(0, 1<<62)
		if r[1] < n {
			to = all[r[1]].Started
		}
		var got []stats.Session
		err := st.ForEachSession(from, to, func(s *stats.Session) error {
			got = append(got, *s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := all[r[0]:r[1]]
		if len(got) != len(want) {
			t.Fatalf("range %v: %d sessions, want %d", r, len(got), len(want))
		}
		for i := range got {
			if d := sameSession(&got[i], &want[i]); d != "" {
				t.Fatalf("range %v, session %d: %s differs", r, i, d)
			}
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = st.ForEachSession(time.Time{}, time.Unix(0, 1<<62), func(*stats.Session) error {
		if calls++; calls == sessionChunk+3 {
			return stop
		}
		return nil
	})
	if err != stop || calls != sessionChunk+3 {
		t.Errorf("early stop: error %v after %d calls", err, calls)
	}
}

// readAllSessions reads every session of the store in dir in key order,
// one record at a time with decodeSession.
func readAllSessions(tb testing.TB, dir string) []stats.Session {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var out []stats.Session
	err = st.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var s stats.Session
			if err := decodeSession(v, &s, nil); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestCorruptSessionRecord checks that a record that cannot be read stops
// a scan with an error naming it, and that getSession reports it.
func TestCorruptSessionRecord(t *testing.T) {
	dir := t.TempDir()
	SeedBenchSessions(t, dir, 10)
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var key []byte
	err = st.update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketSessions).Cursor().First()
		key = bytes.Clone(k)
		return tx.Bucket(bucketSessions).Put(key, []byte{sessionV1, 5, 'a'})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.ForEachSession(time.Time{}, time.Unix(0, 1<<62), func(*stats.Session) error { return nil })
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("bridge: reading sessions: session %x: session record version 1: id at offset 1: length 5: truncated", key)) {
		t.Errorf("scan error %v", err)
	}
	err = st.view(func(tx *bolt.Tx) error {
		_, _, err := getSession(tx, fmt.Sprintf("%x", key))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("session %x: session record version 1", key)) {
		t.Errorf("getSession error %v", err)
	}
}

// TestUnlinkOldSessions checks that forgetting a patron rewrites their
// JSON sessions as version 1 and leaves the others as they were.
func TestUnlinkOldSessions(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	mine := stats.Session{ID: "a", Guest: "g1", Started: t0, Status: stats.StatusAnswered, Tags: []string{"x"}}
	other := stats.Session{ID: "b", Guest: "g2", Started: t0.Add(time.Second)}
	keys := [][]byte{append(u64(uint64(t0.UnixNano())), u64(1)...), append(u64(uint64(t0.UnixNano())), u64(2)...)}
	err = st.update(func(tx *bolt.Tx) error {
		if err := putSessionJSON(tx, keys[0], &mine); err != nil {
			return err
		}
		if err := putSessionJSON(tx, keys[1], &other); err != nil {
			return err
		}
		return unlinkSessions(tx, map[string]bool{"g1": true})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if v := b.Get(keys[0]); v[0] != sessionV2 || bytes.Contains(v, []byte("g1")) {
			t.Errorf("forgotten session %q", v)
		}
		if v := b.Get(keys[1]); v[0] != '{' {
			t.Errorf("other session rewritten: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Sessions(time.Time{}, t0.Add(time.Hour))
	if err != nil || len(got) != 2 || got[0].Guest != "forgotten" || got[1].Guest != "g2" || !slices.Equal(got[0].Tags, mine.Tags) {
		t.Errorf("sessions %+v, %v", got, err)
	}
}

// BenchmarkDecodeSession decodes one answered, tagged session as the
// export reads it, from a JSON record (stores before version 1) and from
// a version 1 record.
func BenchmarkDecodeSession(b *testing.B) {
	loc, _ := time.LoadLocation("America/Toronto")
	at := time.Date(2026, 6, 1, 14, 3, 7, 536000000, loc)
	s := stats.Session{ID: "18a3b2c4d5e6f708000000000000002a", Guest: "3f9a0c2b7d1e4a65", Page: testPage, Queue: testQueue,
		Started: at, Accepted: at.Add(42 * time.Second), Ended: at.Add(9 * time.Minute), Operator: "alice@library.test",
		Status: stats.StatusAnswered, MessagesIn: 6, MessagesOut: 5, Questions: 2, ReadLevel: 3, Tags: []string{"hours"}}
	js, err := json.Marshal(&s)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range []struct {
		name string
		v    []byte
	}{{"json", js}, {"v1", encodeSession(&s)}} {
		b.Run(rec.name, func(b *testing.B) {
			d := newSessionDecoder()
			var got stats.Session
			b.SetBytes(int64(len(rec.v)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeSession(rec.v, &got, d); err != nil {
					b.Fatal(err)
				}
			}
			if diff := sameSession(&got, &s); diff != "" {
				b.Fatalf("%s differs", diff)
			}
		})
	}
}
