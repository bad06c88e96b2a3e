package messenger

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIVersion is the Graph API version the bridge calls unless
// messenger.api_version names another.
const DefaultAPIVersion = "v25.0"

// apiVersionExpiry lists when Meta retires each Graph API version, as
// published in the Graph API changelog ("Available until"). Versions
// newer than the last listed have no published date yet.
var apiVersionExpiry = map[string]string{
	"v19.0": "2026-05-21",
	"v20.0": "2026-09-24",
	"v21.0": "2027-01-21",
	"v22.0": "2027-05-20",
	"v23.0": "2027-10-08",
	"v24.0": "2028-02-18",
	"v25.0": "2028-07-29",
}

// ExpiryWarning is how long before a Graph API version's retirement the
// bridge warns about it.
const ExpiryWarning = 90 * 24 * time.Hour

// VersionStatus says how long a Graph API version will keep working.
type VersionStatus struct {
	// Version is the version asked about ("v21.0").
	Version string
	// Expires is the day Meta retires it; zero when no date is published.
	Expires time.Time
	// Warning is a sentence for the administrator when the version is
	// retired, retires within ExpiryWarning, or is older than every version
	// the bridge knows; empty otherwise.
	Warning string
}

// CheckAPIVersion tells how long version (as in messenger.api_version)
// keeps working, as seen at now.
func CheckAPIVersion(version string, now time.Time) VersionStatus {
	st := VersionStatus{Version: version}
	if day, ok := apiVersionExpiry[version]; ok {
		st.Expires, _ = time.Parse(time.DateOnly, day)
	}
	switch {
	case !st.Expires.IsZero() && !now.Before(st.Expires):
		st.Warning = fmt.Sprintf("Graph API %s was retired by Meta on %s: Meta now answers calls to it as the oldest version still available, which may behave differently; set messenger.api_version to %s",
			version, st.Expires.Format(time.DateOnly), DefaultAPIVersion)
	case !st.Expires.IsZero() && st.Expires.Sub(now) <= ExpiryWarning:
		st.Warning = fmt.Sprintf("Graph API %s retires on %s (in %d days); set messenger.api_version to %s",
			version, st.Expires.Format(time.DateOnly), int(st.Expires.Sub(now).Hours()/24)+1, DefaultAPIVersion)
	case st.Expires.IsZero() && olderThanKnown(version):
		st.Warning = fmt.Sprintf("Graph API %s is older than every version this askbridge knows and is probably retired; set messenger.api_version to %s",
			version, DefaultAPIVersion)
	}
	return st
}

// olderThanKnown reports whether version ("vN.M") is older than the
// oldest listed version.
func olderThanKnown(version string) bool {
	major, ok := majorVersion(version)
	return ok && major < 19
}

func majorVersion(v string) (int, bool) {
	s, ok := strings.CutPrefix(v, "v")
	if !ok {
		return 0, false
	}
	s, _, _ = strings.Cut(s, ".")
	n, err := strconv.Atoi(s)
	return n, err == nil
}
