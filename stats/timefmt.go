package stats

import (
	"math"
	"strconv"
	"time"
)

// timeLayout is ISO 8601 with a numeric offset, also for UTC (+00:00).
const timeLayout = "2006-01-02T15:04:05-07:00"

// timeFormatter writes times in one location as timeLayout does, an order
// of magnitude faster than time.Time.AppendFormat for exports of millions
// of rows: it remembers the zone period (offset and bounds) of the last
// time, which the next one almost always shares since exports run in
// order of start, and the date of the last day it wrote.
type timeFormatter struct {
	loc        *time.Location
	start, end int64   // Unix seconds of the cached zone period, [start, end)
	offset     int64   // seconds east of UTC in that period
	zone       [6]byte // the offset as written: "-05:00"
	day        int64   // days since 1970-01-01 of date, on the local clock
	date       [11]byte
	hasDay     bool
}

func newTimeFormatter(loc *time.Location) *timeFormatter {
	return &timeFormatter{loc: loc, start: 1, end: 0} // empty: first use looks up
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendInt appends n in decimal, as strconv.AppendInt does, without its
// cost for the small numbers that fill most cells.
func appendInt(b []byte, n int64) []byte {
	if n >= 0 && n < 100 {
		if n < 10 {
			return append(b, byte('0'+n))
		}
		return append(b, twoDigits[2*n], twoDigits[2*n+1])
	}
	return strconv.AppendInt(b, n, 10)
}

// append appends t as timeLayout in the formatter's location; the zero
// time appends nothing.
func (f *timeFormatter) append(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	u := t.Unix()
	if u < f.start || u >= f.end {
		f.lookup(t)
	}
	local := u + f.offset
	days := floorDiv(local, 86400)
	if days != f.day || !f.hasDay {
		y, m, d := civilDate(days)
		if y < 0 || y > 9999 {
			return t.In(f.loc).AppendFormat(b, timeLayout)
		}
		date := append4(f.date[:0], y)
		date = append(date, '-')
		date = append2(date, m)
		date = append(date, '-')
		date = append2(date, d)
		_ = append(date, 'T')
		f.day, f.hasDay = days, true
	}
	sod := local - days*86400
	h, m, sec := 2*(sod/3600), 2*(sod/60%60), 2*(sod%60)
	b = append(b, f.date[:]...)
	b = append(b, twoDigits[h], twoDigits[h+1], ':', twoDigits[m], twoDigits[m+1], ':', twoDigits[sec], twoDigits[sec+1])
	return append(b, f.zone[:]...)
}

// lookup caches the zone period of t.
func (f *timeFormatter) lookup(t time.Time) {
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
	o := f.offset / 60 // Go's -07:00 drops seconds of an offset too
	zone := f.zone[:0]
	if o < 0 {
		zone = append(zone, '-')
		o = -o
	} else {
		zone = append(zone, '+')
	}
	zone = append2(zone, o/60)
	zone = append(zone, ':')
	_ = append2(zone, o%60)
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
