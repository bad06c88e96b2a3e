package jabberclient

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/prosody"
)

// TestPresetContacts checks prosody.Options.Contacts as a client sees it:
// two users who are each other's contacts see each other come online
// without any subscription request.
func TestPresetContacts(t *testing.T) {
	s := prosody.StartTest(t, prosody.Options{
		Users: []prosody.User{{Name: "alice", Password: "pw-a"}, {Name: "bob", Password: "pw-b"}},
		Contacts: []prosody.Contact{
			{User: "alice", JID: "bob@localhost", Name: "Bob"},
			{User: "bob", JID: "alice@localhost"},
		},
	})
	bob := dial(t, s, "bob", "pw-b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bob.SendRaw(`<presence/>`); err != nil {
		t.Fatal(err)
	}
	alice := dial(t, s, "alice", "pw-a")
	if err := alice.SendRaw(`<presence/>`); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := bob.NextPresence(ctx)
		if err != nil {
			t.Fatalf("bob never saw alice online: %v%s", err, s.LogTail())
		}
		if p.Type == "subscribe" {
			t.Fatalf("bob was asked to approve: %s", p.Raw)
		}
		if strings.HasPrefix(p.From, "alice@localhost/") && p.Type == "" {
			break
		}
	}
	// Alice, online second, gets bob's presence from her server's probe.
	for {
		p, err := alice.NextPresence(ctx)
		if err != nil {
			t.Fatalf("alice never saw bob online: %v", err)
		}
		if strings.HasPrefix(p.From, "bob@localhost/") && p.Type == "" {
			break
		}
	}
}
