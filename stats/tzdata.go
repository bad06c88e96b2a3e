package stats

// The time zone database is embedded so that ParseQuery finds
// America/Toronto on a minimal system without /usr/share/zoneinfo (the
// daemon ships as one static binary). It adds about 450 KB.
import _ "time/tzdata"
