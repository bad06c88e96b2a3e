package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// entryCodec is the binary codec of one record type, for the tests.
type entryCodec struct {
	encode func(v any) []byte
	decode func(b []byte) (any, error)
}

func codecOf(v any) entryCodec {
	switch v.(type) {
	case *XMPPEntry:
		return entryCodec{func(v any) []byte { return EncodeXMPPEntry(v.(*XMPPEntry)) },
			func(b []byte) (any, error) { var x XMPPEntry; err := DecodeXMPPEntry(b, &x); return &x, err }}
	case *FacebookEntry:
		return entryCodec{func(v any) []byte { return EncodeFacebookEntry(v.(*FacebookEntry)) },
			func(b []byte) (any, error) { var x FacebookEntry; err := DecodeFacebookEntry(b, &x); return &x, err }}
	case *Conversation:
		return entryCodec{func(v any) []byte { return EncodeConversation(v.(*Conversation)) },
			func(b []byte) (any, error) { var x Conversation; err := DecodeConversation(b, &x); return &x, err }}
	}
	panic("no codec")
}

// fullRecords has, for each record type, a value with every field set
// (found by reflection: a field added to a record type and not to its
// codec fails TestEntryCodecRoundTrip).
func fullRecords() map[string]any {
	at := time.Date(2026, 12, 8, 1, 2, 3, 456789012, time.UTC)
	m := sampleStoredMessage()
	return map[string]any{
		"xmpp_full": &XMPPEntry{Msg: m, Presence: &xmpp.Presence{ID: "p", From: jid.MustParse("a@b/c"), To: jid.MustParse("d@e"),
			Type: "error", Show: "away", Status: "st", Nick: "n", Priority: -7, Error: &xmpp.StanzaError{Type: "cancel", Condition: "gone", Text: "t"}},
			Ledger: []byte{0, 1, 2}, Queued: at, NotBefore: at.Add(time.Second), Tries: 3, ParkNotice: true},
		"facebook_full": &FacebookEntry{Page: testPage, Msg: messenger.OutgoingMessage{Recipient: testPSID, MessagingType: "MESSAGE_TAG",
			Tag: "HUMAN_AGENT", Text: "t", Metadata: "md", SenderAction: "typing_on",
			Attachment: &messenger.Attachment{Type: "location", URL: "u", Title: "T", StickerID: "369239263222822", Lat: -45.5, Long: 1e-300}},
			Ledger: []byte{9}, Notify: "alice@library.test/desk", Patron: "1@fb.library.test", Queued: at, Attempts: 2, LastAttempt: at,
			ReceiptID: "r", Receipt: true, Markable: true, Session: "s"},
		"conversation_full": &Conversation{Page: testPage, PSID: testPSID, Guest: "g", LastPatron: at, LastActivity: at.Add(time.Hour),
			Owner: "alice@library.test", Session: "s2", LastSession: "s2", Recent: []string{"s1", "s2"}, Unanswered: "s1",
			Offered: []string{"a@x", "b@x"}, Held: []xmpp.Message{m, {ID: "h2", Body: "é 📚"}},
			Awaiting: []Awaited{{MID: "m1", XMPPID: "x1", To: "alice@library.test/desk", At: at, Receipt: true, Markable: true, Delivered: true}},
			Transfer: &PendingTransfer{ID: "t", To: "bob@library.test", By: "alice@library.test/desk", Prev: "alice@library.test"}},
	}
}

// zeroFields lists the fields of v (a pointer to a struct), recursively
// through structs, pointers and slices, that hold their zero value.
func zeroFields(prefix string, v reflect.Value) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{prefix}
		}
		return zeroFields(prefix, v.Elem())
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{prefix}
		}
		if v.Type().Elem().Kind() == reflect.Struct {
			return zeroFields(prefix+"[0]", v.Index(0))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) || v.Type() == reflect.TypeOf(jid.JID{}) {
			if v.IsZero() {
				return []string{prefix}
			}
			return nil
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = append(out, zeroFields(prefix+"."+v.Type().Field(i).Name, v.Field(i))...)
			}
		}
	default:
		if v.IsZero() {
			return []string{prefix}
		}
	}
	return out
}

// TestEntryCodecRoundTrip: every record, with every field set or none,
// reads back as written (times by instant), and is smaller than its JSON.
func TestEntryCodecRoundTrip(t *testing.T) {
	recs := fullRecords()
	for name, v := range sampleRecords() {
		recs[name] = v
	}
	recs["xmpp_empty"], recs["facebook_empty"], recs["conversation_empty"] = &XMPPEntry{}, &FacebookEntry{}, &Conversation{}
	for name, want := range recs {
		if strings.HasSuffix(name, "_full") {
			if z := zeroFields("", reflect.ValueOf(want)); len(z) > 0 {
				t.Fatalf("%s leaves fields unset, so the test would not see them lost: %v", name, z)
			}
		}
		c := codecOf(want)
		b := c.encode(want)
		got, err := c.decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Errorf("%s read back as\n %+v\nwant\n %+v", name, got, want)
		}
		js, _ := json.Marshal(want)
		if len(b) >= len(js) {
			t.Errorf("%s: %d bytes, %d in JSON", name, len(b), len(js))
		}
		t.Logf("%s: %d bytes, %d in JSON", name, len(b), len(js))
	}
}

// normalize makes times comparable by instant: the codecs keep instants,
// not zones.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	out := reflect.New(reflect.TypeOf(v).Elem()).Interface()
	_ = json.Unmarshal(b, out)
	rv := reflect.ValueOf(out).Elem()
	utc(rv)
	return out
}

func utc(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			utc(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			utc(v.Index(i))
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				utc(v.Field(i))
			}
		}
	}
}

// TestEntryCodecReadsJSON: the records an earlier release wrote in JSON
// read through the codecs as through encoding/json.
func TestEntryCodecReadsJSON(t *testing.T) {
	old := earlierRecords(t)
	for name, want := range sampleRecords() {
		got, err := codecOf(want).decode(old[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s read as\n %+v\nwant\n %+v", name, got, want)
		}
	}
}

// TestEntryCodecErrors: a record cut anywhere, or with bytes after its
// end, or of an unknown version, is an error, never a panic or a
// silently shorter record.
func TestEntryCodecErrors(t *testing.T) {
	for name, v := range fullRecords() {
		c := codecOf(v)
		b := c.encode(v)
		for n := range len(b) {
			if _, err := c.decode(b[:n]); err == nil {
				t.Fatalf("%s cut to %d of %d bytes: no error", name, n, len(b))
			} else if n > 1 && !errors.Is(err, errTruncated) {
				t.Fatalf("%s cut to %d bytes: %v does not match errTruncated", name, n, err)
			}
		}
		if _, err := c.decode(append(b, 0)); err == nil || !strings.Contains(err.Error(), "after the last field") {
			t.Errorf("%s with a byte more: %v", name, err)
		}
		if _, err := c.decode(append([]byte{7}, b[1:]...)); err == nil || !strings.Contains(err.Error(), "unknown version 7") {
			t.Errorf("%s of version 7: %v", name, err)
		}
	}
}

// FuzzDecodeEntries feeds arbitrary bytes to the three decoders: they
// must never panic, and what they accept as binary must encode back to
// the same bytes.
func FuzzDecodeEntries(f *testing.F) {
	for _, v := range fullRecords() {
		f.Add(codecOf(v).encode(v))
	}
	old := earlierRecords(f)
	for _, v := range old {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&XMPPEntry{}, &FacebookEntry{}, &Conversation{}} {
			c := codecOf(v)
			got, err := c.decode(b)
			if err != nil || len(b) == 0 || b[0] != entryV1 {
				continue
			}
			if again := c.encode(got); string(again) != string(b) {
				// Flags and lengths have one encoding each, but a time
				// or a varint may be written longer than needed.
				if _, err := c.decode(again); err != nil {
					t.Fatalf("%T: re-encoding of an accepted record does not decode: %v", v, err)
				}
			}
		}
	})
}

// BenchmarkEntryCodec compares the binary codecs with the JSON they
// replace, for a conversation holding no messages and an XMPP outbox
// entry, as the webhook path writes and reads them.
func BenchmarkEntryCodec(b *testing.B) {
	at := time.Date(2026, 12, 8, 1, 2, 3, 456789012, time.UTC)
	conv := &Conversation{Page: testPage, PSID: testPSID, Guest: "8a78e718e2e3fc4b", LastPatron: at, LastActivity: at,
		Session: "18a3b2c4d5e6f708000000000000002a", LastSession: "18a3b2c4d5e6f708000000000000002a",
		Recent: []string{"18a3b2c4d5e6f708000000000000002a"}}
	entry := &XMPPEntry{Msg: sampleStoredMessage(), Ledger: make([]byte, 16), Queued: at}
	for _, v := range []any{conv, entry} {
		c := codecOf(v)
		name := strings.TrimPrefix(reflect.TypeOf(v).String(), "*store.")
		b.Run(name+"/binary", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decode(c.encode(v)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(c.encode(v))), "bytes")
		})
		b.Run(name+"/json", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				js, err := json.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				n = len(js)
				if err := json.Unmarshal(js, reflect.New(reflect.TypeOf(v).Elem()).Interface()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

// TestWantsSealRestoredConversation: a binary conversation that holds
// messages in the clear (as a store restored from a backup has it) is to
// be sealed; one that holds none is not.
func TestWantsSealRestoredConversation(t *testing.T) {
	held := fullRecords()["conversation_full"].(*Conversation)
	empty := *held
	empty.Held = nil
	if !WantsSeal(BucketConversations, EncodeConversation(held)) {
		t.Error("a plain binary conversation holding messages is left plain")
	}
	if WantsSeal(BucketConversations, EncodeConversation(&empty)) {
		t.Error("a binary conversation holding no messages is to be sealed")
	}
	js, _ := json.Marshal(held)
	if !WantsSeal(BucketConversations, js) {
		t.Error("a JSON conversation holding messages is left plain")
	}
}

// TestEntryCodecHugeCount: a corrupt list length is refused by what the
// record can hold, before anything is allocated for it.
func TestEntryCodecHugeCount(t *testing.T) {
	c := &Conversation{PSID: testPSID}
	b := EncodeConversation(c)
	// The record ends with: held count, awaiting count, transfer flag.
	for _, at := range []int{len(b) - 3, len(b) - 2} {
		bad := append(append(bytes.Clone(b[:at]), binary.AppendUvarint(nil, 1<<40)...), make([]byte, 64)...)
		var got Conversation
		if err := DecodeConversation(bad, &got); !errors.Is(err, errTruncated) {
			t.Errorf("count of 2^40 at offset %d: %v, want errTruncated", at, err)
		}
	}
	// A count the bytes left could hold one-byte items for, but not
	// messages: refused at once, not decoded message by message.
	bad := append(append(bytes.Clone(b[:len(b)-3]), binary.AppendUvarint(nil, 60000)...), make([]byte, 1<<16)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := DecodeConversation(bad, &Conversation{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errTruncated) {
		t.Errorf("60,000 held messages in 64 KiB: %v, want errTruncated", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated decoding a corrupt count", n)
	}
}
