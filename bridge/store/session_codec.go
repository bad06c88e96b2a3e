package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/askbridge/askbridge/stats"
)

// Session records. Every read and write of BucketSessions goes through
// EncodeSession and DecodeSession.
//
// Records written by this version are binary, version 2:
//
//	0x02                          version
//	string ID, Guest, Page, Queue
//	time   Started, Accepted, Ended
//	string Operator, Status
//	varint MessagesIn, MessagesOut, AutoReplies, Questions, ReadLevel, Transfers
//	uvarint number of tags, then each tag as a string
//	varint RepliesDelivered, RepliesRefused
//	string Protocol
//
// Version 1 records (0x01) end after the tags: the counts read as zero and
// the protocol as empty (a Messenger session).
//
// where a string is its length (uvarint) and its bytes, a varint is
// zig-zag (encoding/binary's Varint), and a time is uvarint 0 for the zero
// time, else uvarint nanoseconds+1 followed by varint Unix seconds. Times
// keep their instant, not their zone (every reader converts them to a
// configured zone). Nothing may follow the last field.
//
// Records written before version 1 are JSON objects (stats.Session's JSON
// tags) and start with '{'. Maintenance rewrites them in the current
// version (the bridge's session_migrate.go); until then they are read
// with encoding/json. A later version takes the next version byte; bytes
// 0x00–0x1f never start JSON, so they cannot be confused with old records.

// sessionV1 and sessionV2 are the first bytes of version 1 and 2 records.
const (
	sessionV1 byte = 1
	sessionV2 byte = 2
)

// EncodeSession returns s's record in the current version.
func EncodeSession(s *stats.Session) []byte {
	n := 1 + 3*11 + 6*3 + 1 + len(s.ID) + len(s.Guest) + len(s.Page) + len(s.Queue) +
		len(s.Operator) + len(s.Status) + len(s.Protocol) + 9*binary.MaxVarintLen16
	for _, tag := range s.Tags {
		n += 2 + len(tag)
	}
	b := make([]byte, 0, n)
	b = append(b, sessionV2)
	b = appendString(b, s.ID)
	b = appendString(b, s.Guest)
	b = appendString(b, s.Page)
	b = appendString(b, s.Queue)
	b = appendTime(b, s.Started)
	b = appendTime(b, s.Accepted)
	b = appendTime(b, s.Ended)
	b = appendString(b, s.Operator)
	b = appendString(b, string(s.Status))
	for _, v := range [...]int{s.MessagesIn, s.MessagesOut, s.AutoReplies, s.Questions, s.ReadLevel, s.Transfers} {
		b = binary.AppendVarint(b, int64(v))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Tags)))
	for _, tag := range s.Tags {
		b = appendString(b, tag)
	}
	b = binary.AppendVarint(b, int64(s.RepliesDelivered))
	b = binary.AppendVarint(b, int64(s.RepliesRefused))
	return appendString(b, s.Protocol)
}

// DecodeSession decodes a session record of any version into s, which it
// overwrites entirely. d, which may be nil, carries what one scan learns
// from record to record (strings that repeat across sessions — Page,
// Queue, Operator, Status, tags — and the last date read), so that
// decoding a million sessions does not allocate a million copies of the
// same queue. The decoded session keeps no reference to v, and s.Tags is
// always a new slice. A record that cannot be read gives an error, never
// a panic.
func DecodeSession(v []byte, s *stats.Session, d *SessionDecoder) error {
	if d == nil {
		d = &SessionDecoder{}
	}
	*s = stats.Session{}
	switch {
	case len(v) == 0:
		return errors.New("empty session record")
	case v[0] == sessionV1 || v[0] == sessionV2:
		if err := d.decodeBinary(v[1:], s, v[0]); err != nil {
			return fmt.Errorf("session record version %d: %w", v[0], err)
		}
		return nil
	case v[0] < 0x20 && v[0] != '\t' && v[0] != '\n' && v[0] != '\r':
		return fmt.Errorf("session record of unknown version %d (a newer askbridge wrote it?)", v[0])
	}
	// A record from before version 1, until maintenance rewrites it
	// (the bridge's session_migrate.go).
	return decodeLegacySession(v, s)
}

// LegacySession reports whether v is a session record written before
// version 1, in JSON.
func LegacySession(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// decodeLegacySession reads a JSON session record.
func decodeLegacySession(v []byte, s *stats.Session) error {
	*s = stats.Session{}
	if err := json.Unmarshal(v, s); err != nil {
		return fmt.Errorf("session record in JSON: %w", err)
	}
	return nil
}

// SessionDecoder holds what DecodeSession remembers between the records
// of one scan. Its zero value is ready to use and remembers nothing
// across strings; NewSessionDecoder's shares repeated strings.
type SessionDecoder struct {
	strs map[string]string // at most maxShared strings
	// last is the last string decoded for each shared field, checked
	// before strs.
	last    [numShared]string
	scratch []byte
}

// maxShared bounds the strings a SessionDecoder keeps.
const maxShared = 4096

// The fields whose strings are shared, as indexes of SessionDecoder.last.
const (
	sharedPage = iota
	sharedQueue
	sharedOperator
	sharedStatus
	sharedTag
	sharedProtocol
	numShared
)

func NewSessionDecoder() *SessionDecoder {
	return &SessionDecoder{strs: make(map[string]string)}
}

// shared returns b as a string, the same string for the same bytes.
func (d *SessionDecoder) shared(field int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if string(b) == d.last[field] {
		return d.last[field]
	}
	s, ok := d.strs[string(b)]
	if !ok {
		s = string(b)
		if d.strs != nil && len(d.strs) < maxShared {
			d.strs[s] = s
		}
	}
	d.last[field] = s
	return s
}

// pair returns a and b as strings made with one allocation.
func (d *SessionDecoder) pair(a, b []byte) (string, string) {
	d.scratch = append(append(d.scratch[:0], a...), b...)
	s := string(d.scratch)
	return s[:len(a)], s[len(a):]
}

// decodeBinary decodes the fields of a version 1 or 2 record after its
// version byte.
func (d *SessionDecoder) decodeBinary(b []byte, s *stats.Session, version byte) error {
	r := binReader{b: b}
	id := r.bytes("id")
	guest := r.bytes("guest")
	s.ID, s.Guest = d.pair(id, guest)
	s.Page = d.shared(sharedPage, r.bytes("page"))
	s.Queue = d.shared(sharedQueue, r.bytes("queue"))
	s.Started = r.time("started")
	s.Accepted = r.time("accepted")
	s.Ended = r.time("ended")
	s.Operator = d.shared(sharedOperator, r.bytes("operator"))
	s.Status = stats.Status(d.shared(sharedStatus, r.bytes("status")))
	s.MessagesIn = r.int("messages_in")
	s.MessagesOut = r.int("messages_out")
	s.AutoReplies = r.int("auto_replies")
	s.Questions = r.int("questions")
	s.ReadLevel = r.int("read_level")
	s.Transfers = r.int("transfers")
	at := r.i
	n := r.uvarint("tags", at)
	if r.err != nil {
		return r.err
	}
	if n > uint64(len(b)-r.i) { // every tag takes at least its length byte
		return fmt.Errorf("tags at offset %d: %d tags in %d bytes: %w", at+1, n, len(b)-r.i, errTruncated)
	}
	if n > 0 {
		s.Tags = make([]string, n)
		for i := range s.Tags {
			s.Tags[i] = d.shared(sharedTag, r.bytes("tag"))
		}
	}
	if version >= sessionV2 {
		s.RepliesDelivered = r.int("replies_delivered")
		s.RepliesRefused = r.int("replies_refused")
		s.Protocol = d.shared(sharedProtocol, r.bytes("protocol"))
	}
	if r.err != nil {
		return r.err
	}
	if r.i != len(b) {
		return fmt.Errorf("%d bytes after the last field", len(b)-r.i)
	}
	return nil
}
