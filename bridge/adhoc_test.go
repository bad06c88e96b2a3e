package bridge

import (
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"
)

func TestAdHocCommands(t *testing.T) {
	h := newHarness(t)
	h.run()
	if got := h.b.Commands(jid.MustParse("mallory@evil.example/x")); len(got) != 0 {
		t.Errorf("a stranger is offered %v", got)
	}
	if got := h.b.Commands(jid.MustParse("alice@library.test/gajim")); len(got) != 4 {
		t.Fatalf("operator is offered %v", got)
	}
	if r := h.b.RunCommand(t.Context(), jid.MustParse("mallory@evil.example/x"), xmpp.CommandRequest{Node: nodeOpen}); r.Error == nil || r.Error.Condition != "forbidden" {
		t.Errorf("stranger ran a command: %+v", r)
	}
	if r := h.b.RunCommand(t.Context(), jid.MustParse("alice@library.test/gajim"), xmpp.CommandRequest{Node: nodeOpen}); !strings.Contains(r.Note, "No Facebook conversation is open") {
		t.Errorf("open, none: %+v", r)
	}
	h.start()
	r := h.b.RunCommand(t.Context(), jid.MustParse("alice@library.test/gajim"), xmpp.CommandRequest{Node: nodeOpen})
	if r.Status != "completed" || !strings.Contains(r.Note, "1 open") || !strings.Contains(r.Note, "waiting") || !strings.Contains(r.Note, testPSID+"@"+testDomain) {
		t.Errorf("open = %+v", r)
	}
	if e := h.reply("alice@library.test/gajim", "answer"); e != nil {
		t.Fatal(e)
	}
	h.api.next(t)

	form := h.b.RunCommand(t.Context(), jid.MustParse("alice@library.test/gajim"), xmpp.CommandRequest{Node: nodeClassify, Action: "execute"})
	if form.Status != "executing" || form.Form == nil || len(form.Form.Fields) != 5 || form.Form.Fields[0].Options[0].Value != testPSID {
		t.Fatalf("classify form = %+v", form)
	}
	done := h.b.RunCommand(t.Context(), jid.MustParse("alice@library.test/gajim"), xmpp.CommandRequest{Node: nodeClassify, Action: "complete",
		Values: map[string][]string{"conversation": {testPSID}, "read": {"4"}, "tags": {"hours catalog"}, "questions": {"2"}, "close": {"1"}}})
	if done.Status != "completed" || !strings.Contains(done.Note, "READ level 4 recorded for the session that started") || !strings.Contains(done.Note, "Session closed") {
		t.Fatalf("classify = %+v", done)
	}
	s := h.sessions()
	if len(s) != 1 || s[0].ReadLevel != 4 || s[0].Questions != 2 || strings.Join(s[0].Tags, ",") != "hours,catalog" || s[0].Status != stats.StatusAnswered {
		t.Errorf("session = %+v", s)
	}
	today := h.b.RunCommand(t.Context(), jid.MustParse("alice@library.test/gajim"), xmpp.CommandRequest{Node: nodeToday})
	if !strings.Contains(today.Note, "finished sessions: 1 — 1 answered, 0 missed, 0 after hours, 0 undelivered, 0 automatic only; 0 open") ||
		!strings.Contains(today.Note, "Reference transactions: 2 (of 2 questions, 0 directional)") {
		t.Errorf("today = %+v", today)
	}
}
