package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// putSessionJSON writes a session as versions before 1 did.
func putSessionJSON(tx *store.Tx, key []byte, s *stats.Session) error {
	return putJSON(tx.Bolt().Bucket(store.BucketSessions), key, s)
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
		err := st.update(func(tx *store.Tx) error {
			c := tx.Bolt().Bucket(store.BucketSessions).Cursor()
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
				if err := store.DecodeSession(v, &s, nil); err != nil {
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
	err = st.view(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketSessions).ForEach(func(k, v []byte) error {
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
			if d := sessionDiff(&got[i], &want[i]); d != "" {
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
// one record at a time with store.DecodeSession.
func readAllSessions(tb testing.TB, dir string) []stats.Session {
	tb.Helper()
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var out []stats.Session
	err = st.view(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(store.BucketSessions).ForEach(func(k, v []byte) error {
			var s stats.Session
			if err := store.DecodeSession(v, &s, nil); err != nil {
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
	err = st.update(func(tx *store.Tx) error {
		k, _ := tx.Bolt().Bucket(store.BucketSessions).Cursor().First()
		key = bytes.Clone(k)
		return tx.Bolt().Bucket(store.BucketSessions).Put(key, []byte{1, 5, 'a'} /* version 1, an id cut short */)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.ForEachSession(time.Time{}, time.Unix(0, 1<<62), func(*stats.Session) error { return nil })
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("bridge: reading sessions: session %x: session record version 1: id at offset 1: length 5: truncated", key)) {
		t.Errorf("scan error %v", err)
	}
	err = st.view(func(tx *store.Tx) error {
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
	keys := [][]byte{append(store.U64(uint64(t0.UnixNano())), store.U64(1)...), append(store.U64(uint64(t0.UnixNano())), store.U64(2)...)}
	err = st.update(func(tx *store.Tx) error {
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
	err = st.view(func(tx *store.Tx) error {
		b := tx.Bolt().Bucket(store.BucketSessions)
		if v := b.Get(keys[0]); v[0] != store.EncodeSession(&stats.Session{})[0] || bytes.Contains(v, []byte("g1")) {
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

// sessionDiff is "" if a and b are the same session as the store keeps
// it (times by instant, no tags and empty tags alike), else a
// description of both.
func sessionDiff(a, b *stats.Session) string {
	if bytes.Equal(store.EncodeSession(a), store.EncodeSession(b)) {
		return ""
	}
	return fmt.Sprintf("got %+v, want %+v", *a, *b)
}
