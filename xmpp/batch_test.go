package xmpp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp"
)

// SendBatch delivers its stanzas in order through a real Prosody and skips
// the invalid ones, saying which.
func TestSendBatch(t *testing.T) {
	e := newEnv(t)
	lib := e.librarian(t)
	comp, rec := e.run(t, e.config())
	rec.wantLink(t, true, waitLong)

	var batch []xmpp.Stanza
	for i := range 20 {
		batch = append(batch, xmpp.Message{ID: fmt.Sprintf("b-%d", i), From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: fmt.Sprintf("message %d", i)})
		if i == 7 {
			batch = append(batch, xmpp.Message{ID: "bad", From: jid.MustParse(patron), To: jid.JID{}, Body: "never"})
		}
	}
	invalid, err := comp.SendBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range invalid {
		if (i == 8) != (err != nil) {
			t.Errorf("stanza %d: invalid = %v", i, err)
		}
	}
	if len(invalid) != len(batch) || !errors.Is(invalid[8], xmpp.ErrInvalidMessage) {
		t.Fatalf("invalid = %v", invalid)
	}
	for i := range 20 {
		r := next(t, lib)
		if want := fmt.Sprintf("message %d", i); r.Body != want || r.ID != fmt.Sprintf("b-%d", i) {
			t.Fatalf("received %q (%s), want %q", r.Body, r.ID, want)
		}
	}
	// Presence goes in a batch too.
	if _, err := comp.SendBatch([]xmpp.Stanza{xmpp.Presence{From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Type: "subscribe"}}); err != nil {
		t.Fatal(err)
	}
	if err := comp.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestSendBatchNotConnected(t *testing.T) {
	e := newEnv(t)
	comp, err := xmpp.New(e.config(), newRecorder(), e.log) // never run
	if err != nil {
		t.Fatal(err)
	}
	_, err = comp.SendBatch([]xmpp.Stanza{xmpp.Message{ID: "x", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: "hi"}})
	if !errors.Is(err, xmpp.ErrNotConnected) {
		t.Fatalf("err = %v, want ErrNotConnected", err)
	}
}

// A stanza larger than MaxStanzaBytes is refused with ErrTooLarge, never
// written, even when the link is down; the others are written.
func TestSendBatchTooLarge(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.MaxStanzaBytes = 4096
	comp, err := xmpp.New(cfg, newRecorder(), e.log) // never run
	if err != nil {
		t.Fatal(err)
	}
	big := xmpp.Message{ID: "big", From: jid.MustParse(patron), To: jid.MustParse("librarian@localhost"), Body: strings.Repeat("a ", 3000)}
	invalid, err := comp.SendBatch([]xmpp.Stanza{big})
	if err != nil || len(invalid) != 1 || !errors.Is(invalid[0], xmpp.ErrTooLarge) || !errors.Is(invalid[0], xmpp.ErrInvalidMessage) {
		t.Fatalf("invalid = %v, err = %v; want ErrTooLarge", invalid, err)
	}
	if err := comp.Send(big); !errors.Is(err, xmpp.ErrTooLarge) {
		t.Fatalf("Send: %v, want ErrTooLarge", err)
	}
	parts, err := xmpp.SplitMessage(big, e.config().Domain, cfg.MaxStanzaBytes)
	if err != nil || len(parts) < 2 {
		t.Fatalf("split into %d parts: %v", len(parts), err)
	}
	var batch []xmpp.Stanza
	for _, p := range parts {
		batch = append(batch, p)
	}
	if invalid, err := comp.SendBatch(batch); invalid != nil || !errors.Is(err, xmpp.ErrNotConnected) {
		t.Fatalf("the parts: invalid = %v, err = %v; want them valid (and the link down)", invalid, err)
	}
}
