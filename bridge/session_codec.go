package bridge

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/askbridge/askbridge/stats"
)

// Session records. Every read and write of bucketSessions goes through
// encodeSession and decodeSession.
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
// tags) and start with '{'. They are read as they are and rewritten as
// version 1 only when the session changes: a store needs no migration. A
// later version takes the next version byte; bytes 0x00–0x1f never start
// JSON, so they cannot be confused with old records.

// sessionV1 and sessionV2 are the first bytes of version 1 and 2 records.
const (
	sessionV1 byte = 1
	sessionV2 byte = 2
)

// errSessionTruncated is the error of a binary record that ends early.
var errSessionTruncated = errors.New("truncated")

// encodeSession returns s's record in the current version.
func encodeSession(s *stats.Session) []byte {
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

// decodeSession decodes a session record of any version into s, which it
// overwrites entirely. d, which may be nil, carries what one scan learns
// from record to record (strings that repeat across sessions — Page,
// Queue, Operator, Status, tags — and the last date read), so that
// decoding a million sessions does not allocate a million copies of the
// same queue. The decoded session keeps no reference to v, and s.Tags is
// always a new slice. A record that cannot be read gives an error, never
// a panic.
func decodeSession(v []byte, s *stats.Session, d *sessionDecoder) error {
	if d == nil {
		d = &sessionDecoder{}
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
	if d.decodeJSON(v, s) {
		return nil
	}
	// Not in the form encoding/json writes: let encoding/json decide.
	*s = stats.Session{}
	if err := json.Unmarshal(v, s); err != nil {
		return fmt.Errorf("session record in JSON: %w", err)
	}
	return nil
}

// sessionDecoder holds what decodeSession remembers between the records
// of one scan. Its zero value is ready to use and remembers nothing
// across strings; newSessionDecoder's shares repeated strings.
type sessionDecoder struct {
	strs map[string]string // at most maxShared strings
	// last is the last string decoded for each shared field, checked
	// before strs.
	last [numShared]string
	// recent holds, per shared field, the last strings read from JSON
	// records: they need no unescaping, so a JSON string that is one of
	// them followed by its closing quote is that string.
	recent [numShared][4]string
	// The last date decoded from a JSON time ("2006-01-02") and its day
	// number since 1970-01-01.
	date    [10]byte
	days    int64
	hasDate bool
	scratch []byte
}

// maxShared bounds the strings a sessionDecoder keeps.
const maxShared = 4096

// The fields whose strings are shared, as indexes of sessionDecoder.last.
const (
	sharedPage = iota
	sharedQueue
	sharedOperator
	sharedStatus
	sharedTag
	sharedProtocol
	numShared
)

func newSessionDecoder() *sessionDecoder {
	return &sessionDecoder{strs: make(map[string]string)}
}

// shared returns b as a string, the same string for the same bytes.
func (d *sessionDecoder) shared(field int, b []byte) string {
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
func (d *sessionDecoder) pair(a, b []byte) (string, string) {
	d.scratch = append(append(d.scratch[:0], a...), b...)
	s := string(d.scratch)
	return s[:len(a)], s[len(a):]
}

// v1Reader reads the fields of a version 1 record (after its version
// byte); the first error sticks.
type v1Reader struct {
	b   []byte
	i   int
	err error
}

// fail records an error in the field that starts at b[at].
func (r *v1Reader) fail(what string, at int, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at offset %d: %w", what, at+1, err)
	}
}

func (r *v1Reader) uvarint(what string, at int) uint64 {
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

func (r *v1Reader) varint(what string, at int) int64 {
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
		return errSessionTruncated
	}
	return errors.New("varint overflows 64 bits")
}

// bytes reads a length-prefixed string's bytes, which alias the record.
func (r *v1Reader) bytes(what string) []byte {
	at := r.i
	n := r.uvarint(what, at)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.i) {
		r.fail(what, at, fmt.Errorf("length %d: %w", n, errSessionTruncated))
		return nil
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *v1Reader) int(what string) int {
	at := r.i
	x := r.varint(what, at)
	if x != int64(int(x)) {
		r.fail(what, at, fmt.Errorf("%d overflows int", x))
	}
	return int(x)
}

func (r *v1Reader) time(what string) time.Time {
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

// decodeBinary decodes the fields of a version 1 or 2 record after its
// version byte.
func (d *sessionDecoder) decodeBinary(b []byte, s *stats.Session, version byte) error {
	r := v1Reader{b: b}
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
		return fmt.Errorf("tags at offset %d: %d tags in %d bytes: %w", at+1, n, len(b)-r.i, errSessionTruncated)
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

// sessionJSONKeys are the JSON keys of stats.Session in the order
// json.Marshal writes them, each as it starts a member: quoted, with its
// colon.
var sessionJSONKeys = [...]string{`"id":`, `"guest":`, `"page":`, `"queue":`, `"started":`,
	`"accepted":`, `"ended":`, `"operator":`, `"status":`, `"messages_in":`, `"messages_out":`,
	`"auto_replies":`, `"questions":`, `"read_level":`, `"tags":`, `"transfers":`}

// decodeJSON decodes a JSON record written by encoding/json (json.Marshal
// of a stats.Session: no spaces, known keys in the order of the struct,
// each once, plain strings and integers, RFC 3339 times) several times
// faster than encoding/json. It reports false for anything else (escapes
// in strings, invalid UTF-8, spaces, keys unknown, repeated or out of
// order, null, numbers that are not plain integers, times in another
// form...), which the caller then gives to encoding/json; whatever it
// accepts, it decodes exactly as encoding/json does, except that times
// come back in time.Local rather than in a zone of their offset (the
// instant is the same).
func (d *sessionDecoder) decodeJSON(b []byte, s *stats.Session) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	i := 1
	if b[i] == '}' {
		return i == len(b)-1
	}
	var id, guest []byte
	next := 0 // index in sessionJSONKeys of the next key allowed
	for {
		f := next
		for f < len(sessionJSONKeys) && !hasPrefixAt(b, i, sessionJSONKeys[f]) {
			f++
		}
		if f == len(sessionJSONKeys) {
			return false // a key unknown, repeated or out of order, or not a key
		}
		i += len(sessionJSONKeys[f])
		next = f + 1
		ok := false
		switch f {
		case 0:
			id, i, ok = jsonPlainString(b, i)
		case 1:
			guest, i, ok = jsonPlainString(b, i)
		case 2:
			s.Page, i, ok = d.jsonShared(sharedPage, b, i)
		case 3:
			s.Queue, i, ok = d.jsonShared(sharedQueue, b, i)
		case 4:
			s.Started, i, ok = d.jsonTime(b, i)
		case 5:
			s.Accepted, i, ok = d.jsonTime(b, i)
		case 6:
			s.Ended, i, ok = d.jsonTime(b, i)
		case 7:
			s.Operator, i, ok = d.jsonShared(sharedOperator, b, i)
		case 8:
			var st string
			st, i, ok = d.jsonShared(sharedStatus, b, i)
			s.Status = stats.Status(st)
		case 9:
			s.MessagesIn, i, ok = jsonInt(b, i)
		case 10:
			s.MessagesOut, i, ok = jsonInt(b, i)
		case 11:
			s.AutoReplies, i, ok = jsonInt(b, i)
		case 12:
			s.Questions, i, ok = jsonInt(b, i)
		case 13:
			s.ReadLevel, i, ok = jsonInt(b, i)
		case 14:
			s.Tags, i, ok = d.jsonTags(b, i)
		case 15:
			s.Transfers, i, ok = jsonInt(b, i)
		}
		if !ok || i >= len(b) {
			return false
		}
		if b[i] == '}' {
			if i != len(b)-1 {
				return false
			}
			s.ID, s.Guest = d.pair(id, guest)
			return true
		}
		if b[i] != ',' || i+1 >= len(b) {
			return false
		}
		i++
	}
}

// hasPrefixAt reports whether b[i:] starts with p.
func hasPrefixAt(b []byte, i int, p string) bool {
	return len(b)-i >= len(p) && string(b[i:i+len(p)]) == p
}

// jsonPlainString reads the JSON string at b[i] if it needs no
// unescaping: no backslash, no control character, valid UTF-8. It returns
// its contents (aliasing b) and the index after its closing quote.
func jsonPlainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	q := bytes.IndexByte(b[i+1:], '"')
	if q < 0 {
		return nil, i, false
	}
	v := b[i+1 : i+1+q]
	if !plainJSON(v) {
		return nil, i, false
	}
	return v, i + q + 2, true
}

// jsonShared reads a plain JSON string (see jsonPlainString) of a shared
// field at b[i].
func (d *sessionDecoder) jsonShared(field int, b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	rest := b[i+1:]
	recent := &d.recent[field]
	for _, r := range recent {
		if len(rest) > len(r) && rest[len(r)] == '"' && string(rest[:len(r)]) == r {
			return r, i + len(r) + 2, true
		}
	}
	v, j, ok := jsonPlainString(b, i)
	if !ok {
		return "", i, false
	}
	r := d.shared(field, v)
	copy(recent[1:], recent[:])
	recent[0] = r
	return r, j, true
}

// plainJSON reports whether v is the inside of a JSON string that
// encoding/json decodes as v itself: no backslash, no control character,
// valid UTF-8. It looks at 8 bytes at a time while they are printable
// ASCII.
func plainJSON(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := binary.LittleEndian.Uint64(v[i:])
		if ((w-0x20*ones)|w)&highs != 0 {
			break // a byte below 0x20 or above 0x7f: look closer
		}
		if x := w ^ '\\'*ones; (x-ones)&^x&highs != 0 {
			return false // a backslash
		}
	}
	ascii := true
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.Valid(v)
}

// jsonInt reads a JSON integer of at most 18 digits (so it cannot
// overflow) at b[i].
func jsonInt(b []byte, i int) (int, int, bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	if n != int64(int(n)) {
		return 0, i, false
	}
	return int(n), i, true
}

// jsonTags reads an array of plain strings.
func (d *sessionDecoder) jsonTags(b []byte, i int) ([]string, int, bool) {
	if i >= len(b) || b[i] != '[' {
		return nil, i, false
	}
	i++
	if i < len(b) && b[i] == ']' {
		return []string{}, i + 1, true
	}
	var tags []string
	for {
		tag, j, ok := d.jsonShared(sharedTag, b, i)
		if !ok || j >= len(b) {
			return nil, i, false
		}
		tags = append(tags, tag)
		i = j + 1
		switch b[j] {
		case ',':
		case ']':
			return tags, i, true
		default:
			return nil, i, false
		}
	}
}

// zeroUnix is the Unix time of the zero time.Time.
const zeroUnix = -62135596800

// digits2 reads two decimal digits.
func digits2(b []byte) (int64, bool) {
	hi, lo := b[0]-'0', b[1]-'0'
	return int64(hi)*10 + int64(lo), hi <= 9 && lo <= 9
}

// jsonTime reads a time as time.Time's MarshalJSON writes it,
// "2006-01-02T15:04:05.999999999Z07:00", checking every field as
// time.Time's UnmarshalJSON does.
func (d *sessionDecoder) jsonTime(b []byte, i int) (time.Time, int, bool) {
	if len(b)-i < len(`"2006-01-02T15:04:05Z"`) || b[i] != '"' {
		return time.Time{}, i, false
	}
	v := b[i+1:] // the time, its closing quote and what follows
	days := d.days
	if !d.hasDate || string(v[:10]) != string(d.date[:]) {
		y1, ok1 := digits2(v[0:2])
		y2, ok2 := digits2(v[2:4])
		month, ok3 := digits2(v[5:7])
		day, ok4 := digits2(v[8:10])
		year := y1*100 + y2
		if !(ok1 && ok2 && ok3 && ok4) || v[4] != '-' || v[7] != '-' ||
			month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
			return time.Time{}, i, false
		}
		days = daysFromCivil(year, month, day)
		copy(d.date[:], v[:10])
		d.days, d.hasDate = days, true
	}
	hour, ok1 := digits2(v[11:13])
	minute, ok2 := digits2(v[14:16])
	sec, ok3 := digits2(v[17:19])
	if !(ok1 && ok2 && ok3) || v[10] != 'T' || v[13] != ':' || v[16] != ':' || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, i, false
	}
	rest := v[19:]
	var nsec int64
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && k <= 10 && rest[k] >= '0' && rest[k] <= '9' {
			nsec = nsec*10 + int64(rest[k]-'0')
			k++
		}
		if k == 1 || k > 10 {
			return time.Time{}, i, false
		}
		for range 10 - k {
			nsec *= 10
		}
		rest = rest[k:]
	}
	var offset int64
	switch {
	case len(rest) >= 2 && rest[0] == 'Z':
		rest = rest[1:]
	case len(rest) >= 7 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits2(rest[1:3])
		om, ok2 := digits2(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, i, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
		rest = rest[6:]
	default:
		return time.Time{}, i, false
	}
	if rest[0] != '"' {
		return time.Time{}, i, false
	}
	end := len(b) - len(rest) + 1
	unix := days*86400 + hour*3600 + minute*60 + sec - offset
	if unix == zeroUnix && nsec == 0 {
		return time.Time{}, end, true
	}
	return time.Unix(unix, nsec), end, true
}

// daysIn is the number of days of a month (1–12) of a proleptic Gregorian
// year.
func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to a proleptic
// Gregorian date (Howard Hinnant's days_from_civil), for years 0–9999.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
