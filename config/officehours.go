package config

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is a weekly opening schedule: for each weekday, the opening
// intervals in minutes after midnight (local time of the schedule's zone).
// The zero Schedule has no hours configured: it counts as always open.
type Schedule struct {
	days  [7][]interval         // indexed by time.Weekday
	dates map[string][]interval // YYYY-MM-DD → hours that day (nil: closed)
	set   bool
}

type interval struct{ from, to int }

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseOfficeHours reads sessions.office_hours: keys are days ("mon"),
// ranges ("mon-fri"), lists ("sat,sun") or dates ("2026-12-25", which
// override their weekday, e.g. holidays); values are "HH:MM-HH:MM"
// intervals separated by commas, or "closed". Days not listed are closed.
func ParseOfficeHours(m map[string]string) (Schedule, error) {
	var s Schedule
	for key, val := range m {
		if _, err := time.Parse("2006-01-02", key); err == nil {
			ivs, err := parseIntervals(val)
			if err != nil {
				return Schedule{}, fmt.Errorf("%s: %w", key, err)
			}
			if s.dates == nil {
				s.dates = map[string][]interval{}
			}
			s.dates[key] = ivs
			s.set = true
			continue
		}
		days, err := parseDays(key)
		if err != nil {
			return Schedule{}, err
		}
		ivs, err := parseIntervals(val)
		if err != nil {
			return Schedule{}, fmt.Errorf("%s: %w", key, err)
		}
		for _, d := range days {
			s.days[d] = append(s.days[d], ivs...)
		}
		s.set = true
	}
	return s, nil
}

func parseDays(key string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(strings.ToLower(key), ",") {
		part = strings.TrimSpace(part)
		from, to, isRange := strings.Cut(part, "-")
		a, ok := weekdays[from]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, …, sun)", from)
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, ok := weekdays[to]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, …, sun)", to)
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func parseIntervals(val string) ([]interval, error) {
	val = strings.TrimSpace(strings.ToLower(val))
	if val == "closed" || val == "" {
		return nil, nil
	}
	var out []interval
	for _, part := range strings.Split(val, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("%q is not HH:MM-HH:MM", part)
		}
		a, err := minutes(from)
		if err != nil {
			return nil, err
		}
		b, err := minutes(to)
		if err != nil {
			return nil, err
		}
		if b <= a {
			return nil, fmt.Errorf("%q ends before it starts", part)
		}
		out = append(out, interval{a, b})
	}
	return out, nil
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(hhmm))
	if err != nil {
		if strings.TrimSpace(hhmm) == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("%q is not a time HH:MM", hhmm)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Configured reports whether any office hours were set.
func (s Schedule) Configured() bool { return s.set }

// Open reports whether t falls within office hours, in loc. Without
// configured hours it is always open.
func (s Schedule) Open(t time.Time, loc *time.Location) bool {
	if !s.set {
		return true
	}
	t = t.In(loc)
	m := t.Hour()*60 + t.Minute()
	ivs, special := s.dates[t.Format("2006-01-02")]
	if !special {
		ivs = s.days[t.Weekday()]
	}
	for _, iv := range ivs {
		if m >= iv.from && m < iv.to {
			return true
		}
	}
	return false
}
