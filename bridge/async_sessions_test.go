package bridge

import (
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
)

// TestAsynchronousSessions checks that sessions follow how Messenger
// conversations happen: answers the next morning, a "thanks" after the
// chat was closed, classification after !close, replies Facebook refused.
func TestAsynchronousSessions(t *testing.T) {
	loc, _ := time.LoadLocation("America/Toronto")
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, loc)
	evening := time.Date(2026, 11, 23, 20, 50, 0, 0, loc) // office hours end at 21:00
	alice := "alice@library.test"
	unavailable := &messenger.GraphError{HTTPStatus: 400, Code: 551, Type: "OAuthException", Message: "This person isn't available right now."}
	cases := []struct {
		name       string
		start      time.Time
		humanAgent bool
		steps      []step
		want       []stats.Session
	}{
		{"a late answer turns a missed session into an answered one", evening, false, []step{
			{patron: "do you have Dune?"}, {after: 31 * time.Minute, idle: true},
			{after: 12 * time.Hour, reply: "Good morning! Yes, two copies."},
			{after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
			Accepted: evening.Add(12*time.Hour + 31*time.Minute), Ended: evening.Add(12*time.Hour + 31*time.Minute)}}},
		{"a late answer outside the reply window is not counted", evening, false, []step{
			{patron: "anyone?"}, {after: 31 * time.Minute, idle: true},
			{after: 25 * time.Hour, reply: "sorry", wantNotice: "[askbridge] Not delivered: Facebook allows replies only within 24 hours"},
		}, []stats.Session{{Status: stats.StatusMissed, MessagesIn: 1, Ended: evening}}},
		{"with HUMAN_AGENT a late answer counts for 7 days", evening, true, []step{
			{patron: "anyone?"}, {after: 31 * time.Minute, idle: true},
			{after: 72 * time.Hour, reply: "back from the long weekend"},
			{after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
			Accepted: evening.Add(72*time.Hour + 31*time.Minute), Ended: evening.Add(72*time.Hour + 31*time.Minute)}}},
		{"a thanks after !close reopens the session", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: 4 * time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed: answered"},
			{after: 2 * time.Minute, patron: "thanks 👍"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 2, MessagesOut: 1, Questions: 1, Operator: alice,
			Accepted: monday10.Add(time.Minute), Ended: monday10.Add(7 * time.Minute)}}},
		{"a follow-up after the grace period starts a new session", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: 4 * time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
			{after: 16 * time.Minute, patron: "one more thing"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{
			{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
				Accepted: monday10.Add(time.Minute), Ended: monday10.Add(5 * time.Minute)},
			{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10.Add(21 * time.Minute)},
		}},
		// An idle session ended at its last message, so the grace period
		// counts from there: a message after the idle timeout is new.
		{"after an idle end the grace period counts from the last message", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: 30 * time.Minute, idle: true},
			{after: 10 * time.Minute, patron: "thanks"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{
			{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
				Accepted: monday10.Add(time.Minute), Ended: monday10.Add(time.Minute)},
			{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10.Add(41 * time.Minute)},
		}},
		{"classification after !close skips a later unanswered session", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
			{after: 20 * time.Minute, patron: "another question"},
			{after: time.Minute, reply: "!read 4", wantNotice: "[askbridge] READ level 4 recorded for the session that started 10:00."},
			{reply: "!tag hours", wantNotice: "[askbridge] Tags hours recorded for the session that started 10:00."},
			{reply: "!questions 3", wantNotice: "[askbridge] 3 questions recorded for the session that started 10:00."},
			{after: 31 * time.Minute, idle: true},
		}, []stats.Session{
			{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 3, ReadLevel: 4, Tags: []string{"hours"},
				Operator: alice, Accepted: monday10.Add(time.Minute), Ended: monday10.Add(2 * time.Minute)},
			{Status: stats.StatusMissed, MessagesIn: 1, Ended: monday10.Add(22 * time.Minute)},
		}},
		{"a librarian who did not answer classifies nothing after the end", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
			{from: "bob@library.test/desk", reply: "!read 2", wantNotice: "[askbridge] No session to classify"},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
			Accepted: monday10.Add(time.Minute), Ended: monday10.Add(2 * time.Minute)}}},
		{"classification more than a day after the end is refused", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a"}, {after: time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
			{after: 25 * time.Hour, reply: "!read 3", wantNotice: "[askbridge] No session to classify"},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 1, Questions: 1, Operator: alice,
			Accepted: monday10.Add(time.Minute), Ended: monday10.Add(2 * time.Minute)}}},
		{"a session whose every reply was refused is undelivered", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a", refuse: unavailable, wantNotice: "[askbridge] Not delivered:"},
			{after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusUndelivered, MessagesIn: 1, MessagesOut: 1, Operator: alice,
			Accepted: monday10.Add(time.Minute), Ended: monday10.Add(time.Minute)}}},
		{"one delivered reply makes it answered", monday10, false, []step{
			{patron: "q"}, {after: time.Minute, reply: "a", refuse: unavailable, wantNotice: "[askbridge] Not delivered:"},
			{after: time.Minute, reply: "b"}, {after: 31 * time.Minute, idle: true},
		}, []stats.Session{{Status: stats.StatusAnswered, MessagesIn: 1, MessagesOut: 2, Questions: 1, Operator: alice,
			Accepted: monday10.Add(time.Minute), Ended: monday10.Add(2 * time.Minute)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *config.Config) {
				cfg.Sessions.Timezone = "America/Toronto"
				cfg.Sessions.OfficeHours = map[string]string{"mon-fri": "09:00-21:00"}
				cfg.Sessions.FollowupGrace = 15 * time.Minute
				cfg.Messenger.HumanAgent = c.humanAgent
			})
			runSessionSteps(t, h, c.name, c.start, c.steps)
			// Outcomes are counted when the Send API answers: wait until
			// no reply is pending.
			waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
			checkSessions(t, h, c.start, c.want)
		})
	}
}

// TestReactionFollowup checks that a reaction within the grace period
// reopens the session it follows, and that one after it starts nothing.
func TestReactionFollowup(t *testing.T) {
	h := newHarness(t, func(cfg *config.Config) { cfg.Sessions.FollowupGrace = 15 * time.Minute })
	start := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	runSessionSteps(t, h, "reaction", start, []step{
		{patron: "q"}, {after: time.Minute, reply: "a"}, {after: time.Minute, reply: "!close", wantNotice: "[askbridge] Session closed"},
	})
	react := func(mid string) {
		h.accept(messenger.Event{Kind: messenger.KindReaction, Page: testPage, Patron: testPSID, Time: h.clock.Now(),
			MID: messenger.MID(mid), Reaction: "👍", ReactionAction: "react"})
		h.link.next(t)
	}
	h.clock.Advance(3 * time.Minute)
	react("m_1")
	if s := h.sessions(); len(s) != 1 || !s[0].Open() {
		t.Fatalf("after a reaction within the grace period: %+v, want the session open again", s)
	}
	h.clock.Advance(31 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(20 * time.Minute)
	react("m_1")
	s := h.sessions()
	if len(s) != 1 || s[0].Open() || s[0].Status != stats.StatusAnswered || !s[0].Ended.Equal(start.Add(5*time.Minute)) {
		t.Fatalf("sessions %+v, want one answered session that ended at the first reaction", s)
	}
}
