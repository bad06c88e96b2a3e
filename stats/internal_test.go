package stats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestTimeFormatter checks the fast formatter against time.AppendFormat
// in zones with DST, half-hour and 45-minute offsets, historical offsets
// with seconds, and times in and out of order.
func TestTimeFormatter(t *testing.T) {
	zones := []string{"UTC", "America/Toronto", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham",
		"Australia/Lord_Howe", "Europe/Dublin", "Africa/Casablanca", "Pacific/Kiritimati"}
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		tf := newTimeFormatter(loc)
		check := func(tm time.Time) {
			got := string(tf.append(nil, tm))
			want := tm.In(loc).Format(timeLayout)
			if got != want {
				t.Fatalf("%s: %v formatted %q, want %q", name, tm, got, want)
			}
		}
		for range 20000 {
			check(time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)))
		}
		// In order across 2026, a minute apart around each DST change.
		for tm := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC); tm.Before(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)); tm = tm.Add(time.Minute) {
			check(tm)
		}
		for tm := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC); tm.Before(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)); tm = tm.Add(7 * time.Minute) {
			check(tm)
		}
		check(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC))
		check(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	if got := newTimeFormatter(time.UTC).append([]byte("x"), time.Time{}); string(got) != "x" {
		t.Errorf("zero time appended %q", got)
	}
}

func encodingJSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

var jsonStrings = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "é ü 中文 🎉", "\u2028\u2029", "bad \xff utf8 \xe2\x82", "interlibrary loan \"ILL\"",
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStrings {
		if got, want := string(appendJSONString(nil, s)), encodingJSONString(s); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), encodingJSONString(s); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestSecondsList(t *testing.T) {
	tests := []struct {
		in                     secondsList
		mean, median, min, max cell
	}{
		{nil, null, null, null, null},
		{secondsList{5}, num(5), num(5), num(5), num(5)},
		{secondsList{3, 1, 2, 10}, num(4), num(3), num(1), num(10)}, // mean 4, median 2.5 → 3
		{secondsList{1, 2}, num(2), num(2), num(1), num(2)},         // 1.5 rounds up
		{secondsList{1, 1, 2}, num(1), num(1), num(1), num(2)},      // 1.33 rounds down
	}
	for _, tt := range tests {
		l := append(secondsList(nil), tt.in...)
		if got := l.mean(); got != tt.mean {
			t.Errorf("%v mean %v, want %v", tt.in, got, tt.mean)
		}
		if got := l.median(); got != tt.median {
			t.Errorf("%v median %v, want %v", tt.in, got, tt.median)
		}
		if got := l.min(); got != tt.min {
			t.Errorf("%v min %v, want %v", tt.in, got, tt.min)
		}
		if got := l.max(); got != tt.max {
			t.Errorf("%v max %v, want %v", tt.in, got, tt.max)
		}
	}
}

var csvFields = []string{
	"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\rhere", " leading space", "\tleading tab",
	"\u00a0nbsp first", "\u2003em space first", `\.`, `\.x`, "trailing space ", "é", "\xff bad",
}

// encodingCSV is one record as encoding/csv writes it.
func encodingCSV(rec []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	w.Flush()
	return b.String()
}

func TestAppendCSVField(t *testing.T) {
	for _, f := range csvFields {
		if got, want := string(appendCSVRecord(nil, []string{f})), encodingCSV([]string{f}); got != want {
			t.Errorf("field %q written %q, want %q", f, got, want)
		}
	}
	if got, want := string(appendCSVRecord(nil, csvFields)), encodingCSV(csvFields); got != want {
		t.Errorf("record written %q, want %q", got, want)
	}
}

func FuzzAppendCSVField(f *testing.F) {
	for _, s := range csvFields {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		rec := []string{a, b}
		if got, want := string(appendCSVRecord(nil, rec)), encodingCSV(rec); got != want {
			t.Errorf("%q written %q, want %q", rec, got, want)
		}
	})
}

func TestAppendInt(t *testing.T) {
	for _, n := range []int64{-100, -10, -1, 0, 1, 9, 10, 42, 99, 100, 101, 1 << 40, -1 << 63} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
}
