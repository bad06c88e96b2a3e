package stats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalZoneName checks each way the machine's zone is named, on files
// the test makes.
func TestLocalZoneName(t *testing.T) {
	dir := t.TempDir()
	zoneinfo := filepath.Join(dir, "zoneinfo")
	write := func(path, content string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	toronto := write(filepath.Join(zoneinfo, "America", "Toronto"), "toronto bytes")
	write(filepath.Join(zoneinfo, "Canada", "Eastern"), "toronto bytes") // an alias, same bytes
	write(filepath.Join(zoneinfo, "EST5EDT"), "toronto bytes")
	write(filepath.Join(zoneinfo, "Europe", "Paris"), "paris bytes")
	linked := filepath.Join(dir, "linked")
	if err := os.Symlink(toronto, linked); err != nil {
		t.Fatal(err)
	}
	copied := write(filepath.Join(dir, "copied"), "paris bytes")
	unknown := write(filepath.Join(dir, "unknown"), "no such zone")
	debian := write(filepath.Join(dir, "timezone"), "Asia/Kolkata\n")
	missing := filepath.Join(dir, "missing")
	env := func(tz string, set bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == "TZ" && set {
				return tz, true
			}
			return "", false
		}
	}
	tests := []struct {
		name                string
		getenv              func(string) (string, bool)
		localtime, timezone string
		want, wantErr       string
	}{
		{"TZ names a zone", env("America/Halifax", true), linked, missing, "America/Halifax", ""},
		{"TZ with a colon", env(":Europe/Paris", true), linked, missing, "Europe/Paris", ""},
		{"TZ set but empty is UTC", env("", true), linked, missing, "UTC", ""},
		{"TZ as a path into the database", env(toronto, true), missing, missing, "America/Toronto", ""},
		{"localtime links into the database", env("", false), linked, missing, "America/Toronto", ""},
		{"/etc/timezone", env("", false), copied, debian, "Asia/Kolkata", ""},
		{"a copy of a database file", env("", false), copied, missing, "Europe/Paris", ""},
		{"a copy with aliases prefers Area/City", env("", false), write(filepath.Join(dir, "copy2"), "toronto bytes"), missing, "America/Toronto", ""},
		{"no localtime is UTC", env("", false), missing, missing, "UTC", ""},
		{"a zone file nobody knows", env("", false), unknown, missing, "", "matches no IANA zone name"},
	}
	for _, tt := range tests {
		got, err := localZoneName(tt.getenv, tt.localtime, tt.timezone, zoneinfo)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %q, %v; want an error containing %q", tt.name, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestResolveZone checks that "Local" never comes back as "Local" and that
// other names pass through.
func TestResolveZone(t *testing.T) {
	for _, name := range []string{"", "Local"} {
		got, err := ResolveZone(name)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if got == "Local" || got == "" {
			t.Errorf("%q resolved to %q", name, got)
		}
		if _, err := ParseQuery("2026-01-01", "2026-01-01", "summary", "", name, false, false, 0, "Local"); err != nil {
			t.Errorf("ParseQuery with %q: %v", name, err)
		}
	}
	q, err := ParseQuery("2026-01-01", "2026-01-01", "summary", "", "Local", false, false, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if q.Location.String() == "Local" {
		t.Error("the query's zone is named Local")
	}
	if got, _ := ResolveZone("America/Santiago"); got != "America/Santiago" {
		t.Errorf("a named zone came back as %q", got)
	}
}
