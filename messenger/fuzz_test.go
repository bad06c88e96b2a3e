package messenger

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for everything in this package that reads what Facebook (or
// anyone on the internet) sends. The seed corpus is the fixtures plus the
// edge cases below; go test runs them all, go test -fuzz explores further.

// fuzzBodies are hand-written webhook bodies at the edges of the parser.
var fuzzBodies = []string{
	``,
	` `,
	`{}`,
	`null`,
	`[]`,
	`"page"`,
	`{"object":"user"}`,
	`{"object":"user","entry":[{"id":"1","changes":[{"field":"name"}]}]}`,
	`{"object":"page"}`,
	`{"object":"page","entry":null}`,
	`{"object":"page","entry":[]}`,
	`{"object":"page","entry":[null]}`,
	`{"object":"page","entry":[{}]}`,
	`{"object":null,"entry":[]}`,
	`{"object":"page","entry":[{"id":null,"time":null,"messaging":null,"standby":null}]}`,
	// Numbers as strings and strings as numbers.
	`{"object":"page","entry":[{"id":"1","time":"1700000000000","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":"1700000000001","message":{"mid":"m","seq":"7","text":"hi"}}]}]}`,
	`{"object":"page","entry":[{"id":1,"time":1.7e12,"messaging":[{"sender":{"id":2},"recipient":{"id":1},"timestamp":" 5 ","read":{"watermark":"","seq":null}}]}]}`,
	// Huge, negative and fractional numbers.
	`{"object":"page","entry":[{"id":123456789012345678901234567890,"time":9223372036854775807,"messaging":[{"sender":{"id":-1},"recipient":{"id":1e400},"timestamp":9223372036854775807,"delivery":{"mids":["m"],"watermark":-9223372036854775808,"seq":1e18}}]}]}`,
	`{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":253402300800000,"message":{"mid":"m","text":"year 10000"}}]}]}`,
	`{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":-62135596800001,"message":{"mid":"m","text":"year 0"}}]}]}`,
	`{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1.5,"message":{"mid":"m"}}]}]}`,
	// Standby arrays, alone and beside messaging.
	`{"object":"page","entry":[{"id":"1","time":5,"standby":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"message":{"mid":"s","text":"standby"}},{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":7,"read":{"watermark":6}}]}]}`,
	`{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":6,"postback":{"title":"t","payload":"p"}}],"standby":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":7,"message_edit":{"mid":"m","text":"e"}}]}]}`,
	`{"object":"page","entry":[{"id":"1","standby":{}}]}`,
	// Null fields everywhere.
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":null,"recipient":null,"timestamp":null,"message":{"mid":null,"text":null,"attachments":null,"quick_reply":null,"reply_to":null,"app_id":null,"sticker_id":null}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"attachments":[null,{"type":null,"payload":null},{"type":"location","payload":{"coordinates":null}},{"type":"template","payload":{"elements":[null]}}]}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"message":null,"reaction":null,"postback":{"payload":"x"}}]}]}`,
	// Events without any Page: no entry id, no recipient.
	`{"object":"page","entry":[{"messaging":[{"message":{"mid":"m","text":"orphan"}}]}]}`,
	`{"object":"page","entry":[{"id":" ","messaging":[{"sender":{"id":"2"},"recipient":{"id":""},"message":{"is_echo":true,"mid":"m"}}]}]}`,
	// Every kind the parser knows, and some it does not.
	`{"object":"page","entry":[{"id":"1","time":5,"messaging":[` +
		`{"sender":{"id":"2"},"recipient":{"id":"1"},"reaction":{"reaction":"love","emoji":"\u2764","action":"react","mid":"m"}},` +
		`{"sender":{"user_ref":"u"},"recipient":{"id":"1"},"optin":{"payload":"p"}},` +
		`{"sender":{"id":"2"},"recipient":{"id":"1"},"referral":{"ref":"r","source":"ADS"}},` +
		`{"sender":{"id":"2"},"recipient":{"id":"1"},"pass_thread_control":{}},` +
		`{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"mid":"m2","text":"a\u0000b\u001b\ud800c\uffff"}}]}]}`,
	// Wrong shapes.
	`{"object":1}`,
	`{"object":"page","entry":{}}`,
	`{"object":"page","entry":[1,"x",true]}`,
	`{"object":"page","entry":[{"id":{"x":1}}]}`,
	`{"object":"page","entry":[{"id":true}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[[]]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"message":"hi"}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":5}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"message":{"is_echo":"yes"}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"delivery":{"mids":"m"}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"timestamp":"soon","read":{}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"timestamp":true,"read":{}}]}]}`,
	// Duplicate keys and trailing garbage.
	`{"object":"user","object":"page","entry":[]}`,
	`{"object":"page","entry":[]} {"object":"page"}`,
	`{"object":"page","entry":[]}]`,
	// Escapes and brackets inside strings.
	`{"object":"page","entry":[],"x":"[[[[{{{{\\\"\\\\"}`,
	`{"object":"page\u0000","entry":[]}`,
	`{"object":"page","entry":[],"x":"\ud800"}`,
	// Nesting at and beyond the limit.
	`{"object":"page","entry":[],"x":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`,
	`{"object":"page","entry":[],"x":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`,
	strings.Repeat("[", 10000),
	strings.Repeat(`{"a":`, 1000),
	`]]]]]]]]{"object":"page","entry":[]}`,
	// Not UTF-8.
	"{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"message\":{\"text\":\"\xff\xfe\"}}]}]}",
	"{\"object\":\"page\",\"entry\":[],\"x\":\"\xed\xa0\x80\"}",
	"\xef\xbb\xbf{\"object\":\"page\",\"entry\":[]}",
	"{\"object\":\"page\",\"entry\":[]}\xc3",
}

// addBodySeeds adds every webhook fixture and fuzzBodies to f through add.
func addBodySeeds(f *testing.F, add func(body []byte)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no fixtures in testdata")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, s := range fuzzBodies {
		add([]byte(s))
	}
}

// knownKinds are the kinds Parse may return.
var knownKinds = map[Kind]bool{
	KindMessage: true, KindEcho: true, KindPostback: true, KindDelivery: true, KindRead: true,
	KindReaction: true, KindEdit: true, KindOptin: true, KindReferral: true,
}

// checkBatch checks what Parse returned for body.
func checkBatch(t *testing.T, body []byte, b *Batch, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
		}
		if b != nil {
			t.Fatalf("Parse returned a batch with error %v", err)
		}
		return
	}
	if b == nil {
		t.Fatal("Parse returned neither a batch nor an error")
	}
	if !utf8.Valid(body) {
		t.Fatal("Parse accepted a body that is not UTF-8")
	}
	if b.Ignored < 0 {
		t.Fatalf("Ignored = %d", b.Ignored)
	}
	if b.Object != ObjectPage && b.Object != ObjectInstagram && len(b.Events) > 0 {
		t.Fatalf("object %q yielded %d events", b.Object, len(b.Events))
	}
	for i, e := range b.Events {
		if want := map[string]Channel{ObjectPage: "", ObjectInstagram: ChannelInstagram}[b.Object]; e.Channel != want {
			t.Fatalf("event %d of object %q has channel %q", i, b.Object, e.Channel)
		}
	}
	for i, e := range b.Events {
		if !knownKinds[e.Kind] {
			t.Errorf("event %d: kind %q", i, e.Kind)
		}
		if e.Page == "" {
			t.Errorf("event %d (%s) has no Page", i, e.Kind)
		}
		// The bridge stores events as JSON in its inbox: they must
		// survive the round trip.
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("event %d does not marshal: %v\n%+v", i, err, e)
		}
		var back Event
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("event %d does not unmarshal: %v\n%s", i, err, data)
		}
		if back.Kind != e.Kind || back.Channel != e.Channel || back.Page != e.Page || back.Patron != e.Patron || back.MID != e.MID ||
			!back.Time.Equal(e.Time) || !back.Watermark.Equal(e.Watermark) {
			t.Errorf("event %d changed in a JSON round trip:\n got %+v\nwant %+v", i, back, e)
		}
	}
}

func FuzzParse(f *testing.F) {
	addBodySeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		checkBatch(t, body, b, err)
	})
}

// fuzzMaxBody is the webhook's body limit in FuzzWebhook, small enough for
// the fuzzer to reach.
const fuzzMaxBody = 4096

func FuzzWebhook(f *testing.F) {
	addBodySeeds(f, func(b []byte) {
		f.Add(b, false)
		f.Add(b, true)
	})
	f.Add(bytes.Repeat([]byte(" "), fuzzMaxBody), false)
	f.Add([]byte(`{"object":"page","entry":[]}`+strings.Repeat(" ", fuzzMaxBody)), true)
	f.Fuzz(func(t *testing.T, body []byte, chunked bool) {
		sink := &recordingSink{}
		w := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken, MaxBodyBytes: fuzzMaxBody}, sink, nil)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		if chunked {
			req.ContentLength = -1
		} else {
			req.ContentLength = int64(len(body))
		}
		mac := hmac.New(sha256.New, []byte(testSecret))
		mac.Write(body)
		req.Header.Set(HeaderSignature256, "sha256="+hex.EncodeToString(mac.Sum(nil)))
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, req)

		// What the webhook must have answered.
		want, wantEvents := http.StatusOK, 0
		batch, err := Parse(body)
		switch {
		case len(body) > fuzzMaxBody:
			want = http.StatusRequestEntityTooLarge
		case err != nil:
			want = http.StatusBadRequest
		default:
			wantEvents = len(batch.Events)
		}
		if rec.Code != want {
			t.Fatalf("status %d, want %d (body %q)", rec.Code, want, rec.Body.String())
		}
		calls := sink.Calls()
		if rec.Code != http.StatusOK && len(calls) != 0 {
			t.Fatalf("status %d, but the sink was called %d times", rec.Code, len(calls))
		}
		got := 0
		for _, c := range calls {
			if len(c) == 0 {
				t.Error("the sink was called without events")
			}
			got += len(c)
		}
		if len(calls) > 1 || got != wantEvents {
			t.Fatalf("sink got %d events in %d calls, want %d in at most one", got, len(calls), wantEvents)
		}
		s := w.Stats()
		var total uint64
		for _, n := range s.ByResult() {
			total += n
		}
		if total != 1 {
			t.Fatalf("one request counted %d times: %+v", total, s)
		}
		switch rec.Code {
		case http.StatusOK:
			if rec.Body.String() != eventReceived || s.Accepted != 1 || s.Ignored != uint64(batch.Ignored) {
				t.Fatalf("200 with body %q, stats %+v; want %q, Ignored %d", rec.Body.String(), s, eventReceived, batch.Ignored)
			}
		case http.StatusBadRequest:
			if s.Malformed != 1 {
				t.Fatalf("400 counted as %+v", s)
			}
		case http.StatusRequestEntityTooLarge:
			if s.TooLarge != 1 {
				t.Fatalf("413 counted as %+v", s)
			}
		}
	})
}

// macHex returns the hex HMAC of body keyed with secret.
func macHex(h func() hash.Hash, secret, body []byte) string {
	m := hmac.New(h, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// asciiEqualFold is strings.EqualFold without Unicode folding: "ſha256="
// is not "sha256=".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func FuzzVerifySignature(f *testing.F) {
	body, err := os.ReadFile(filepath.Join("testdata", "text_unicode.json"))
	if err != nil {
		f.Fatal(err)
	}
	// mode picks what goes into the headers; see below.
	for mode := range uint8(16) {
		f.Add([]byte(vectorSecret), body, vectorSHA256, vectorSHA1, mode)
	}
	f.Add([]byte(vectorSecret), body, "SHA256="+strings.ToUpper(vectorSHA256[7:]), "", uint8(0))
	f.Add([]byte(vectorSecret), body, " "+vectorSHA256+"\t", "", uint8(0))
	f.Add([]byte(vectorSecret), body, "sha256=", "sha1=", uint8(0))
	f.Add([]byte(vectorSecret), body, "sha256", "", uint8(0))
	f.Add([]byte(vectorSecret), body, "sha256=zz", "sha1=0", uint8(0))
	f.Add([]byte(vectorSecret), body, "sha256=\xff\xfe", "\x00", uint8(0))
	f.Add([]byte(vectorSecret), body, "ſha256="+vectorSHA256[7:], "", uint8(0)) // ſ folds to s in Unicode only
	f.Add([]byte(""), body, vectorSHA256, vectorSHA1, uint8(1))
	f.Add([]byte("k"), []byte(""), "sha256=", "", uint8(1))
	f.Fuzz(func(t *testing.T, secret, body []byte, v256, v1 string, mode uint8) {
		sig256 := "sha256=" + macHex(sha256.New, secret, body)
		sig1 := "sha1=" + macHex(sha1.New, secret, body)
		// Low bits: take the fuzzed values as they are, or build them
		// around the right signature. Bits 2 and 3: send each header
		// once, twice, or not at all.
		switch mode & 3 {
		case 1: // the right signatures, then the fuzzed text
			v256, v1 = sig256+v256, sig1+v1
		case 2: // the fuzzed text, then the right signatures
			v256, v1 = v256+sig256, v1+sig1
		case 3: // the right signatures, exactly
			v256, v1 = sig256, sig1
		}
		h := http.Header{}
		for _, hv := range []struct {
			name, value string
			bits        uint8
		}{{HeaderSignature256, v256, mode >> 2 & 3}, {HeaderSignature1, v1, mode >> 4 & 3}} {
			switch hv.bits {
			case 0, 1:
				h[hv.name] = []string{hv.value}
			case 2:
				h[hv.name] = []string{hv.value, hv.value}
			}
		}
		err := VerifySignature(secret, body, h)
		if err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrNoSignature) {
			t.Fatalf("error %v wraps neither ErrBadSignature nor ErrNoSignature", err)
		}
		// Which header decides, and whether it is right.
		var decides []string
		var right string
		switch {
		case len(h.Values(HeaderSignature256)) > 0:
			decides, right = h.Values(HeaderSignature256), sig256
		case len(h.Values(HeaderSignature1)) > 0:
			decides, right = h.Values(HeaderSignature1), sig1
		}
		correct := len(secret) > 0 && len(decides) == 1 &&
			asciiEqualFold(strings.TrimSpace(decides[0]), right) // hex is case-insensitive too
		if err == nil && !correct {
			t.Fatalf("accepted a wrong signature: %q (right: %q)", decides, right)
		}
		if err != nil && correct {
			t.Fatalf("refused the right signature %q: %v", decides, err)
		}
		if len(secret) > 0 && len(decides) == 0 && !errors.Is(err, ErrNoSignature) {
			t.Fatalf("no signature header, error %v", err)
		}
	})
}

// stripSpace drops the characters SplitText may drop at a cut.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

func FuzzSplitText(f *testing.F) {
	f.Add("", uint16(0))
	f.Add("Hello, patron!", uint16(0))
	f.Add("a", uint16(MaxTextLength-2))
	f.Add("a", uint16(MaxTextLength-1))
	f.Add("a", uint16(5000))
	f.Add("ä", uint16(5000))
	f.Add("😀", uint16(4100))
	f.Add("book ", uint16(1000))
	f.Add("library books\n\n", uint16(300))
	f.Add("catalog\n", uint16(300))
	f.Add(" ", uint16(3000))
	f.Add("\r\n", uint16(2500))
	f.Add("x\t", uint16(2500))
	f.Add(strings.Repeat("a", 1500)+" ", uint16(3))
	f.Add(strings.Repeat("a", 1998)+"\n", uint16(3))
	f.Add("\xff", uint16(2500))
	f.Add("a\xed\xa0\x80 ", uint16(1000))
	f.Add("\u00a0\u2028\u3000x", uint16(1000))
	f.Fuzz(func(t *testing.T, unit string, repeat uint16) {
		// Repeating the unit makes texts long enough to be split; cap
		// the length so an iteration stays fast.
		const maxBytes = 3 * 4 * MaxTextLength // up to 12 parts of ASCII
		n := 1 + int(repeat)
		if len(unit) > 0 && n > maxBytes/len(unit) {
			n = max(1, maxBytes/len(unit))
		}
		s := strings.Repeat(unit, n)
		parts := SplitText(s)
		if s == "" {
			if parts != nil {
				t.Fatalf("SplitText(\"\") = %q", parts)
			}
			return
		}
		if len(parts) == 0 && stripSpace(s) != "" {
			// Only long text of nothing but whitespace may vanish.
			t.Fatal("no parts for non-empty text")
		}
		if utf8.RuneCountInString(s) < MaxTextLength && (len(parts) != 1 || parts[0] != s) {
			t.Fatalf("short text changed: %d parts", len(parts))
		}
		for i, p := range parts {
			if p == "" {
				t.Fatalf("part %d of %d is empty", i, len(parts))
			}
			if n := utf8.RuneCountInString(p); n >= MaxTextLength {
				t.Fatalf("part %d has %d runes, want < %d", i, n, MaxTextLength)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Fatalf("part %d is not valid UTF-8", i)
			}
		}
		// Nothing but the whitespace at cuts is lost, and the order is
		// kept. Invalid bytes may come back as U+FFFD, one each.
		want, got := stripSpace(s), stripSpace(strings.Join(parts, ""))
		if !utf8.ValidString(s) {
			want, got = string([]rune(want)), string([]rune(got))
		}
		if got != want {
			t.Fatalf("parts lose or reorder characters:\n got %d bytes\nwant %d bytes", len(got), len(want))
		}
	})
}
