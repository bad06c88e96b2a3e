package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// libraryH3lpColumns is LibraryH3lp's chats.csv header, which the sessions
// export starts with so rows merge with what coordinators already have.
var libraryH3lpColumns = []string{
	"id", "guest", "protocol", "queue", "profile", "started", "wait", "duration",
	"operator", "ip", "referrer", "tags",
}

// sessionColumns is the full sessions header: LibraryH3lp's, then ours.
var sessionColumns = append(append([]string(nil), libraryH3lpColumns...),
	"accepted", "ended", "status", "messages_in", "messages_out", "questions",
	"read_level", "transfers", "page")

// SessionColumns returns the header of the sessions export, which begins
// exactly with LibraryH3lp's chats.csv columns.
func SessionColumns() []string { return append([]string(nil), sessionColumns...) }

// tagSeparator joins a session's tags in one CSV cell.
const tagSeparator = ","

// flushAt is the size of the output buffer that the sessions export
// writes out in one call.
const flushAt = 64 << 10

// sessionRows writes the sessions export, CSV or JSON, one row per
// session, into a buffer written out whenever it holds flushAt bytes.
type sessionRows struct {
	w    io.Writer
	q    *Query
	json bool
	tf   *timeFormatter
	b    []byte
	n    int   // rows written
	err  error // the first write error, wrapped

	// The last Page looked up in q.PageNames: sessions of one Page
	// usually come in runs.
	page, profile string
	// The columns whose values repeat from row to row, written as they
	// were last time when they did not change.
	queue, profileCol, operator, status, pageCol encodedField
}

// encodedField remembers how the last value of a column was written.
type encodedField struct {
	s   string
	enc []byte
}

// append appends s written by enc, reusing the last result when s is the
// same as last time (usually the same string, which compares at once).
func (f *encodedField) append(b []byte, s string, enc func([]byte, string) []byte) []byte {
	if s != f.s || f.enc == nil {
		f.s, f.enc = s, enc(f.enc[:0], s)
	}
	return append(b, f.enc...)
}

func newSessionRows(w io.Writer, q *Query, json bool) *sessionRows {
	r := &sessionRows{w: w, q: q, json: json, tf: newTimeFormatter(q.location()), b: make([]byte, 0, flushAt+4<<10)}
	if json {
		r.b = append(r.b, '[')
	} else {
		r.b = appendCSVRecord(r.b, sessionColumns)
	}
	return r
}

// format is the name of the export's format in errors.
func (r *sessionRows) format() string {
	if r.json {
		return FormatJSON
	}
	return FormatCSV
}

func (r *sessionRows) add(s *Session) error {
	if r.err != nil {
		return r.err
	}
	if s.Page != r.page || r.n == 0 {
		r.page, r.profile = s.Page, r.q.PageNames[s.Page]
	}
	if r.json {
		r.b = r.appendJSONRow(r.b, s)
	} else {
		r.b = r.appendCSVRow(r.b, s)
	}
	r.n++
	if len(r.b) >= flushAt {
		r.flush()
	}
	return r.err
}

func (r *sessionRows) flush() {
	if r.err != nil || len(r.b) == 0 {
		return
	}
	if _, err := r.w.Write(r.b); err != nil {
		r.err = fmt.Errorf("stats: writing sessions %s: %w", r.format(), err)
	}
	r.b = r.b[:0]
}

func (r *sessionRows) close() error {
	if r.json {
		if r.n > 0 {
			r.b = append(r.b, '\n')
		}
		r.b = append(r.b, "]\n"...)
	}
	r.flush()
	return r.err
}

// appendCSVRow appends one row of the sessions export, as encoding/csv
// writes it.
func (r *sessionRows) appendCSVRow(b []byte, s *Session) []byte {
	tf := r.tf
	b = appendCSVField(b, s.ID)
	b = append(b, ',')
	b = appendCSVField(b, s.Guest)
	b = append(b, ',')
	b = appendCSVField(b, s.Channel())
	b = append(b, ',')
	b = r.queue.append(b, s.Queue, appendCSVField)
	b = append(b, ',')
	b = r.profileCol.append(b, r.profile, appendCSVField)
	b = append(b, ',')
	b = tf.append(b, s.Started)
	b = append(b, ',')
	if ws, ok := s.waitSeconds(); ok {
		b = appendInt(b, ws)
	}
	b = append(b, ',')
	b = appendInt(b, s.durationSeconds())
	b = append(b, ',')
	b = r.operator.append(b, s.Operator, appendCSVField)
	// ip and referrer stay empty: Messenger has neither.
	b = append(b, ",,,"...)
	switch len(s.Tags) {
	case 0:
	case 1:
		b = appendCSVField(b, s.Tags[0])
	default:
		// Joined with a comma, the cell always needs quotes.
		b = append(b, '"')
		for i, tag := range s.Tags {
			if i > 0 {
				b = append(b, tagSeparator...)
			}
			b = appendCSVQuoted(b, tag)
		}
		b = append(b, '"')
	}
	b = append(b, ',')
	b = tf.append(b, s.Accepted)
	b = append(b, ',')
	b = tf.append(b, s.Ended)
	b = append(b, ',')
	b = r.status.append(b, string(s.Status), appendCSVField)
	b = append(b, ',')
	b = appendInt(b, int64(s.MessagesIn))
	b = append(b, ',')
	b = appendInt(b, int64(s.MessagesOut))
	b = append(b, ',')
	b = appendInt(b, int64(s.Questions))
	b = append(b, ',')
	if s.readBucket() != 0 {
		b = appendInt(b, int64(s.ReadLevel))
	}
	b = append(b, ',')
	b = appendInt(b, int64(s.Transfers))
	b = append(b, ',')
	b = r.pageCol.append(b, s.Page, appendCSVField)
	return append(b, '\n')
}

// appendCSVRecord appends a record as encoding/csv's Writer writes it
// with its defaults (comma, "\n" line ends).
func appendCSVRecord(b []byte, rec []string) []byte {
	for i, f := range rec {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return append(b, '\n')
}

// appendCSVField appends one field as encoding/csv's Writer does with its
// defaults: quoted when it holds a comma, a quote, CR or LF, begins with a
// space (by unicode.IsSpace), or is `\.`; quotes doubled inside.
func appendCSVField(b []byte, f string) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	b = appendCSVQuoted(b, f)
	return append(b, '"')
}

// appendCSVQuoted appends the inside of a quoted field: f with its quotes
// doubled.
func appendCSVQuoted(b []byte, f string) []byte {
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			return append(b, f...)
		}
		b = append(b, f[:i+1]...)
		b = append(b, '"')
		f = f[i+1:]
	}
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for a comma.
func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	if c := f[0]; c < utf8.RuneSelf {
		// unicode.IsSpace of an ASCII byte.
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// writeTableCSV writes a report table with its header.
func writeTableCSV(w io.Writer, name string, t *table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.columns); err != nil {
		return fmt.Errorf("stats: writing %s csv: %w", name, err)
	}
	rec := make([]string, len(t.columns))
	for _, row := range t.rows {
		for i, c := range row {
			rec[i] = c.csv()
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("stats: writing %s csv: %w", name, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("stats: writing %s csv: %w", name, err)
	}
	return nil
}
