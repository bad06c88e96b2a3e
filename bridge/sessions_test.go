package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// step is one thing that happens in a session test.
type step struct {
	after time.Duration // advance the clock first
	// one of:
	patron  string // a patron message
	reply   string // a librarian's message (also commands)
	idle    bool   // run the idle check
	restart bool   // restart the bridge on the same store
	// from is the reply's sender (full JID); alice's desk if empty.
	from string
	// refuse, if set, is how the Send API answers the reply.
	refuse error
	// wantNotice, if set, must start the answer to a command.
	wantNotice string
}

func TestSessionStateMachine(t *testing.T) {
	// Monday 2026-11-23 10:00 in Toronto: office hours.
	loc, _ := time.LoadLocation("America/Toronto")
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, loc)
	night := time.Date(2026, 11, 24, 3, 0, 0, 0, loc)
	cases := []struct {
		name  string
		start time.Time
		steps []step
		want  []stats.Session // compared on the fields set below
	}{
		{"answered, ends when idle", monday10, []step{
			{patron: "q"}, {after: 2 * time.Minute, reply: "a"}, {after: time.Minute, patron: "thanks"},
			{after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, Operator: "alice@library.test", MessagesIn: 2, MessagesOut: 1, Questions: 1,
			Accepted: monday10.Add(2 * time.Minute), Ended: monday10.Add(3 * time.Minute)}}},
		{"closed with !close, then a new session", monday10, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: 4 * time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed: answered"},
			{after: time.Minute, patron: "another"}, {after: 40 * time.Minute, idle: true},
		}, []stats.Session{
			{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: "alice@library.test",
				Accepted: monday10.Add(time.Minute), Ended: monday10.Add(5 * time.Minute)},
			{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10.Add(6 * time.Minute)},
		}},
		{"missed in office hours", monday10, []step{
			{patron: "anyone?"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10}}},
		{"after hours", night, []step{
			{patron: "open?"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAfterHours, MessagesIn: 1, Ended: night}}},
		{"answered after hours is answered", night, []step{
			{patron: "open?"}, {after: time.Minute, reply: "we open at 9"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: "alice@library.test",
			Accepted: night.Add(time.Minute), Ended: night.Add(time.Minute)}}},
		{"classified, also after it closed", monday10, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"},
			{reply: "!read 3", wantNotice: "[askbridge] READ level 3 recorded for the session that started 10:00."},
			{reply: "!tag Hours catalog, hours", wantNotice: "[askbridge] Tags hours, catalog recorded for the session that started 10:00."},
			{reply: "!read 9", wantNotice: "[askbridge] Usage: !read N"},
			{reply: "!questions two", wantNotice: "[askbridge] Usage: !questions N"},
			{reply: "!close", wantNotice: "[askbridge] Session closed"},
			{reply: "!questions 2", wantNotice: "[askbridge] 2 questions recorded for the session that started 10:00."},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 2, ReadLevel: 3,
			Tags: []string{"hours", "catalog"}, Operator: "alice@library.test", Accepted: monday10.Add(time.Minute), Ended: monday10.Add(time.Minute)}}},
		{"survives a restart in the middle", monday10, []step{
			{patron: "q"}, {after: time.Minute, restart: true}, {after: time.Minute, reply: "a"},
			{after: 20 * time.Minute, restart: true}, {after: 15 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: "alice@library.test",
			Accepted: monday10.Add(2 * time.Minute), Ended: monday10.Add(2 * time.Minute)}}},
		{"idle timer survives a restart", monday10, []step{
			{patron: "q"}, {restart: true}, {after: 31 * time.Minute, restart: true}, {idle: true},
		}, []stats.Session{{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *config.Config) {
				cfg.Sessions.Timezone = "America/Toronto"
				cfg.Sessions.OfficeHours = map[string]string{"mon-fri": "09:00-21:00"}
			})
			runSessionSteps(t, h, c.name, c.start, c.steps)
			checkSessions(t, h, c.start, c.want)
		})
	}
}

// runSessionSteps plays steps against a harness whose clock starts at
// start.
func runSessionSteps(t *testing.T, h *harness, name string, start time.Time, steps []step) {
	t.Helper()
	h.clock.t = start
	h.run()
	n := 0
	for _, s := range steps {
		h.clock.Advance(s.after)
		switch {
		case s.patron != "":
			n++
			h.accept(patronText("mid."+name+string(rune('a'+n)), s.patron, h.clock.Now()))
			h.link.next(t)
		case s.reply != "":
			if s.refuse != nil {
				h.api.failWith(s.refuse)
			}
			from := s.from
			if from == "" {
				from = "alice@library.test/desk"
			}
			if e := h.reply(from, s.reply); e != nil {
				t.Fatal(e)
			}
			if s.wantNotice != "" {
				if m := h.link.next(t); !strings.HasPrefix(m.Body, s.wantNotice) {
					t.Fatalf("%s: answer %q, want %q…", s.reply, m.Body, s.wantNotice)
				}
			}
		case s.idle:
			if _, err := h.b.closeIdle(); err != nil {
				t.Fatal(err)
			}
		case s.restart:
			h.restart()
		}
	}
}

// checkSessions compares the sessions that started within a day of start
// with want, on the fields want sets.
func checkSessions(t *testing.T, h *harness, start time.Time, want []stats.Session) {
	t.Helper()
	got, err := h.store.Sessions(start.Add(-time.Hour), start.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d sessions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Status != w.Status || g.MessagesIn != w.MessagesIn || g.MessagesOut != w.MessagesOut ||
			g.Questions != w.Questions || g.ReadLevel != w.ReadLevel || g.Operator != w.Operator ||
			strings.Join(g.Tags, ",") != strings.Join(w.Tags, ",") ||
			!g.Accepted.Equal(w.Accepted) || !g.Ended.Equal(w.Ended) {
			t.Errorf("session %d =\n %+v\nwant\n %+v", i, g, w)
		}
		if g.Guest == "" || g.Page != testPage || g.Queue != testQueue || g.ID == "" {
			t.Errorf("session %d identity fields: %+v", i, g)
		}
	}
}
