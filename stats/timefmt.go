package stats

import (
	"math"
	"time"
)

// timeLayout is ISO 8601 with a numeric offset, also for UTC (+00:00).
const timeLayout = "2006-01-02T15:04:05-07:00"

// timeFormatter writes times in one location as timeLayout does, an order
// of magnitude faster than time.Time.AppendFormat for exports of millions
// of rows: it remembers the zone period (offset and bounds) of the last
// time, which the next one almost always shares since exports run in
// order of start.
type timeFormatter struct {
	loc        *time.Location
	start, end int64 // Unix seconds of the cached zone period, [start, end)
	offset     int64 // seconds east of UTC in that period
}

func newTimeFormatter(loc *time.Location) *timeFormatter {
	return &timeFormatter{loc: loc, start: 1, end: 0} // empty: first use looks up
}

// append appends t as timeLayout in the formatter's location; the zero
// time appends nothing.
func (f *timeFormatter) append(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	u := t.Unix()
	if u < f.start || u >= f.end {
		lt := t.In(f.loc)
		_, off := lt.Zone()
		f.offset = int64(off)
		zs, ze := lt.ZoneBounds()
		f.start, f.end = math.MinInt64, math.MaxInt64
		if !zs.IsZero() {
			f.start = zs.Unix()
		}
		if !ze.IsZero() {
			f.end = ze.Unix()
		}
	}
	local := u + f.offset
	days := floorDiv(local, 86400)
	sod := local - days*86400
	y, m, d := civilDate(days)
	if y < 0 || y > 9999 {
		return t.In(f.loc).AppendFormat(b, timeLayout)
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, sod/3600)
	b = append(b, ':')
	b = append2(b, sod/60%60)
	b = append(b, ':')
	b = append2(b, sod%60)
	off := f.offset / 60 // Go's -07:00 drops seconds of an offset too
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = append2(b, off/60)
	b = append(b, ':')
	return append2(b, off%60)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// civilDate converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civilDate(days int64) (year, month, day int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

func append2(b []byte, n int64) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int64) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
