package stats

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zoneinfoDir is where Debian (and most systems) keep the IANA time zone
// database.
const zoneinfoDir = "/usr/share/zoneinfo"

// ResolveZone turns a time zone setting (sessions.timezone, --timezone)
// into an IANA zone name. "Local" and "" become the machine's own zone,
// named as the IANA database names it (America/Toronto), never "Local":
// every export and page says which zone its times are in. Other names are
// returned as given.
//
// The machine's zone is found, in order, from $TZ, from where
// /etc/localtime links into the zone database, from /etc/timezone
// (Debian), or by finding the database file /etc/localtime is a copy of;
// a machine with none of these runs on UTC, as Go's time.Local does.
func ResolveZone(name string) (string, error) {
	if name != "" && name != "Local" {
		return name, nil
	}
	zone, err := localZoneName(os.LookupEnv, "/etc/localtime", "/etc/timezone", zoneinfoDir)
	if err != nil {
		return "", err
	}
	return zone, nil
}

// errUnnamedZone is returned when the machine's zone file matches no
// zone in the database.
var errUnnamedZone = errors.New("the machine's time zone (/etc/localtime) matches no IANA zone name; name one, such as America/Toronto")

// localZoneName finds the machine's IANA zone name; its arguments let
// tests point it at files of their own.
func localZoneName(lookupEnv func(string) (string, bool), localtime, timezoneFile, zoneinfo string) (string, error) {
	if tz, set := lookupEnv("TZ"); set {
		tz = strings.TrimPrefix(tz, ":")
		switch {
		case tz == "":
			// TZ set but empty means UTC, as in Go and the C library.
			return "UTC", nil
		case filepath.IsAbs(tz):
			if name, ok := zoneFromPath(tz, zoneinfo); ok {
				return name, nil
			}
		default:
			if _, err := time.LoadLocation(tz); err == nil {
				return tz, nil
			}
		}
	}
	if target, err := filepath.EvalSymlinks(localtime); err == nil {
		if name, ok := zoneFromPath(target, zoneinfo); ok {
			return name, nil
		}
	}
	if data, err := os.ReadFile(timezoneFile); err == nil {
		if name := strings.TrimSpace(string(data)); name != "" {
			if _, err := time.LoadLocation(name); err == nil {
				return name, nil
			}
		}
	}
	data, err := os.ReadFile(localtime)
	if errors.Is(err, fs.ErrNotExist) {
		return "UTC", nil
	}
	if err != nil {
		return "", err
	}
	if name := zoneByContent(data, zoneinfo); name != "" {
		return name, nil
	}
	return "", errUnnamedZone
}

// zoneFromPath names the zone of a file inside the zone database
// (/usr/share/zoneinfo/America/Toronto → America/Toronto); false if path
// is outside it or names no zone Go can load.
func zoneFromPath(path, zoneinfo string) (string, bool) {
	for _, dir := range []string{zoneinfo, filepath.Join(zoneinfo, "posix")} {
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") || strings.HasPrefix(rel, "posix") || strings.HasPrefix(rel, "right") {
			continue
		}
		if _, err := time.LoadLocation(filepath.ToSlash(rel)); err == nil {
			return filepath.ToSlash(rel), true
		}
	}
	return "", false
}

// zoneByContent finds the zone database file with exactly these bytes,
// preferring canonical names (Area/City) over aliases; "" if none.
func zoneByContent(data []byte, zoneinfo string) string {
	var best string
	_ = filepath.WalkDir(zoneinfo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(zoneinfo, path)
		if d.IsDir() {
			if rel == "posix" || rel == "right" || rel == "Etc" && best != "" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() != int64(len(data)) || !d.Type().IsRegular() {
			return nil
		}
		other, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(other, data) {
			return nil
		}
		name := filepath.ToSlash(rel)
		if _, err := time.LoadLocation(name); err != nil {
			return nil
		}
		if best == "" || strings.Contains(name, "/") && !strings.Contains(best, "/") {
			best = name
		}
		return nil
	})
	return best
}
