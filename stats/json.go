package stats

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// writeSessionsJSON writes an array of session objects, one per line, with
// the CSV columns as keys in the same order. Text columns are strings
// (possibly empty); numbers are numbers; a time or number that does not
// exist (wait and accepted without a human reply, read_level not recorded)
// is null; tags are an array of strings.
func writeSessionsJSON(w io.Writer, q *Query, sel []*Session) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	tf := newTimeFormatter(q.location())
	var b []byte
	bw.WriteString("[")
	for i, s := range sel {
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n{\"id\":"...)
		b = appendJSONString(b, s.ID)
		b = append(b, ",\"guest\":"...)
		b = appendJSONString(b, s.Guest)
		b = append(b, ",\"protocol\":\""+protocol+"\",\"queue\":"...)
		b = appendJSONString(b, s.Queue)
		b = append(b, ",\"profile\":"...)
		b = appendJSONString(b, q.PageNames[s.Page])
		b = append(b, ",\"started\":"...)
		b = appendJSONTime(b, tf, s.Started)
		b = append(b, ",\"wait\":"...)
		if ws, ok := s.waitSeconds(); ok {
			b = strconv.AppendInt(b, ws, 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, ",\"duration\":"...)
		b = strconv.AppendInt(b, s.durationSeconds(), 10)
		b = append(b, ",\"operator\":"...)
		b = appendJSONString(b, s.Operator)
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
		b = appendJSONString(b, string(s.Status))
		b = append(b, ",\"messages_in\":"...)
		b = strconv.AppendInt(b, int64(s.MessagesIn), 10)
		b = append(b, ",\"messages_out\":"...)
		b = strconv.AppendInt(b, int64(s.MessagesOut), 10)
		b = append(b, ",\"questions\":"...)
		b = strconv.AppendInt(b, int64(s.Questions), 10)
		b = append(b, ",\"read_level\":"...)
		if s.readBucket() != 0 {
			b = strconv.AppendInt(b, int64(s.ReadLevel), 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, ",\"transfers\":"...)
		b = strconv.AppendInt(b, int64(s.Transfers), 10)
		b = append(b, ",\"page\":"...)
		b = appendJSONString(b, s.Page)
		b = append(b, '}')
		bw.Write(b) // a write error sticks and is returned by Flush
	}
	if len(sel) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("stats: writing sessions json: %w", err)
	}
	return nil
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
