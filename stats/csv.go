package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
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

// protocol is what the "protocol" column says for every session.
const protocol = "facebook"

// tagSeparator joins a session's tags in one CSV cell.
const tagSeparator = ","

// writeSessionsCSV writes one row per session. The computed fields of a
// row are built in one buffer and turned into one string, so a row costs
// one allocation.
func writeSessionsCSV(w io.Writer, q *Query, sel []*Session) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(sessionColumns); err != nil {
		return fmt.Errorf("stats: writing sessions csv: %w", err)
	}
	tf := newTimeFormatter(q.location())
	rec := make([]string, len(sessionColumns))
	rec[2] = protocol
	// ip and referrer (rec[9], rec[10]) stay empty: Messenger has neither.
	computed := []int{5, 6, 7, 11, 12, 13, 15, 16, 17, 18, 19}
	var row rowBuilder
	for _, s := range sel {
		rec[0] = s.ID
		rec[1] = s.Guest
		rec[3] = s.Queue
		rec[4] = q.PageNames[s.Page]
		rec[8] = s.Operator
		rec[14] = string(s.Status)
		rec[20] = s.Page

		row.reset()
		row.b = tf.append(row.b, s.Started)
		row.end()
		if ws, ok := s.waitSeconds(); ok {
			row.b = strconv.AppendInt(row.b, ws, 10)
		}
		row.end()
		row.b = strconv.AppendInt(row.b, s.durationSeconds(), 10)
		row.end()
		for i, tag := range s.Tags {
			if i > 0 {
				row.b = append(row.b, tagSeparator...)
			}
			row.b = append(row.b, tag...)
		}
		row.end()
		row.b = tf.append(row.b, s.Accepted)
		row.end()
		row.b = tf.append(row.b, s.Ended)
		row.end()
		row.b = strconv.AppendInt(row.b, int64(s.MessagesIn), 10)
		row.end()
		row.b = strconv.AppendInt(row.b, int64(s.MessagesOut), 10)
		row.end()
		row.b = strconv.AppendInt(row.b, int64(s.Questions), 10)
		row.end()
		if s.readBucket() != 0 {
			row.b = strconv.AppendInt(row.b, int64(s.ReadLevel), 10)
		}
		row.end()
		row.b = strconv.AppendInt(row.b, int64(s.Transfers), 10)
		row.end()
		row.fill(rec, computed)

		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("stats: writing sessions csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("stats: writing sessions csv: %w", err)
	}
	return nil
}

// rowBuilder collects a row's computed fields back to back in one buffer.
type rowBuilder struct {
	b    []byte
	ends []int
}

func (r *rowBuilder) reset() { r.b, r.ends = r.b[:0], r.ends[:0] }

// end closes the field being built.
func (r *rowBuilder) end() { r.ends = append(r.ends, len(r.b)) }

// fill makes one string of the buffer and stores field i in rec[at[i]].
func (r *rowBuilder) fill(rec []string, at []int) {
	s := string(r.b)
	prev := 0
	for i, end := range r.ends {
		rec[at[i]] = s[prev:end]
		prev = end
	}
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
