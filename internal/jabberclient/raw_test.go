package jabberclient

import "testing"

func TestParseElementAndRaw(t *testing.T) {
	tests := []struct {
		in, raw string
		bad     bool
	}{
		{in: `<message to='a@b' id='1'><body>hi &amp; bye</body></message>`, raw: `<message id="1" to="a@b"><body>hi &amp; bye</body></message>`},
		{in: ` <iq type='get'><query xmlns='jabber:iq:version'/></iq> `, raw: `<iq type="get"><query xmlns="jabber:iq:version"></query></iq>`},
		{in: `<message xml:lang='en'><x xmlns='jabber:x:oob'><url>u</url></x></message>`, raw: `<message xml:lang="en"><x xmlns="jabber:x:oob"><url>u</url></x></message>`},
		{in: `<a/><b/>`, bad: true},
		{in: `text<a/>`, bad: true},
		{in: ``, bad: true},
		{in: `<a>`, bad: true},
	}
	for _, tt := range tests {
		toks, err := parseElement(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseElement(%q) succeeded", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseElement(%q): %v", tt.in, err)
			continue
		}
		if got := rawXML(toks); got != tt.raw {
			t.Errorf("rawXML(%q) = %s, want %s", tt.in, got, tt.raw)
		}
	}
}

func TestDecode(t *testing.T) {
	toks, err := parseElement(`<message xmlns='jabber:client' type='error' id='m1' from='x@y' to='me@y/r'><body>orig</body>` +
		`<error type='cancel'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>why</text><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode(toks)
	if err != nil {
		t.Fatal(err)
	}
	want := Received{ID: "m1", From: "x@y", To: "me@y/r", Type: "error", Body: "orig", ErrorCondition: "forbidden"}
	r.Raw = ""
	if r != want {
		t.Errorf("decode = %+v, want %+v", r, want)
	}
}
