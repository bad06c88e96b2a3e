package messenger

import (
	"strings"
	"testing"
	"time"
)

func TestCheckAPIVersion(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		version, now, want string
	}{
		{"v25.0", "2026-12-07", ""},
		{"v21.0", "2026-10-22", ""}, // 91 days before
		{"v21.0", "2026-10-24", "Graph API v21.0 retires on 2027-01-21 (in 90 days)"}, // within 90 days
		{"v21.0", "2026-12-07", "Graph API v21.0 retires on 2027-01-21 (in 46 days); set messenger.api_version to v25.0"},
		{"v20.0", "2026-12-07", "Graph API v20.0 was retired by Meta on 2026-09-24"},
		{"v12.0", "2026-12-07", "older than every version this askbridge knows"},
		{"v26.0", "2026-12-07", ""}, // no date published yet
		{"v99.0", "2026-12-07", ""},
	}
	for _, tt := range tests {
		st := CheckAPIVersion(tt.version, day(tt.now))
		if tt.want == "" && st.Warning != "" || tt.want != "" && !strings.Contains(st.Warning, tt.want) {
			t.Errorf("%s on %s: warning %q, want %q", tt.version, tt.now, st.Warning, tt.want)
		}
	}
	if st := CheckAPIVersion("v25.0", day("2026-12-07")); !st.Expires.Equal(day("2028-07-29")) {
		t.Errorf("v25.0 expires %v", st.Expires)
	}
	if DefaultAPIVersion != "v25.0" {
		t.Errorf("default %s", DefaultAPIVersion)
	}
}
