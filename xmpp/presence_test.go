package xmpp_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/xmpp"
)

// presenceRecorder is a recorder that is also a PresenceHandler.
type presenceRecorder struct {
	*recorder
	pres chan xmpp.Presence
}

var _ xmpp.PresenceHandler = (*presenceRecorder)(nil)

func newPresenceRecorder() *presenceRecorder {
	return &presenceRecorder{recorder: newRecorder(), pres: make(chan xmpp.Presence, 1000)}
}

func (r *presenceRecorder) HandlePresence(_ context.Context, p xmpp.Presence) { r.pres <- p }

func (r *presenceRecorder) nextPresence(t *testing.T) xmpp.Presence {
	t.Helper()
	select {
	case p := <-r.pres:
		return p
	case <-time.After(waitLong):
		t.Fatal("no presence reached the handler")
		return xmpp.Presence{}
	}
}

// want checks the next presence the handler gets. An empty want.ID
// matches any id.
func (r *presenceRecorder) want(t *testing.T, want xmpp.Presence) {
	t.Helper()
	got := r.nextPresence(t)
	if want.ID == "" {
		want.ID = got.ID
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || (got.Error == nil) != (want.Error == nil) ||
		(got.Error != nil && *got.Error != *want.Error) {
		t.Errorf("handler got presence %+v (error %v),\nwant %+v (error %v)", got, got.Error, want, want.Error)
	}
}

// wantFrom checks that the next len(froms) presences the handler gets
// are available presences (one from each of froms, in any order) to to.
func (r *presenceRecorder) wantFrom(t *testing.T, typ, to string, froms ...string) {
	t.Helper()
	var got []string
	for range froms {
		p := r.nextPresence(t)
		if p.Type != typ || p.To.String() != to {
			t.Errorf("handler got %+v, want type %q to %s", p, typ, to)
		}
		got = append(got, p.From.String())
	}
	slices.Sort(got)
	froms = slices.Sorted(slices.Values(froms))
	if !slices.Equal(got, froms) {
		t.Errorf("presence of type %q from %v, want from %v", typ, got, froms)
	}
}

// nextPresenceFrom returns the next presence c receives from from,
// skipping those of the account's other resources.
func nextPresenceFrom(t *testing.T, c *jabberclient.Client, from string) jabberclient.Received {
	t.Helper()
	for {
		r := nextPresence(t, c)
		if r.From == from {
			return r
		}
		if !strings.HasPrefix(r.From, "librarian@localhost/") {
			t.Fatalf("%s received presence %s while waiting for one from %s", c.JID(), r.Raw, from)
		}
	}
}

// fetchRoster gets c's roster, as every real client does after logging
// in: Prosody sends roster pushes and subscription answers only to the
// resources that did ("interested resources", RFC 6121 §2.1.6).
func fetchRoster(t *testing.T, c *jabberclient.Client) string {
	t.Helper()
	if err := c.SendRaw(`<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>`); err != nil {
		t.Fatal(err)
	}
	r := nextIQ(t, c)
	if r.ID != "roster-1" || r.Type != "result" {
		t.Fatalf("roster answer %+v", r)
	}
	return r.Raw
}

func sendPresence(t *testing.T, c *xmpp.Component, p xmpp.Presence) {
	t.Helper()
	if err := c.SendPresence(p); err != nil {
		t.Fatal(err)
	}
}

func sendRaw(t *testing.T, c *jabberclient.Client, stanza string) {
	t.Helper()
	if err := c.SendRaw(stanza); err != nil {
		t.Fatal(err)
	}
}

// TestPresence runs presence both ways through Prosody 0.12, and documents
// how Prosody routes it: presence to a component JID (the domain or a
// patron) always goes to the component, which must answer probes itself;
// the operator's account keeps the roster and its subscription states.
func TestPresence(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	fetchRoster(t, lib)
	rec := newPresenceRecorder()
	comp := e.runWith(t, e.config(), rec)
	rec.wantLink(t, true, waitLong)
	const bare = "librarian@localhost"
	const nick = `<nick xmlns="http://jabber.org/protocol/nick">Facebook patron 7f3a</nick>`

	t.Run("operator subscribes to a patron", func(t *testing.T) {
		sendRaw(t, lib, `<presence type='subscribe' to='`+patron+`' id='sub-1'><nick xmlns='http://jabber.org/protocol/nick'>Ann</nick></presence>`)
		// Prosody stamps the bare JID as from, and keeps the nick.
		rec.want(t, xmpp.Presence{ID: "sub-1", From: jid.MustParse(bare), To: jid.MustParse(patron), Type: "subscribe", Nick: "Ann"})
		contains(t, "roster push", nextRosterPush(t, lib).Raw,
			`<item ask="subscribe" jid="`+patron+`" subscription="none">`)

		sendPresence(t, comp, xmpp.Presence{ID: "ok-1", From: jid.MustParse(patron), To: jid.MustParse(bare), Type: "subscribed"})
		contains(t, "roster push", nextRosterPush(t, lib).Raw, `<item jid="`+patron+`" subscription="to">`)
		if r := nextPresence(t, lib); r.ID != "ok-1" || r.From != patron || r.Type != "subscribed" {
			t.Errorf("librarian received %s, want the approval", r.Raw)
		}

		sendPresence(t, comp, xmpp.Presence{ID: "av-1", From: jid.MustParse(patron), To: jid.MustParse(bare), Nick: "Facebook patron 7f3a", Show: "chat", Status: "waiting", Priority: 1})
		r := nextPresence(t, lib)
		if r.ID != "av-1" || r.From != patron || r.Type != "" {
			t.Errorf("librarian received %s, want the patron's presence", r.Raw)
		}
		contains(t, "presence", r.Raw, nick, `<show>chat</show>`, `<status>waiting</status>`, `<priority>1</priority>`)
		contains(t, "roster", fetchRoster(t, lib), `<item jid="`+patron+`" subscription="to">`)
	})

	var lib2 *jabberclient.Client
	top := t
	t.Run("probe on login", func(t *testing.T) {
		// The account is subscribed to the patron now: when a resource
		// logs in, Prosody probes the patron, and the component answers.
		lib2 = e.librarian(top)
		rec.want(t, xmpp.Presence{From: jid.MustParse(lib2.JID()), To: jid.MustParse(patron), Type: "probe"})
		sendPresence(t, comp, xmpp.Presence{ID: "av-2", From: jid.MustParse(patron), To: jid.MustParse(lib2.JID()), Nick: "Facebook patron 7f3a"})
		contains(t, "presence", nextPresenceFrom(t, lib2, patron).Raw, nick)
	})

	t.Run("patron becomes unavailable", func(t *testing.T) {
		sendPresence(t, comp, xmpp.Presence{ID: "un-1", From: jid.MustParse(patron), To: jid.MustParse(bare), Type: "unavailable", Status: "conversation ended"})
		for _, c := range []*jabberclient.Client{lib, lib2} {
			r := nextPresenceFrom(t, c, patron)
			if r.Type != "unavailable" || r.ID != "un-1" {
				t.Errorf("%s received %s, want unavailable", c.JID(), r.Raw)
			}
			contains(t, "presence", r.Raw, "<status>conversation ended</status>")
		}
	})

	t.Run("component subscribes to the operator", func(t *testing.T) {
		sendPresence(t, comp, xmpp.Presence{ID: "sub-2", From: jid.MustParse(domain), To: jid.MustParse(bare), Type: "subscribe", Nick: "Ask a Librarian bridge"})
		// Prosody acknowledges a subscription request it holds for the
		// user with an unavailable presence from the bare JID.
		rec.want(t, xmpp.Presence{From: jid.MustParse(bare), To: jid.MustParse(domain), Type: "unavailable"})
		for _, c := range []*jabberclient.Client{lib, lib2} {
			r := nextPresenceFrom(t, c, domain)
			if r.Type != "subscribe" || r.ID != "sub-2" {
				t.Errorf("%s received %s, want the subscription request", c.JID(), r.Raw)
			}
			contains(t, "request", r.Raw, `<nick xmlns="http://jabber.org/protocol/nick">Ask a Librarian bridge</nick>`)
		}

		sendRaw(t, lib, `<presence type='subscribed' to='`+domain+`' id='ok-2'/>`)
		contains(t, "roster push", nextRosterPush(t, lib).Raw, `<item jid="`+domain+`" subscription="from">`)
		rec.want(t, xmpp.Presence{ID: "ok-2", From: jid.MustParse(bare), To: jid.MustParse(domain), Type: "subscribed"})
		// …followed by the presence of every available resource.
		rec.wantFrom(t, "", domain, lib.JID(), lib2.JID())
	})

	t.Run("operator's availability", func(t *testing.T) {
		sendRaw(t, lib, `<presence id='away-1'><show>away</show><status>lunch</status><priority>5</priority></presence>`)
		rec.want(t, xmpp.Presence{ID: "away-1", From: jid.MustParse(lib.JID()), To: jid.MustParse(domain), Show: "away", Status: "lunch", Priority: 5})
		sendRaw(t, lib, `<presence id='back-1'/>`)
		rec.want(t, xmpp.Presence{ID: "back-1", From: jid.MustParse(lib.JID()), To: jid.MustParse(domain)})
		// The component may probe an operator who approved it: Prosody
		// answers with the presence of each available resource.
		sendPresence(t, comp, xmpp.Presence{From: jid.MustParse(domain), To: jid.MustParse(bare), Type: "probe"})
		rec.wantFrom(t, "", domain, lib.JID(), lib2.JID())
	})

	t.Run("operator logs in later", func(t *testing.T) {
		// A new resource's initial presence goes to the subscribed
		// domain; then the server probes the patron the account is
		// subscribed to.
		lib3 := e.librarian(t)
		rec.want(t, xmpp.Presence{From: jid.MustParse(lib3.JID()), To: jid.MustParse(domain)})
		rec.want(t, xmpp.Presence{From: jid.MustParse(lib3.JID()), To: jid.MustParse(patron), Type: "probe"})
		from := lib3.JID()
		if err := lib3.Close(); err != nil {
			t.Fatal(err)
		}
		rec.want(t, xmpp.Presence{From: jid.MustParse(from), To: jid.MustParse(domain), Type: "unavailable"})
	})

	t.Run("directed presence", func(t *testing.T) {
		sendRaw(t, lib2, `<presence to='999@`+domain+`' id='dir-1'><show>chat</show></presence>`)
		rec.want(t, xmpp.Presence{ID: "dir-1", From: jid.MustParse(lib2.JID()), To: jid.MustParse("999@" + domain), Show: "chat"})
		// Logging out sends unavailable to the subscribers (the domain)
		// and to the JIDs that got directed presence.
		from := lib2.JID()
		if err := lib2.Close(); err != nil {
			t.Fatal(err)
		}
		got := []xmpp.Presence{rec.nextPresence(t), rec.nextPresence(t)}
		slices.SortFunc(got, func(a, b xmpp.Presence) int { return strings.Compare(a.To.String(), b.To.String()) })
		if got[0].From.String() != from || got[0].To.String() != "999@"+domain || got[0].Type != "unavailable" ||
			got[1].From.String() != from || got[1].To.String() != domain || got[1].Type != "unavailable" {
			t.Errorf("after logout the handler got %+v", got)
		}
		nextPresenceFrom(t, lib, from) // lib sees its other resource go
	})

	t.Run("unanswered and failed", func(t *testing.T) {
		// Prosody processes a component's stanzas in order, so the
		// answers below arrive in this order, and nothing arrives for the
		// stanzas that get none.
		// A probe to an account that has not approved the component:
		// no answer at all (not even unsubscribed).
		sendPresence(t, comp, xmpp.Presence{From: jid.MustParse(domain), To: jid.MustParse("visitor@localhost"), Type: "probe"})
		// Available presence to an account without online resources:
		// dropped.
		sendPresence(t, comp, xmpp.Presence{From: jid.MustParse(patron), To: jid.MustParse("nobody@localhost")})
		// A subscription request to an account that does not exist: the
		// same unavailable acknowledgement as for one that does.
		sendPresence(t, comp, xmpp.Presence{From: jid.MustParse(patron), To: jid.MustParse("nobody@localhost"), Type: "subscribe"})
		rec.want(t, xmpp.Presence{From: jid.MustParse("nobody@localhost"), To: jid.MustParse(patron), Type: "unavailable"})
		// An address the server cannot reach: an error with our id.
		sendPresence(t, comp, xmpp.Presence{ID: "far-1", From: jid.MustParse(patron), To: jid.MustParse("someone@elsewhere.example")})
		rec.want(t, xmpp.Presence{ID: "far-1", From: jid.MustParse("someone@elsewhere.example"), To: jid.MustParse(patron), Type: "error",
			Error: &xmpp.StanzaError{Type: "cancel", Condition: "not-allowed", Text: "Communication with remote domains is not enabled"}})
	})

	t.Run("operator unsubscribes", func(t *testing.T) {
		sendRaw(t, lib, `<presence type='unsubscribe' to='`+patron+`' id='uns-1'/>`)
		rec.want(t, xmpp.Presence{ID: "uns-1", From: jid.MustParse(bare), To: jid.MustParse(patron), Type: "unsubscribe"})
		contains(t, "roster push", nextRosterPush(t, lib).Raw, `<item jid="`+patron+`" subscription="none">`)
	})
	quiet(t, comp, lib)
	if len(rec.msgs) > 0 || len(rec.bounces) > 0 {
		t.Errorf("presence reached HandleMessage or HandleBounce")
	}
}
