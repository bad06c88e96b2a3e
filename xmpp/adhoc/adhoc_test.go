package adhoc

import (
	"bytes"
	"context"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/form"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

func TestDecodeCommand(t *testing.T) {
	in := `<command xmlns="http://jabber.org/protocol/commands" node="tag" sessionid="s" action="complete">` +
		`<x xmlns="jabber:x:data" type="submit"><field var="tags"><value>a</value><value>b</value></field><field var="empty"/>` +
		`<field><value>no var</value></field></x></command>`
	d := xml.NewDecoder(strings.NewReader(in))
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	start := tok.(xml.StartElement)
	c, err := decodeCommand(d, &start)
	if err != nil {
		t.Fatal(err)
	}
	if c.Node != "tag" || c.SessionID != "s" || c.Action != "complete" || len(c.Forms) != 1 || c.Forms[0].typ != form.TypeSubmit {
		t.Fatalf("command %+v", c)
	}
	action, v := c.action()
	if action != Complete || len(v) != 2 || strings.Join(v["tags"], ",") != "a,b" || len(v["empty"]) != 0 {
		t.Errorf("action %q values %q", action, v)
	}
	if _, ok := v["empty"]; !ok {
		t.Error("a submitted field without values is missing")
	}
}

// render writes r as XML.
func render(t *testing.T, r xml.TokenReader) string {
	t.Helper()
	var buf bytes.Buffer
	e := xml.NewEncoder(&buf)
	if _, err := xmlstream.Copy(e, r); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name   string
		status Status
		resp   Response
		want   string
	}{
		{"note", Completed, Response{Note: "Closed."},
			`<command xmlns="http://jabber.org/protocol/commands" node="close" sessionid="s1" status="completed"><note type="info">Closed.</note></command>`},
		{"form", Executing, Response{Form: form.New(form.Text("n"))},
			`<command xmlns="http://jabber.org/protocol/commands" node="close" sessionid="s1" status="executing">` +
				`<actions execute="complete"><complete></complete></actions>` +
				`<x xmlns="jabber:x:data" type="form"><field type="text-single" var="n"></field></x></command>`},
		{"canceled drops the form", Canceled, Response{Form: form.New()},
			`<command xmlns="http://jabber.org/protocol/commands" node="close" sessionid="s1" status="canceled"></command>`},
	}
	for _, tt := range tests {
		if got := render(t, tt.resp.payload("close", "s1", tt.status)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// runner offers "tag", which asks for a form first, to one JID.
type runner struct{ reqs []Request }

func (r *runner) Commands(from jid.JID) []Command {
	if from.Bare().String() != "lib@x" {
		return nil
	}
	return []Command{{Node: "tag", Name: "Tag"}}
}

func (r *runner) Run(_ context.Context, _ jid.JID, req Request) Response {
	r.reqs = append(r.reqs, req)
	if req.Values == nil {
		return Response{Form: form.New(form.Text("tags"))}
	}
	return Response{Note: "done"}
}

// answers is a TokenReadEncoder reading a request and recording the answer.
type answers struct {
	xml.TokenReader
	*xml.Encoder
}

var sidRe = regexp.MustCompile(`sessionid="([^"]+)"`)

func TestResponder(t *testing.T) {
	run := &runner{}
	r := NewResponder(run)
	call := func(from, payload string) string {
		t.Helper()
		d := xml.NewDecoder(strings.NewReader(payload))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		start := tok.(xml.StartElement)
		var buf bytes.Buffer
		e := xml.NewEncoder(&buf)
		iq := stanza.IQ{ID: "1", Type: stanza.SetIQ, From: jid.MustParse(from), To: jid.MustParse("fb.test")}
		if err := r.HandleIQ(context.Background(), iq, answers{d, e}, &start); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	cmd := func(attrs, inner string) string {
		return `<command xmlns="http://jabber.org/protocol/commands" node="tag" ` + attrs + `>` + inner + `</command>`
	}

	got := call("lib@x/r", cmd(`action="execute"`, ""))
	m := sidRe.FindStringSubmatch(got)
	if m == nil || !strings.Contains(got, `status="executing"`) || !strings.Contains(got, `<x xmlns="jabber:x:data" type="form">`) {
		t.Fatalf("first call answered %s", got)
	}
	sid := m[1]
	for _, tt := range []struct{ name, from, payload, want string }{
		{"another user's session", "other@x/r", cmd(`sessionid="`+sid+`"`, ""), "item-not-found"},
		{"another resource", "lib@x/s", cmd(`sessionid="`+sid+`"`, ""), "bad-sessionid"},
		{"next", "lib@x/r", cmd(`sessionid="`+sid+`" action="next"`, ""), "bad-action"},
		{"bogus action", "lib@x/r", cmd(`action="jump"`, ""), "malformed-action"},
		{"cancel without session", "lib@x/r", cmd(`action="cancel"`, ""), "bad-sessionid"},
	} {
		if got := call(tt.from, tt.payload); !strings.Contains(got, `type="error"`) || !strings.Contains(got, "<"+tt.want) {
			t.Errorf("%s: answered %s, want %s", tt.name, got, tt.want)
		}
	}
	got = call("lib@x/r", cmd(`sessionid="`+sid+`" action="complete"`,
		`<x xmlns="jabber:x:data" type="submit"><field var="tags"><value>a</value></field></x>`))
	if !strings.Contains(got, `status="completed"`) || !strings.Contains(got, `<note type="info">done</note>`) {
		t.Errorf("submission answered %s", got)
	}
	if last := run.reqs[len(run.reqs)-1]; last.SessionID != sid || last.Action != Complete || last.Values["tags"][0] != "a" {
		t.Errorf("Run got %+v", last)
	}
	if got := call("lib@x/r", cmd(`sessionid="`+sid+`"`, "")); !strings.Contains(got, "<bad-sessionid") {
		t.Errorf("a finished session answered %s", got)
	}
	if len(r.sessions) != 0 {
		t.Errorf("%d sessions left", len(r.sessions))
	}
}
