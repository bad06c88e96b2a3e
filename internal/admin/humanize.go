package admin

import (
	"strconv"
	"time"
)

// Figures as the dashboard shows them to people; the CSV downloads carry
// the plain numbers.

// formatCount writes n with thousands separators: 12,345.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// formatWait writes a number of seconds the way people say it, to two
// units: "45 s", "1 min 20 s", "2 h 5 min", "3 d 4 h"; nil (no wait to
// speak of) is a dash.
func formatWait(sec *int64) string {
	if sec == nil {
		return "—"
	}
	d := time.Duration(*sec) * time.Second
	two := func(n1 int64, u1 string, n2 int64, u2 string) string {
		s := strconv.FormatInt(n1, 10) + " " + u1
		if n2 > 0 {
			s += " " + strconv.FormatInt(n2, 10) + " " + u2
		}
		return s
	}
	switch s := *sec; {
	case d < time.Minute:
		return strconv.FormatInt(s, 10) + " s"
	case d < time.Hour:
		return two(s/60, "min", s%60, "s")
	case d < 24*time.Hour:
		return two(s/3600, "h", s%3600/60, "min")
	default:
		return two(s/86400, "d", s%86400/3600, "h")
	}
}

// formatShare writes n as a whole percentage of total: "82%"; "" when
// total is 0.
func formatShare(n, total int64) string {
	if total == 0 {
		return ""
	}
	return strconv.FormatInt((200*n+total)/(2*total), 10) + "%"
}
