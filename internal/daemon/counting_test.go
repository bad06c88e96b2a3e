package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/stats"
)

// countingWorld is a world whose sessions end after a second of silence,
// so that idle endings happen while the test waits on the store.
func countingWorld(t *testing.T, grace time.Duration) *world {
	return newWorld(t, func(c *config.Config) {
		c.Sessions.IdleTimeout = time.Second
		c.Sessions.FollowupGrace = grace
	})
}

// sessionsOf returns the sessions of one patron, oldest first.
func (w *world) sessionsOf(psid messenger.PSID) []stats.Session {
	w.t.Helper()
	conv, err := w.Daemon.Store().Conversation(string(psid))
	if err != nil {
		w.t.Fatal(err)
	}
	if conv == nil {
		return nil
	}
	all, err := w.Daemon.Store().Sessions(time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	var mine []stats.Session
	for _, s := range all {
		if s.Guest == conv.Guest {
			mine = append(mine, s)
		}
	}
	return mine
}

// waitSessions waits until the patron's sessions satisfy ok and returns
// them.
func (w *world) waitSessions(psid messenger.PSID, what string, ok func([]stats.Session) bool) []stats.Session {
	w.t.Helper()
	// The store is polled: a session ends on the daemon's idle timer.
	var s []stats.Session
	if !testenv.Holds(15*time.Second, func() bool { s = w.sessionsOf(psid); return ok(s) }) {
		w.t.Fatalf("waiting for %s: sessions %+v", what, s)
	}
	return s
}

// oneEnded reports whether there is exactly one session and it has ended
// with the given status.
func oneEnded(st stats.Status) func([]stats.Session) bool {
	return func(s []stats.Session) bool { return len(s) == 1 && !s[0].Open() && s[0].Status == st }
}

// chatUntil reads the librarian's messages until one starts with prefix.
func chatUntil(t *testing.T, c *jabberclient.Client, prefix string) jabberclient.Received {
	t.Helper()
	for {
		m := nextChat(t, c)
		if strings.HasPrefix(m.Body, prefix) {
			return m
		}
	}
}

// TestCountingFollowsConversations runs, against the real daemon, Prosody
// and the Graph stand-in, the asynchronous conversations the statistics
// must count right: a late answer to a missed session, a "thanks" after
// !close, an answer Facebook refused; then checks that the librarians'
// "Today's statistics", the summary export and the status report agree.
func TestCountingFollowsConversations(t *testing.T) {
	w := countingWorld(t, 15*time.Minute)
	lib := w.LoginLibrarian()
	ctx := context.Background()
	say := func(psid messenger.PSID, text string) {
		t.Helper()
		if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, psid, text); err != nil {
			t.Fatal(err)
		}
		chatUntil(t, lib, text)
	}
	answer := func(psid messenger.PSID, text string) {
		t.Helper()
		if _, err := lib.SendChat(string(psid)+"@"+testenv.ComponentDomain, text); err != nil {
			t.Fatal(err)
		}
	}

	// A question nobody answered before the session ended, answered
	// later while Facebook still accepts replies: one answered session.
	night := standin.NewPSID()
	say(night, "Do you have Dune? (asked at night)")
	missed := w.waitSessions(night, "the idle end", oneEnded(stats.StatusMissed))[0]
	answer(night, "Good morning! Yes, two copies.")
	waitSent(t, w.Facebook, 1)
	late := w.waitSessions(night, "the late answer", oneEnded(stats.StatusAnswered))[0]
	if late.ID != missed.ID || late.Operator != "librarian@localhost" || late.MessagesOut != 1 || late.Questions != 1 ||
		!late.Accepted.After(missed.Ended) || late.Wait() < time.Second {
		t.Errorf("late answer: session %+v, was %+v", late, missed)
	}

	// A "thanks" after !close joins the session it thanks for.
	thanks := standin.NewPSID()
	say(thanks, "When do you open?")
	answer(thanks, "At nine.")
	answer(thanks, "!close")
	w.waitSessions(thanks, "the close", func(s []stats.Session) bool { return len(s) == 1 && !s[0].Open() })
	say(thanks, "thanks 👍")
	got := w.waitSessions(thanks, "the follow-up's end", func(s []stats.Session) bool {
		return len(s) == 1 && !s[0].Open() && s[0].MessagesIn == 2
	})[0]
	if got.Status != stats.StatusAnswered || got.MessagesOut != 1 || !got.Ended.After(got.Accepted) {
		t.Errorf("after the follow-up: %+v", got)
	}

	// Every reply refused for good: undelivered, and the librarian knows.
	gone := standin.NewPSID()
	say(gone, "hello?")
	w.Facebook.FailNext(testenv.PageID, messenger.GraphError{HTTPStatus: 400, Code: 551, Type: "OAuthException",
		Message: "This person isn't available right now."})
	answer(gone, "Hi! How can I help?")
	chatUntil(t, lib, "[askbridge] Not delivered:")
	undelivered := w.waitSessions(gone, "the undelivered end", oneEnded(stats.StatusUndelivered))[0]
	if undelivered.Operator != "librarian@localhost" || undelivered.Questions != 0 {
		t.Errorf("undelivered session %+v", undelivered)
	}

	// One rule for every view of today's figures.
	day := time.Now().UTC().Format("2006-01-02")
	sum := exportJSON(t, w, "summary", day)
	if sum["sessions"] != 3.0 || sum["answered"] != 2.0 || sum["undelivered"] != 1.0 || sum["missed"] != 0.0 ||
		sum["questions"] != 2.0 || sum["reference_transactions"] != 2.0 {
		t.Errorf("summary %v", sum)
	}
	var statusRows []map[string]any
	if err := json.Unmarshal([]byte(exportBody(t, w, "status", "json", day)), &statusRows); err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, r := range statusRows {
		total += r["sessions"].(float64)
	}
	if total != sum["sessions"] {
		t.Errorf("status rows add up to %v, summary says %v sessions", total, sum["sessions"])
	}
	note := todayNote(t, lib)
	want := fmt.Sprintf("finished sessions: %v — %v answered, %v missed, %v after hours, %v undelivered, %v automatic only",
		sum["sessions"], sum["answered"], sum["missed"], sum["after_hours"], sum["undelivered"], sum["auto_only"])
	if !strings.Contains(note, want) || !strings.Contains(note, fmt.Sprintf("Reference transactions: %v", sum["reference_transactions"])) ||
		!strings.Contains(note, fmt.Sprintf("Median wait: %d s.", int(sum["median_wait"].(float64)))) { // waits of seconds here
		t.Errorf("today's statistics %q do not match the summary %v", note, sum)
	}
}

// TestClassifyAfterClose checks, against the real daemon, that !read typed
// after !close lands on the session the librarian answered, not on the
// patron's later, unanswered one.
func TestClassifyAfterClose(t *testing.T) {
	w := countingWorld(t, 0) // no follow-ups: the next message is a new session
	lib := w.LoginLibrarian()
	ctx := context.Background()
	psid := standin.NewPSID()
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, psid, "Can I renew online?"); err != nil {
		t.Fatal(err)
	}
	chatUntil(t, lib, "Can I renew online?")
	patron := string(psid) + "@" + testenv.ComponentDomain
	if _, err := lib.SendChat(patron, "Yes, in your account."); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.SendChat(patron, "!close"); err != nil {
		t.Fatal(err)
	}
	first := w.waitSessions(psid, "the close", oneEnded(stats.StatusAnswered))[0]
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, psid, "Another question"); err != nil {
		t.Fatal(err)
	}
	chatUntil(t, lib, "Another question")
	w.waitSessions(psid, "the second session", func(s []stats.Session) bool { return len(s) == 2 })
	if _, err := lib.SendChat(patron, "!read 4"); err != nil {
		t.Fatal(err)
	}
	m := chatUntil(t, lib, "[askbridge] READ level 4 recorded")
	if want := "for the session that started " + first.Started.UTC().Format("15:04") + "."; !strings.HasSuffix(m.Body, want) {
		t.Errorf("confirmation %q, want it to end %q", m.Body, want)
	}
	s := w.waitSessions(psid, "the second session's end", func(s []stats.Session) bool { return len(s) == 2 && !s[1].Open() })
	if s[0].ReadLevel != 4 || s[1].ReadLevel != 0 || s[1].Status != stats.StatusMissed {
		t.Errorf("sessions after !read: %+v", s)
	}
}

// exportBody fetches one day's report from /stats/export (a direct
// loopback request needs no token).
func exportBody(t *testing.T, w *world, report, format, day string) string {
	t.Helper()
	resp, err := http.Get(w.URL("/stats/export?report=" + report + "&format=" + format + "&from=" + day + "&to=" + day))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("export %s: %d %s %v", report, resp.StatusCode, body, err)
	}
	return string(body)
}

func exportJSON(t *testing.T, w *world, report, day string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(exportBody(t, w, report, "json", day)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var commandNote = regexp.MustCompile(`<note[^>]*>([^<]*)</note>`)

// todayNote runs the "Today's Facebook statistics" ad-hoc command
// (XEP-0050) from the librarian's client and returns its note.
func todayNote(t *testing.T, c *jabberclient.Client) string {
	t.Helper()
	err := c.SendRaw(`<iq type="set" id="today-1" to="` + testenv.ComponentDomain + `"><command xmlns="http://jabber.org/protocol/commands" node="askbridge/today" action="execute"/></iq>`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		iq, err := c.NextIQ(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if iq.ID != "today-1" {
			continue
		}
		m := commandNote.FindStringSubmatch(iq.Raw)
		if m == nil {
			t.Fatalf("no note in %s", iq.Raw)
		}
		return html.UnescapeString(m[1])
	}
}

// TestCalendarDaysAndNamedZones checks, through the running daemon's
// export, that a day starts at the first instant of its date in a zone
// whose clocks jump forward at midnight, and that the machine's zone
// (sessions.timezone: Local) is named, never "Local".
func TestCalendarDaysAndNamedZones(t *testing.T) {
	w := newWorld(t, func(c *config.Config) { c.Sessions.Timezone = "Local" })
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	// On 6 September 2026 Santiago's clocks go from 00:00 to 01:00: the
	// day starts at 01:00 -03 (04:00 UTC). 03:30 UTC is still 5 September.
	late := time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC)
	early := time.Date(2026, 9, 6, 4, 30, 0, 0, time.UTC)
	var in []stats.Session
	for _, at := range []time.Time{late, early} {
		in = append(in, stats.Session{Guest: "g", Page: testenv.PageID, Queue: "librarian@localhost", Started: at,
			Ended: at.Add(time.Minute), Status: stats.StatusMissed, MessagesIn: 1})
	}
	if err := w.Daemon.Store().ImportSessions(in); err != nil {
		t.Fatal(err)
	}
	get := func(query string) string {
		t.Helper()
		resp, err := http.Get(w.URL("/stats/export?" + query))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
		}
		return string(body)
	}
	day := get("from=2026-09-06&to=2026-09-06&timezone=America/Santiago&include_unanswered=1")
	if !strings.Contains(day, early.In(santiago).Format("2006-01-02T15:04:05-07:00")) || strings.Contains(day, "2026-09-05T23:30:00-04:00") || strings.Count(day, "\n") != 2 {
		t.Errorf("6 September in Santiago:\n%s", day)
	}
	before := get("from=2026-09-05&to=2026-09-05&timezone=America/Santiago&include_unanswered=1")
	if !strings.Contains(before, "2026-09-05T23:30:00-04:00") || strings.Count(before, "\n") != 2 {
		t.Errorf("5 September in Santiago:\n%s", before)
	}
	sum := get("from=2026-09-01&to=2026-09-30&report=summary&format=json")
	if strings.Contains(sum, `"Local"`) || !strings.Contains(sum, `"timezone": "`) {
		t.Errorf("the summary names its zone Local:\n%s", sum)
	}
}
