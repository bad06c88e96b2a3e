package config

import (
	"testing"
	"time"
)

func TestOfficeHours(t *testing.T) {
	s, err := ParseOfficeHours(map[string]string{"mon-fri": "09:00-12:00, 13:00-21:00", "sat": "10:00-17:00", "sun": "closed",
		"2026-11-26": "closed", "2026-11-29": "12:00-16:00"})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Toronto")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		when string
		open bool
	}{
		{"2026-11-23 09:00", true},  // Monday opening
		{"2026-11-23 08:59", false}, // before
		{"2026-11-23 12:30", false}, // lunch
		{"2026-11-27 20:59", true},  // Friday evening
		{"2026-11-27 21:00", false}, // closing time is closed
		{"2026-11-28 16:00", true},  // Saturday
		{"2026-11-22 12:00", false}, // Sunday closed
		{"2026-11-26 10:00", false}, // a holiday on a Thursday
		{"2026-11-29 12:00", true},  // a Sunday with special hours
		{"2026-11-29 16:00", false},
	}
	for _, c := range cases {
		if got := s.Open(at(c.when), loc); got != c.open {
			t.Errorf("%s: open = %v, want %v", c.when, got, c.open)
		}
	}
	// The same instant seen from UTC is judged in the library's zone.
	if !s.Open(at("2026-11-23 09:30").UTC(), loc) {
		t.Error("UTC instant judged in the wrong zone")
	}
	if (Schedule{}).Open(at("2026-11-29 03:00"), loc) != true {
		t.Error("no hours configured must mean always open")
	}
	wrap, err := ParseOfficeHours(map[string]string{"fri-mon": "10:00-11:00"})
	if err != nil || !wrap.Open(at("2026-11-29 10:30"), loc) || wrap.Open(at("2026-11-25 10:30"), loc) {
		t.Errorf("fri-mon range wrong: %v", err)
	}
	for _, bad := range []map[string]string{
		{"mon-fry": "09:00-17:00"}, {"mon": "9-5"}, {"mon": "17:00-09:00"}, {"mon": "09:00-25:00"},
	} {
		if _, err := ParseOfficeHours(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
