package jabberclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/prosody"
)

func dial(t *testing.T, s *prosody.Server, name, password string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.C2SAddr(), jid.MustParse(name+"@"+s.Domain()), password, nil)
	if err != nil {
		t.Fatalf("dial %s: %v%s", name, err, s.LogTail())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClient(t *testing.T) {
	s := prosody.StartTest(t, prosody.Options{Users: []prosody.User{{Name: "alice", Password: "pw-a"}, {Name: "bob", Password: "pw-b"}}})
	alice := dial(t, s, "alice", "pw-a")
	bob := dial(t, s, "bob", "pw-b")
	if !strings.HasPrefix(alice.JID(), "alice@localhost/") {
		t.Errorf("JID() = %q, want a full JID of alice", alice.JID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("chat", func(t *testing.T) {
		var ids []string
		for _, body := range []string{"one", "two <&> three"} {
			id, err := alice.SendChat("bob@localhost", body)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		for i, body := range []string{"one", "two <&> three"} {
			r, err := bob.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != ids[i] || r.Body != body || r.Type != "chat" || r.From != alice.JID() {
				t.Errorf("received %+v, want id %s body %q from %s", r, ids[i], body, alice.JID())
			}
			if !strings.Contains(r.Raw, `<message xmlns="jabber:client"`) || !strings.Contains(r.Raw, "<body>") {
				t.Errorf("Raw = %s", r.Raw)
			}
		}
	})

	t.Run("bounce", func(t *testing.T) {
		id, err := alice.SendChat("nobody@localhost", "hello?")
		if err != nil {
			t.Fatal(err)
		}
		r, err := alice.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != id || r.Type != "error" || r.ErrorCondition != "service-unavailable" {
			t.Errorf("received %+v, want a service-unavailable error for %s", r, id)
		}
	})

	t.Run("raw iq", func(t *testing.T) {
		err := alice.SendRaw(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
		if err != nil {
			t.Fatal(err)
		}
		r, err := alice.NextIQ(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != "v1" || r.Type != "result" || !strings.Contains(r.Raw, "<name>Prosody</name>") {
			t.Errorf("version answer %+v", r)
		}
		if err := alice.SendRaw("<iq/><iq/>"); err == nil {
			t.Error("SendRaw accepted two elements")
		}
	})

	t.Run("presence and roster pushes", func(t *testing.T) {
		// Only resources that fetched the roster get pushes and
		// subscription answers.
		if err := alice.SendRaw(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`); err != nil {
			t.Fatal(err)
		}
		if r, err := alice.NextIQ(ctx); err != nil || r.ID != "r1" || r.Type != "result" {
			t.Fatalf("roster answer %+v, %v", r, err)
		}
		if err := alice.SendRaw(`<presence type='subscribe' to='bob@localhost' id='s1'/>`); err != nil {
			t.Fatal(err)
		}
		push, err := alice.NextRosterPush(ctx)
		if err != nil || push.Type != "set" || !strings.Contains(push.Raw, `<item ask="subscribe" jid="bob@localhost" subscription="none">`) {
			t.Errorf("roster push %+v, %v", push, err)
		}
		r, err := bob.NextPresence(ctx)
		if err != nil || r.Type != "subscribe" || r.From != "alice@localhost" || r.ID != "s1" {
			t.Errorf("bob received %+v, %v; want alice's subscription request", r, err)
		}
		// Prosody acknowledges the request with bob's bare unavailable.
		if r, err := alice.NextPresence(ctx); err != nil || r.Type != "unavailable" || r.From != "bob@localhost" {
			t.Errorf("alice received %+v, %v; want an unavailable from bob's bare JID", r, err)
		}
		if err := bob.SendRaw(`<presence type='subscribed' to='alice@localhost'/>`); err != nil {
			t.Fatal(err)
		}
		if r, err := alice.NextPresence(ctx); err != nil || r.Type != "subscribed" || r.From != "bob@localhost" {
			t.Errorf("alice received %+v, %v; want the approval", r, err)
		}
		if r, err := alice.NextPresence(ctx); err != nil || r.Type != "" || r.From != bob.JID() {
			t.Errorf("alice received %+v, %v; want bob's presence", r, err)
		}
	})

	t.Run("close", func(t *testing.T) {
		if _, err := bob.SendChat(alice.JID(), "last"); err != nil {
			t.Fatal(err)
		}
		if err := bob.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := alice.Ping(ctx); err != nil { // "last" has arrived
			t.Fatal(err)
		}
		if err := alice.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if r, err := alice.Next(ctx); err != nil || r.Body != "last" {
			t.Errorf("after Close, Next = %+v, %v; want the message received before", r, err)
		}
		if _, err := alice.Next(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("Next on a drained closed client = %v, want ErrClosed", err)
		}
		if _, err := alice.SendChat("bob@localhost", "x"); err == nil {
			t.Error("SendChat after Close succeeded")
		}
	})
}

func TestDialWrongPassword(t *testing.T) {
	s := prosody.StartTest(t, prosody.Options{Users: []prosody.User{{Name: "alice", Password: "pw"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, s.C2SAddr(), jid.MustParse("alice@localhost"), "wrong", nil)
	if err == nil {
		t.Fatal("Dial with a wrong password succeeded")
	}
	if _, err := Dial(ctx, s.C2SAddr(), jid.MustParse("alice@localhost/res"), "pw", nil); err == nil {
		t.Error("Dial accepted a full JID")
	}
}
