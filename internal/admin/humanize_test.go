package admin

import "testing"

func TestFormatWait(t *testing.T) {
	for _, tc := range []struct {
		sec  int64
		want string
	}{
		{0, "0 s"}, {45, "45 s"}, {59, "59 s"}, {60, "1 min"}, {80, "1 min 20 s"}, {3599, "59 min 59 s"},
		{3600, "1 h"}, {7500, "2 h 5 min"}, {7559, "2 h 5 min"}, {86399, "23 h 59 min"},
		{86400, "1 d"}, {3*86400 + 4*3600 + 59, "3 d 4 h"},
	} {
		if got := formatWait(&tc.sec); got != tc.want {
			t.Errorf("%d s: %q, want %q", tc.sec, got, tc.want)
		}
	}
	if got := formatWait(nil); got != "—" {
		t.Errorf("no wait: %q", got)
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345",
		1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatCount(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
	for _, tc := range []struct {
		n, total int64
		want     string
	}{{1, 3, "33%"}, {1, 2, "50%"}, {2, 3, "67%"}, {1, 200, "1%"}, {1, 201, "0%"}, {0, 0, ""}} {
		if got := formatShare(tc.n, tc.total); got != tc.want {
			t.Errorf("%d of %d: %q, want %q", tc.n, tc.total, got, tc.want)
		}
	}
}
