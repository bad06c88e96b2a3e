package stats

import "strconv"

// cellKind says how a report cell is written.
type cellKind uint8

const (
	kindNull cellKind = iota // empty in CSV, null in JSON
	kindInt                  // a number in both
	kindText                 // text in CSV, a string in JSON
)

// cell is one value of a report table.
type cell struct {
	kind cellKind
	n    int64
	s    string
}

func num(n int64) cell   { return cell{kind: kindInt, n: n} }
func text(s string) cell { return cell{kind: kindText, s: s} }

// null is a value that does not exist, such as the mean wait of nothing.
var null = cell{}

// optional is n when ok, else null.
func optional(n int64, ok bool) cell {
	if !ok {
		return null
	}
	return num(n)
}

// csv is the cell as a CSV field.
func (c cell) csv() string {
	switch c.kind {
	case kindInt:
		return strconv.FormatInt(c.n, 10)
	case kindText:
		return c.s
	}
	return ""
}

// table is a report: a header and rows of cells. An object table (the
// summary) has the columns "metric" and "value" and is written in JSON as
// one object mapping each metric to its value.
type table struct {
	columns []string
	rows    [][]cell
	object  bool
}

func (t *table) add(row ...cell) { t.rows = append(t.rows, row) }
