package stats_test

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/stats"
)

// TestSessionHasNoIdentity pins Session's fields: exports are built from
// them alone, so a new field must be reviewed for patron identity (PSID,
// name, profile) before this list is changed.
func TestSessionHasNoIdentity(t *testing.T) {
	var fields []string
	typ := reflect.TypeFor[stats.Session]()
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	want := []string{"ID", "Guest", "Page", "Protocol", "Queue", "Started", "Accepted", "Ended", "Operator", "Status",
		"MessagesIn", "MessagesOut", "AutoReplies", "Questions", "ReadLevel", "Tags", "Transfers", "RepliesDelivered", "RepliesRefused"}
	if !slices.Equal(fields, want) {
		t.Errorf("Session fields %v, want %v: check the new ones carry no patron identity, then update this test", fields, want)
	}
}

// psidLike is a run of digits as long as a PSID (Page-scoped IDs are 15–17
// digits; Page IDs are too).
var psidLike = regexp.MustCompile(`[0-9]{13,}`)

// TestNoPSIDInExports writes every report in both formats and checks that
// the only long digit runs are the Page IDs, and that no guest pseudonym
// shows up in an aggregate report.
func TestNoPSIDInExports(t *testing.T) {
	sessions := fixture(t)
	for _, report := range stats.Reports() {
		for _, format := range stats.Formats() {
			out := string(export(t, fullQuery(t, report, format), sessions))
			for _, m := range psidLike.FindAllString(out, -1) {
				if m != pageCentral && m != pageTeens {
					t.Errorf("%s %s: %q looks like a PSID", report, format, m)
				}
			}
			if report != "sessions" && strings.Contains(out, "guest-") {
				t.Errorf("%s %s names a guest", report, format)
			}
		}
	}
}
