package stats

import (
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSONRow appends one object of the sessions export in JSON: an
// array of session objects, one per line, with the CSV columns as keys in
// the same order. Text columns are strings (possibly empty); numbers are
// numbers; a time or number that does not exist (wait and accepted without
// a human reply, read_level not recorded) is null; tags are an array of
// strings.
func (r *sessionRows) appendJSONRow(b []byte, s *Session) []byte {
	tf := r.tf
	if r.n > 0 {
		b = append(b, ',')
	}
	b = append(b, "\n{\"id\":"...)
	b = appendJSONString(b, s.ID)
	b = append(b, ",\"guest\":"...)
	b = appendJSONString(b, s.Guest)
	b = append(b, ",\"protocol\":"...)
	b = appendJSONString(b, s.Channel())
	b = append(b, ",\"queue\":"...)
	b = r.queue.append(b, s.Queue, appendJSONString)
	b = append(b, ",\"profile\":"...)
	b = r.profileCol.append(b, r.profile, appendJSONString)
	b = append(b, ",\"started\":"...)
	b = appendJSONTime(b, tf, s.Started)
	b = append(b, ",\"wait\":"...)
	if ws, ok := s.waitSeconds(); ok {
		b = appendInt(b, ws)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ",\"duration\":"...)
	b = appendInt(b, s.durationSeconds())
	b = append(b, ",\"operator\":"...)
	b = r.operator.append(b, s.Operator, appendJSONString)
	b = append(b, ",\"ip\":\"\",\"referrer\":\"\",\"tags\":["...)
	for j, tag := range s.Tags {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, tag)
	}
	b = append(b, "],\"accepted\":"...)
	b = appendJSONTime(b, tf, s.Accepted)
	b = append(b, ",\"ended\":"...)
	b = appendJSONTime(b, tf, s.Ended)
	b = append(b, ",\"status\":"...)
	b = r.status.append(b, string(s.Status), appendJSONString)
	b = append(b, ",\"messages_in\":"...)
	b = appendInt(b, int64(s.MessagesIn))
	b = append(b, ",\"messages_out\":"...)
	b = appendInt(b, int64(s.MessagesOut))
	b = append(b, ",\"questions\":"...)
	b = appendInt(b, int64(s.Questions))
	b = append(b, ",\"read_level\":"...)
	if s.readBucket() != 0 {
		b = appendInt(b, int64(s.ReadLevel))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ",\"transfers\":"...)
	b = appendInt(b, int64(s.Transfers))
	b = append(b, ",\"page\":"...)
	b = r.pageCol.append(b, s.Page, appendJSONString)
	return append(b, '}')
}

// appendJSONTime appends t as a JSON string, or null for the zero time.
func appendJSONTime(b []byte, tf *timeFormatter, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = tf.append(b, t)
	return append(b, '"')
}

// writeTableJSON writes a report table: an array of row objects, one per
// line, keyed by the CSV column names in column order; or, for an object
// table (the summary), one object mapping each metric to its value.
func writeTableJSON(w io.Writer, name string, t *table) error {
	var b []byte
	if t.object {
		b = append(b, '{')
		for i, row := range t.rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n  "...)
			b = appendJSONString(b, row[0].s)
			b = append(b, ": "...)
			b = row[1].appendJSON(b)
		}
		b = append(b, "\n}\n"...)
	} else {
		b = append(b, '[')
		for i, row := range t.rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n{"...)
			for j, c := range row {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, t.columns[j])
				b = append(b, ':')
				b = c.appendJSON(b)
			}
			b = append(b, '}')
		}
		if len(t.rows) > 0 {
			b = append(b, '\n')
		}
		b = append(b, "]\n"...)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("stats: writing %s json: %w", name, err)
	}
	return nil
}

// appendJSON appends the cell as a JSON value.
func (c cell) appendJSON(b []byte) []byte {
	switch c.kind {
	case kindInt:
		return strconv.AppendInt(b, c.n, 10)
	case kindText:
		return appendJSONString(b, c.s)
	}
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it with HTML escaping off: quote and backslash escaped, control
// characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
