package messenger

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ms is the UTC time of a webhook millisecond timestamp.
func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func TestParseFixtures(t *testing.T) {
	const page, patron = PageID("510249619162304"), PSID("1066835436691078")
	tests := []struct {
		file string
		want Event
	}{
		{"text.json", Event{Kind: KindMessage, Page: page, Patron: patron, Time: ms(1468152703534),
			MID: "mid.1468152703527:6600c706f15a292027", Seq: 414, Text: "test"}},
		{"text_unicode.json", Event{Kind: KindMessage, Page: "1751036168465324", Patron: "982337261802700",
			Time: ms(1460923697635), MID: "mid.1460923697625:5c96e8279b55505308", Seq: 614, Text: "Test äëï"}},
		{"echo_template.json", Event{Kind: KindEcho, Page: page, Patron: patron, Time: ms(1468152706921),
			MID: "mid.1468152706286:e7982eb7618034a075", Seq: 415, AppID: "1708188056130407",
			Attachments: []Attachment{{Type: "template", Title: "abc"}}}},
		// "timestamp":0 falls back to the entry's time.
		{"delivery.json", Event{Kind: KindDelivery, Page: page, Patron: patron, Time: ms(1468152707422),
			MIDs: []MID{"mid.1468152706286:e7982eb7618034a075"}, Watermark: ms(1468152706921), Seq: 416}},
		{"read.json", Event{Kind: KindRead, Page: page, Patron: patron, Time: ms(1468152897070),
			Watermark: ms(1468152706921), Seq: 417}},
		{"postback.json", Event{Kind: KindPostback, Page: page, Patron: patron, Time: ms(1468152897212),
			Payload: "test"}},
		{"optin.json", Event{Kind: KindOptin, Page: page, Patron: patron, Time: ms(1468152897212),
			Payload: "test"}},
		{"sticker_2026.json", Event{Kind: KindMessage, Page: page, Patron: "2894771000000001", Time: ms(1796620949000),
			MID: "m_sticker_0001", Attachments: []Attachment{{Type: "sticker", StickerID: "369239263222822",
				URL: "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := Parse(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if b.Object != ObjectPage || b.Ignored != 0 {
				t.Errorf("Object %q, Ignored %d; want page, 0", b.Object, b.Ignored)
			}
			if len(b.Events) != 1 {
				t.Fatalf("got %d events, want 1: %+v", len(b.Events), b.Events)
			}
			if !reflect.DeepEqual(b.Events[0], tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", b.Events[0], tt.want)
			}
		})
	}
}

// TestParseInstagramFixtures checks the Instagram webhooks in the shapes of
// Meta's examples: a DM, a story mention and messaging_seen.
func TestParseInstagramFixtures(t *testing.T) {
	const account, igsid = PageID("17841400000000000"), PSID("6045123456789012")
	tests := []struct {
		file string
		want Event
	}{
		{"instagram_text.json", Event{Kind: KindMessage, Channel: ChannelInstagram, Page: account, Patron: igsid, Time: ms(1796620800042),
			MID:  "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAwOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxMjM0NTY3ODkwMTIzNA",
			Text: "hi! is the teen zine workshop still on saturday?"}},
		{"instagram_story_mention.json", Event{Kind: KindMessage, Channel: ChannelInstagram, Page: account, Patron: igsid, Time: ms(1796620859000),
			MID:         "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAwOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxMjM0NTY3ODkwMTIzNQ",
			Attachments: []Attachment{{Type: "story_mention", URL: "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17950000000000000&signature=abc"}}}},
		{"instagram_seen.json", Event{Kind: KindRead, Channel: ChannelInstagram, Page: account, Patron: igsid, Time: ms(1796620899000),
			MID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAwOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxMjM0NTY3ODkwMTIzNg"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := Parse(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if b.Object != ObjectInstagram || b.Ignored != 0 || len(b.Events) != 1 {
				t.Fatalf("Object %q, Ignored %d, events %+v", b.Object, b.Ignored, b.Events)
			}
			if !reflect.DeepEqual(b.Events[0], tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", b.Events[0], tt.want)
			}
		})
	}
	// Unsends, story replies, echoes and unsupported content, in the
	// shapes of Meta's Instagram messaging examples.
	body := `{"object":"instagram","entry":[{"id":"17841400000000000","time":1796620900000,"messaging":[
{"sender":{"id":"6045123456789012"},"recipient":{"id":"17841400000000000"},"timestamp":1796620900001,"message":{"mid":"ig_m1","is_deleted":true}},
{"sender":{"id":"6045123456789012"},"recipient":{"id":"17841400000000000"},"timestamp":1796620900002,"message":{"mid":"ig_m2","text":"love this!","reply_to":{"story":{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1","id":"17950000000000001"}}}},
{"sender":{"id":"17841400000000000"},"recipient":{"id":"6045123456789012"},"timestamp":1796620900003,"message":{"mid":"ig_m3","text":"See you Saturday","is_echo":true}},
{"sender":{"id":"6045123456789012"},"recipient":{"id":"17841400000000000"},"timestamp":1796620900004,"message":{"mid":"ig_m4","is_unsupported":true}},
{"sender":{"id":"6045123456789012"},"recipient":{"id":"17841400000000000"},"timestamp":1796620900005,"message":{"mid":"ig_m5","attachments":[{"type":"share","payload":{"url":"https://www.instagram.com/p/abc/"}},{"type":"ig_reel","payload":{"url":"https://www.instagram.com/reel/xyz/","title":"Book haul"}}]}}]}]}`
	b, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 5 {
		t.Fatalf("%d events: %+v", len(b.Events), b.Events)
	}
	if e := b.Events[0]; !e.Deleted || e.MID != "ig_m1" || e.Kind != KindMessage {
		t.Errorf("unsend: %+v", e)
	}
	if e := b.Events[1]; e.StoryURL != "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1" || e.Text != "love this!" {
		t.Errorf("story reply: %+v", e)
	}
	if e := b.Events[2]; e.Kind != KindEcho || e.Patron != igsid || e.Page != account || e.Channel != ChannelInstagram {
		t.Errorf("echo: %+v", e)
	}
	if e := b.Events[3]; !e.Unsupported {
		t.Errorf("unsupported: %+v", e)
	}
	if e := b.Events[4]; len(e.Attachments) != 2 || e.Attachments[0].Type != "share" || e.Attachments[1].Title != "Book haul" {
		t.Errorf("shares: %+v", e)
	}
}

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []Event
		ignored int
	}{
		{
			name: "string IDs and timestamps, two entries, standby",
			body: `{"object":"page","entry":[
				{"id":"111","time":"1700000000000","messaging":[
					{"sender":{"id":"9001"},"recipient":{"id":"111"},"timestamp":"1700000000001",
					 "message":{"mid":"m_a","text":"  hi  "}}]},
				{"id":222,"time":1700000000100,"standby":[
					{"sender":{"id":9002},"recipient":{"id":222},"timestamp":1700000000101,
					 "message":{"mid":"m_b","text":"in standby"}}]}]}`,
			want: []Event{
				{Kind: KindMessage, Page: "111", Patron: "9001", Time: ms(1700000000001), MID: "m_a", Text: "  hi  "},
				{Kind: KindMessage, Page: "222", Patron: "9002", Time: ms(1700000000101), MID: "m_b", Text: "in standby", Standby: true},
			},
		},
		{
			name: "attachments, sticker, location, fallback, quick reply, reply_to",
			body: `{"object":"page","entry":[{"id":"1","time":5,"messaging":[
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"message":{"mid":"m_1","sticker_id":369239263222822,
				 "attachments":[
					{"type":"image","payload":{"url":"https:\/\/cdn.example\/s.png","sticker_id":369239263222822}},
					{"type":"image","payload":{"url":"https://cdn.example/i.jpg"}},
					{"type":"location","title":"Pin","payload":{"coordinates":{"lat":45.5,"long":-73.6}}},
					{"type":"fallback","payload":{"url":"https://example.org/a","title":"An article"}},
					{"type":"fallback","payload":null},
					{"type":"file","payload":"unexpected string"}]}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":7,"message":{"mid":"m_2","text":"Yes",
				 "quick_reply":{"payload":"YES"},"reply_to":{"mid":"m_0"}}}]}]}`,
			want: []Event{
				{Kind: KindMessage, Page: "1", Patron: "2", Time: ms(6), MID: "m_1", Attachments: []Attachment{
					{Type: "image", URL: "https://cdn.example/s.png", StickerID: "369239263222822"},
					{Type: "image", URL: "https://cdn.example/i.jpg", StickerID: "369239263222822"},
					{Type: "location", Title: "Pin", Lat: 45.5, Long: -73.6},
					{Type: "fallback", URL: "https://example.org/a", Title: "An article"},
					{Type: "fallback"},
					{Type: "file"},
				}},
				{Kind: KindMessage, Page: "1", Patron: "2", Time: ms(7), MID: "m_2", Text: "Yes", QuickReply: "YES", ReplyTo: "m_0"},
			},
		},
		{
			name: "echo with string app_id and metadata; echo without app",
			body: `{"object":"page","entry":[{"id":"1","time":5,"messaging":[
				{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":6,"message":{"is_echo":true,
				 "app_id":"1708188056130407","metadata":"ab:7","mid":"m_e","text":"Hello from the library"}},
				{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":7,"message":{"is_echo":true,"mid":"m_f","text":"from inbox"}}]}]}`,
			want: []Event{
				{Kind: KindEcho, Page: "1", Patron: "2", Time: ms(6), MID: "m_e", Text: "Hello from the library",
					AppID: "1708188056130407", Metadata: "ab:7"},
				{Kind: KindEcho, Page: "1", Patron: "2", Time: ms(7), MID: "m_f", Text: "from inbox"},
			},
		},
		{
			name: "reaction, unreact, edit, postback with title, referral",
			body: `{"object":"page","entry":[{"id":"1","time":5,"messaging":[
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,
				 "reaction":{"reaction":"love","emoji":"\u2764\ufe0f","action":"react","mid":"m_r"}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":7,"reaction":{"action":"unreact","mid":"m_r"}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":8,
				 "message_edit":{"mid":"m_x","text":"fixed typo","num_edit":"1"}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":9,
				 "postback":{"mid":"m_p","title":"Opening hours","payload":"HOURS"}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":10,
				 "referral":{"ref":"summer-reading","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]}`,
			want: []Event{
				{Kind: KindReaction, Page: "1", Patron: "2", Time: ms(6), MID: "m_r", Reaction: "❤️", ReactionName: "love", ReactionAction: "react"},
				{Kind: KindReaction, Page: "1", Patron: "2", Time: ms(7), MID: "m_r", ReactionAction: "unreact"},
				{Kind: KindEdit, Page: "1", Patron: "2", Time: ms(8), MID: "m_x", Text: "fixed typo"},
				{Kind: KindPostback, Page: "1", Patron: "2", Time: ms(9), MID: "m_p", Text: "Opening hours", Payload: "HOURS"},
				{Kind: KindReferral, Page: "1", Patron: "2", Time: ms(10), Payload: "summer-reading", ReferralSource: "SHORTLINK"},
			},
		},
		{
			name: "checkbox opt-in without sender id",
			body: `{"object":"page","entry":[{"id":"1","time":5,"messaging":[
				{"recipient":{"id":"1"},"timestamp":6,"optin":{"ref":"signup","user_ref":"u-77"}}]}]}`,
			want: []Event{{Kind: KindOptin, Page: "1", Time: ms(6), Payload: "signup", UserRef: "u-77"}},
		},
		{
			name: "unknown kinds, null message and changes are ignored",
			body: `{"object":"page","entry":[{"id":"1","time":5,
				"changes":[{"field":"feed","value":{}}],
				"messaging":[
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"pass_thread_control":{"new_owner_app_id":"1"}},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":7,"message":null},
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":8,"message":{"mid":"m_ok","text":"kept"}}]}]}`,
			want:    []Event{{Kind: KindMessage, Page: "1", Patron: "2", Time: ms(8), MID: "m_ok", Text: "kept"}},
			ignored: 3,
		},
		{
			name: "text with characters XML forbids is kept",
			body: `{"object":"page","entry":[{"id":"1","time":5,"messaging":[
				{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"message":{"mid":"m_c","text":"a\u0000b\u001bc"}}]}]}`,
			want: []Event{{Kind: KindMessage, Page: "1", Patron: "2", Time: ms(6), MID: "m_c", Text: "a\x00b\x1bc"}},
		},
		{name: "other object", body: `{"object":"user","entry":[{"id":"1","changes":[]},{"id":"2"}]}`, ignored: 2},
		{name: "other object without entries", body: `{"object":"user"}`},
		{name: "page without entries", body: `{"object":"page","entry":[]}`},
		{name: "nesting at the limit", body: `{"object":"page","entry":[],"x":` +
			strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`},
		{name: "brackets inside strings do not count", body: `{"object":"page","entry":[],"x":"` +
			strings.Repeat("[{", 200) + `\"\\"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(b.Events, tt.want) {
				t.Errorf("events\n got %+v\nwant %+v", b.Events, tt.want)
			}
			if b.Ignored != tt.ignored {
				t.Errorf("Ignored = %d, want %d", b.Ignored, tt.ignored)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"not JSON", `object=page`},
		{"truncated", `{"object":"page","entry":[`},
		{"array", `[{"object":"page"}]`},
		{"string", `"page"`},
		{"null", `null`},
		{"no object", `{"entry":[]}`},
		{"object not a string", `{"object":1,"entry":[]}`},
		{"entry not an array", `{"object":"page","entry":{}}`},
		{"entry item not an object", `{"object":"page","entry":[1]}`},
		{"entry item null", `{"object":"page","entry":[null]}`},
		{"messaging not an array", `{"object":"page","entry":[{"id":"1","messaging":{}}]}`},
		{"messaging item not an object", `{"object":"page","entry":[{"id":"1","messaging":["x"]}]}`},
		{"message not an object", `{"object":"page","entry":[{"id":"1","messaging":[{"message":"hi"}]}]}`},
		{"text not a string", `{"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":5}}]}]}`},
		{"timestamp not a number", `{"object":"page","entry":[{"id":"1","messaging":[{"timestamp":"soon","read":{}}]}]}`},
		{"id an object", `{"object":"page","entry":[{"id":{"x":1}}]}`},
		{"not UTF-8", "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"message\":{\"text\":\"\xff\xfe\"}}]}]}"},
		{"nested too deeply", `{"object":"page","entry":[],"x":` +
			strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`},
		{"deep nesting bomb", strings.Repeat("[", 100000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", b, err)
			}
		})
	}
}

func TestFlexIntForms(t *testing.T) {
	tests := []struct {
		in   string
		want flexInt
		ok   bool
	}{
		{`1468152707422`, 1468152707422, true},
		{`"1468152707422"`, 1468152707422, true},
		{`1.468152707422e12`, 1468152707422, true},
		{`null`, 0, true},
		{`""`, 0, true},
		{`1.5`, 0, false},
		{`"x"`, 0, false},
		{`true`, 0, false},
	}
	for _, tt := range tests {
		var f flexInt
		err := f.UnmarshalJSON([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && f != tt.want) {
			t.Errorf("flexInt(%s) = %d, %v; want %d, ok=%v", tt.in, f, err, tt.want, tt.ok)
		}
	}
}

// TestStickerTransition checks that a sticker sent in both 2026 forms at
// once (type "sticker" and type "image", as Facebook does until 30 August
// 2026) reaches the bridge as one attachment, in either order, while two
// different images stay two.
func TestStickerTransition(t *testing.T) {
	const sticker = `{"type":"sticker","payload":{"sticker_id":369239263222822,"url":"https://cdn.example/s.png"}}`
	const image = `{"type":"image","payload":{"sticker_id":369239263222822,"url":"https://cdn.example/s.png"}}`
	for _, atts := range []string{sticker + "," + image, image + "," + sticker} {
		body := `{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"message":{"mid":"m_s","attachments":[` + atts + `]}}]}]}`
		b, err := Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		want := []Attachment{{Type: "sticker", URL: "https://cdn.example/s.png", StickerID: "369239263222822"}}
		if got := b.Events[0].Attachments; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: attachments %+v, want %+v", atts, got, want)
		}
	}
}
