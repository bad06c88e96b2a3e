package xmpp_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/xmpp"
)

// commander is a recorder that is also a CommandHandler: the librarian
// account may run three commands, everyone else none.
type commander struct {
	*recorder
	mu   sync.Mutex
	runs []xmpp.CommandRequest
}

var _ xmpp.CommandHandler = (*commander)(nil)

func (c *commander) Commands(from jid.JID) []xmpp.Command {
	if !strings.HasPrefix(from.String(), "librarian@localhost/") {
		return nil
	}
	return []xmpp.Command{
		{Node: "open", Name: "Open conversations"},
		{Node: "tag", Name: "Tag a conversation"},
		{Node: "purge", Name: "Purge everything"},
	}
}

func (c *commander) RunCommand(_ context.Context, from jid.JID, req xmpp.CommandRequest) xmpp.CommandResponse {
	c.mu.Lock()
	c.runs = append(c.runs, req)
	c.mu.Unlock()
	switch {
	case req.Node == "open":
		return xmpp.CommandResponse{Note: "2 open conversations:\n12345 (waiting 3 min)\n67890"}
	case req.Node == "purge":
		return xmpp.CommandResponse{Error: &xmpp.StanzaError{Type: "auth", Condition: "forbidden"}, Note: "only admins may purge"}
	case req.Values == nil:
		return xmpp.CommandResponse{Form: &xmpp.Form{
			Title: "Tag a conversation", Instructions: "Pick the conversation and its tags.",
			Fields: []xmpp.FormField{
				{Var: "conversation", Label: "Conversation", Type: "list-single", Required: true,
					Options: []xmpp.FormOption{{Label: "Facebook patron 7f3a", Value: "12345"}, {Label: "Facebook patron 09bc", Value: "67890"}}},
				{Var: "tags", Label: "Tags", Type: "text-multi", Value: []string{"hours\ncatalog"}},
				{Var: "read", Label: "READ level", Type: "list-single", Value: []string{"2"}},
				{Var: "dry", Type: "boolean", Value: []string{"0"}},
				{Type: "fixed", Value: []string{"Tags are comma separated."}},
			},
		}}
	default:
		return xmpp.CommandResponse{Status: "completed", Note: fmt.Sprintf("Tagged %s: %s", req.Values["conversation"][0], strings.Join(req.Values["tags"], ", "))}
	}
}

func (c *commander) lastRun() xmpp.CommandRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) == 0 {
		return xmpp.CommandRequest{}
	}
	return c.runs[len(c.runs)-1]
}

func (c *commander) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

var sessionIDRe = regexp.MustCompile(`sessionid="([^"]+)"`)

func TestCommands(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	visitor := e.login(t, "visitor")
	h := &commander{recorder: newRecorder()}
	e.runWith(t, e.config(), h)
	h.wantLink(t, true, waitLong)

	n := 0
	// ask sends an IQ with payload (a set for commands, else a get) and
	// returns its id, which tells answer whose it is.
	ask := func(t *testing.T, who *jabberclient.Client, to, payload string) string {
		t.Helper()
		n++
		id := fmt.Sprint("c", n)
		if who == visitor {
			id = fmt.Sprint("v", n)
		}
		typ := "get"
		if strings.HasPrefix(payload, "<command") {
			typ = "set"
		}
		if err := who.SendRaw(fmt.Sprintf(`<iq type='%s' id='%s' to='%s'>%s</iq>`, typ, id, to, payload)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	answer := func(t *testing.T, id, typ string, want ...string) string {
		t.Helper()
		c := lib
		if strings.HasPrefix(id, "v") {
			c = visitor
		}
		r := nextIQ(t, c)
		if r.ID != id || r.Type != typ {
			t.Fatalf("answer %s, want type %s to %s", r.Raw, typ, id)
		}
		contains(t, "answer", r.Raw, want...)
		return r.Raw
	}

	t.Run("discovery", func(t *testing.T) {
		answer(t, ask(t, lib, domain, `<query xmlns='http://jabber.org/protocol/disco#info'/>`), "result",
			`<feature var="http://jabber.org/protocol/commands">`)
		answer(t, ask(t, lib, domain, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`), "result",
			`<query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands">`,
			`<item jid="fb.test" name="Open conversations" node="open">`,
			`<item jid="fb.test" name="Tag a conversation" node="tag">`,
			`<item jid="fb.test" name="Purge everything" node="purge">`)
		answer(t, ask(t, lib, domain, `<query xmlns='http://jabber.org/protocol/disco#info' node='tag'/>`), "result",
			`<query xmlns="http://jabber.org/protocol/disco#info" node="tag">`,
			`<identity category="automation" name="Tag a conversation" type="command-node">`,
			`<feature var="http://jabber.org/protocol/commands">`, `<feature var="jabber:x:data">`)
		answer(t, ask(t, lib, domain, `<query xmlns='http://jabber.org/protocol/disco#info' node='http://jabber.org/protocol/commands'/>`), "result",
			`<identity category="automation" name="Commands" type="command-list">`)
		answer(t, ask(t, lib, domain, `<query xmlns='http://jabber.org/protocol/disco#info' node='nope'/>`), "error", "<item-not-found")
		answer(t, ask(t, lib, patron, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`), "error", "<item-not-found")
	})

	t.Run("single stage", func(t *testing.T) {
		raw := answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='open' action='execute'/>`), "result",
			`<command xmlns="http://jabber.org/protocol/commands" node="open" sessionid="`, `status="completed"`,
			`<note type="info">2 open conversations:&#xA;12345 (waiting 3 min)&#xA;67890</note>`)
		if strings.Contains(raw, "<actions") || strings.Contains(raw, "jabber:x:data") {
			t.Errorf("a completed command offers actions or a form: %s", raw)
		}
		if r := h.lastRun(); r.Node != "open" || r.Action != "execute" || r.Values != nil || r.SessionID == "" {
			t.Errorf("RunCommand got %+v", r)
		}
	})

	t.Run("form", func(t *testing.T) {
		raw := answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='tag'/>`), "result",
			`status="executing"`, `<actions execute="complete"><complete></complete></actions>`,
			`<x xmlns="jabber:x:data" type="form"><title>Tag a conversation</title><instructions>Pick the conversation and its tags.</instructions>`,
			`<field label="Conversation" type="list-single" var="conversation"><required></required>`+
				`<option label="Facebook patron 7f3a"><value>12345</value></option><option label="Facebook patron 09bc"><value>67890</value></option></field>`,
			`<field label="Tags" type="text-multi" var="tags"><value>hours</value><value>catalog</value></field>`,
			`<field type="boolean" var="dry"><value>0</value></field>`,
			`<field type="fixed"><value>Tags are comma separated.</value></field>`)
		m := sessionIDRe.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("no sessionid in %s", raw)
		}
		sid := m[1]
		if r := h.lastRun(); r.SessionID != sid || r.Action != "execute" || r.Values != nil {
			t.Errorf("RunCommand got %+v, want session %s", r, sid)
		}
		submit := `<command xmlns='http://jabber.org/protocol/commands' node='tag' sessionid='` + sid + `' action='complete'>` +
			`<x xmlns='jabber:x:data' type='submit'><field var='conversation'><value>12345</value></field>` +
			`<field var='tags'><value>hours</value><value>printing</value></field><field var='dry'><value>false</value></field></x></command>`
		answer(t, ask(t, lib, domain, submit), "result",
			`<command xmlns="http://jabber.org/protocol/commands" node="tag" sessionid="`+sid+`" status="completed"><note type="info">Tagged 12345: hours, printing</note></command>`)
		r := h.lastRun()
		if r.SessionID != sid || r.Action != "complete" || len(r.Values) != 3 || r.Values["dry"][0] != "false" {
			t.Errorf("RunCommand got %+v", r)
		}
		// The session is over.
		answer(t, ask(t, lib, domain, submit), "error", "<bad-request", `<bad-sessionid xmlns="http://jabber.org/protocol/commands">`)
	})

	t.Run("cancel", func(t *testing.T) {
		raw := answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='tag' action='execute'/>`), "result", `status="executing"`)
		sid := sessionIDRe.FindStringSubmatch(raw)[1]
		answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='tag' sessionid='`+sid+`' action='cancel'/>`), "result",
			`sessionid="`+sid+`" status="canceled"`)
		if r := h.lastRun(); r.Action != "cancel" || r.SessionID != sid {
			t.Errorf("RunCommand got %+v", r)
		}
		answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='tag' action='next'/>`), "error",
			"<bad-request", "<bad-action")
	})

	t.Run("refusals", func(t *testing.T) {
		answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='purge'/>`), "error",
			`<error type="auth"><forbidden`, "only admins may purge")
		answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='nope'/>`), "error", "<item-not-found")
		answer(t, ask(t, lib, domain, `<command xmlns='http://jabber.org/protocol/commands' node='open' sessionid='made-up'/>`), "error", "<bad-sessionid")
		answer(t, ask(t, lib, patron, `<command xmlns='http://jabber.org/protocol/commands' node='open'/>`), "error", "<service-unavailable")
	})

	t.Run("not an operator", func(t *testing.T) {
		runs := len(h.runs)
		v := func(payload string) string {
			n++
			id := fmt.Sprint("v", n)
			_ = visitor.SendRaw(fmt.Sprintf(`<iq type='%s' id='%s' to='%s'>%s</iq>`, map[bool]string{true: "set", false: "get"}[strings.HasPrefix(payload, "<command")], id, domain, payload))
			return id
		}
		answer(t, v(`<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`), "result",
			`<query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"></query>`)
		answer(t, v(`<command xmlns='http://jabber.org/protocol/commands' node='open'/>`), "error", "<item-not-found")
		answer(t, v(`<query xmlns='http://jabber.org/protocol/disco#info' node='open'/>`), "error", "<item-not-found")
		if h.count() != runs {
			t.Error("RunCommand ran for someone Commands does not offer it to")
		}
	})
}
