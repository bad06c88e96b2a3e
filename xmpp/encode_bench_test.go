package xmpp

import (
	"encoding/xml"
	"io"
	"testing"

	"mellium.im/xmpp/jid"
)

// benchMessage is what the bridge sends for a patron's text message.
var benchMessage = Message{
	ID:   "fb-3f2a9c0d1e2b4a5f6071",
	From: jid.MustParse("7000001000000042@fb.library.example.org"),
	To:   jid.MustParse("ask@chat.libraryh3lp.com"),
	Type: "chat",
	Body: "Hello! Do you have the 2024 annual report of the city council? I need it for a school project.",
	Nick: "Facebook patron 7f3a",
}

// BenchmarkEncodeMessage checks a message and builds its stanza's tokens.
func BenchmarkEncodeMessage(b *testing.B) {
	domain := jid.MustParse("fb.library.example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeMessage(benchMessage, domain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMessageXML also serialises the tokens with encoding/xml,
// as the session does when it writes the stanza.
func BenchmarkEncodeMessageXML(b *testing.B) {
	domain := jid.MustParse("fb.library.example.org")
	b.ReportAllocs()
	for b.Loop() {
		toks, err := encodeMessage(benchMessage, domain)
		if err != nil {
			b.Fatal(err)
		}
		enc := xml.NewEncoder(io.Discard)
		for _, t := range toks {
			if err := enc.EncodeToken(t); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
