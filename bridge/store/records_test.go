package store

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// A Page and a patron of the samples.
const (
	testPage = "510249619162304"
	testPSID = "1066835436691078"
)

func sampleStoredMessage() xmpp.Message {
	return xmpp.Message{ID: "fb-1", From: jid.MustParse("1066835436691078@fb.library.test"), To: jid.MustParse("ask@chat.library.test"), Type: "chat",
		Body: "Is the library open on Sunday?", Thread: "t1", Nick: "Facebook patron 7f3a", OOB: "https://x.example/a.jpg",
		ChatState: "active", ReceiptRequest: true, ReceiptFor: "r0", Markable: true, DisplayedFor: "d0",
		MarkerReceivedFor: "m0", Replace: "fb-0", NoStore: true}
}

// sampleRecords are the records of testdata/records-before-store-types.json,
// which the release before the store's own record types wrote.
func sampleRecords() map[string]any {
	at := time.Date(2026, 11, 30, 21, 14, 5, 123456789, time.UTC)
	m := sampleStoredMessage()
	return map[string]any{
		"xmpp_message": &XMPPEntry{Msg: m, Ledger: []byte{1, 2, 3}, Queued: at, NotBefore: at.Add(time.Minute), Tries: 2},
		"xmpp_presence": &XMPPEntry{Presence: &xmpp.Presence{ID: "p1", From: jid.MustParse("1066835436691078@fb.library.test"), To: jid.MustParse("ask@chat.library.test"),
			Nick: "Facebook patron 7f3a", Status: "Messenger", Priority: 5}, Queued: at},
		"facebook": &FacebookEntry{Page: testPage, Msg: messenger.OutgoingMessage{Recipient: testPSID, MessagingType: "MESSAGE_TAG",
			Tag: "HUMAN_AGENT", Text: "We open at 9.", Metadata: "askbridge:0102",
			Attachment: &messenger.Attachment{Type: "image", URL: "https://x.example/a.jpg"}},
			Ledger: []byte{4}, Notify: "alice@library.test/desk", Patron: "1066835436691078@fb.library.test", Queued: at,
			Attempts: 1, LastAttempt: at, ReceiptID: "r1", Receipt: true, Session: "abc"},
		"conversation": &Conversation{Page: testPage, PSID: testPSID, Guest: "8a78e718e2e3fc4b", LastPatron: at, LastActivity: at,
			Session: "s1", Offered: []string{"alice@library.test"}, Held: []xmpp.Message{m}},
	}
}

// earlierRecords reads testdata/records-before-store-types.json, by name.
func earlierRecords(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/records-before-store-types.json")
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]json.RawMessage
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	return old
}

// TestRecordsOfEarlierRelease: entries an earlier release wrote (with the
// xmpp and messenger structs' own field names) read as the same values.
func TestRecordsOfEarlierRelease(t *testing.T) {
	old := earlierRecords(t)
	for name, want := range sampleRecords() {
		got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
		if err := json.Unmarshal(old[name], got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s read as\n %+v\nwant\n %+v", name, got, want)
		}
	}
}

// TestRecordsRoundTrip: what the store writes reads back the same, and is
// no larger than what the earlier release wrote.
func TestRecordsRoundTrip(t *testing.T) {
	old := earlierRecords(t)
	for name, want := range sampleRecords() {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
		if err := json.Unmarshal(b, got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s read back as %+v", name, b, got)
		}
		var compact map[string]any
		_ = json.Unmarshal(old[name], &compact)
		before, _ := json.Marshal(compact)
		if len(b) > len(before) {
			t.Errorf("%s: %d bytes, the earlier release wrote %d", name, len(b), len(before))
		}
		t.Logf("%s: %d bytes (earlier release: %d)", name, len(b), len(before))
	}
}

// TestRecordTypesCoverTheirStructs: the store's records copy every field
// of the structs they stand for (the others are Go conversions, which
// the compiler checks), so a field added to xmpp.Message, xmpp.Presence
// or messenger.OutgoingMessage fails here until the store keeps it.
func TestRecordTypesCoverTheirStructs(t *testing.T) {
	names := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			out = append(out, rt.Field(i).Name)
		}
		return out
	}
	for _, pair := range [][2]any{{xmpp.Message{}, storedMessage{}}, {xmpp.Presence{}, storedPresence{}},
		{messenger.OutgoingMessage{}, storedOutgoing{}}} {
		if a, b := names(pair[0]), names(pair[1]); !slices.Equal(a, b) {
			t.Errorf("%T has fields %v, the store's %T %v", pair[0], a, pair[1], b)
		}
	}
	// And the copies keep every value.
	m := sampleStoredMessage()
	if got := storeMessage(m).message(); !reflect.DeepEqual(got, m) {
		t.Errorf("message copied as %+v", got)
	}
	p := &xmpp.Presence{ID: "i", From: jid.MustParse("f"), To: jid.MustParse("t"), Type: "error", Show: "away", Status: "s", Nick: "n", Priority: -3,
		Error: &xmpp.StanzaError{Type: "cancel", Condition: "gone", Text: "x"}}
	if got := storePresence(p).presence(); !reflect.DeepEqual(got, p) {
		t.Errorf("presence copied as %+v", got)
	}
	o := messenger.OutgoingMessage{Recipient: "1", MessagingType: "UPDATE", Tag: "t", Text: "x", Metadata: "m",
		Attachment: &messenger.Attachment{Type: "file", URL: "u", Title: "T", StickerID: "s", Lat: 1, Long: 2}, SenderAction: "typing_on"}
	if got := storeOutgoing(o).outgoing(); !reflect.DeepEqual(got, o) {
		t.Errorf("outgoing message copied as %+v", got)
	}
	// A stored address that does not parse reads as the zero JID, which
	// the component refuses to send to.
	if got := (storedMessage{ID: "x", From: "a@b@c", To: "@x"}).message(); !got.From.Equal(jid.JID{}) || !got.To.Equal(jid.JID{}) {
		t.Errorf("unparsable addresses read as %q, %q", got.From, got.To)
	}
}
