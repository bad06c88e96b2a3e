package bridge

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"

	bolt "go.etcd.io/bbolt"
)

// Fuzz targets for everything that parses librarians' input: the replies
// and in-chat commands HandleMessage takes from the component.

// fuzzBridge is a running bridge on a real store with fake sides and one
// open conversation, for FuzzCommand: its inputs share one, and each runs
// in a transaction that is rolled back, so every input meets the same
// state.
type fuzzBridge struct {
	b     *Bridge
	store *Store
}

func newFuzzBridge(tb testing.TB) *fuzzBridge {
	tb.Helper()
	dir := tb.TempDir()
	link := newFakeLink()
	cfg := testConfig(dir)
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	ps, err := LoadPseudonymizer(dir, st)
	if err != nil {
		tb.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)} // never advances: no idle timeouts
	b, err := New(Options{Config: cfg, Store: st, Pseudonyms: ps, SendAPI: newFakeAPI(), Log: zap.NewNop(), Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, link) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
		_ = st.Close()
	})
	if err := b.Accept(ctx, []messenger.Event{patronText("mid.fuzz", "question", clk.Now())}); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-link.ch:
	case <-time.After(10 * time.Second):
		tb.Fatal("the patron's message never reached the librarians")
	}
	return &fuzzBridge{b: b, store: st}
}

// outboxSeqs are how many entries were ever written to the XMPP and the
// Send API outboxes.
func outboxSeqs(t *testing.T, st *Store) (toXMPP, toFacebook uint64) {
	t.Helper()
	if err := st.db.View(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		toXMPP = tx.Bolt().Bucket(store.BucketToXMPP).Sequence()
		toFacebook = tx.Bolt().Bucket(store.BucketToFacebook).Sequence()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return toXMPP, toFacebook
}

// mayAnswerSpec is who may answer in testConfig: the queue, and anyone
// with a localpart at library.test.
func mayAnswerSpec(from string) bool {
	j, err := jid.Parse(from)
	if err != nil {
		return false
	}
	return strings.EqualFold(j.Bare().String(), testQueue) ||
		j.Localpart() != "" && strings.EqualFold(j.Domainpart(), "library.test")
}

// nonSpace is s without whitespace; invalid bytes become U+FFFD each, as
// the store's JSON makes them.
func nonSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string([]rune(s)))
}

func FuzzHandleMessage(f *testing.F) {
	const alice = "alice@library.test/gajim"
	for _, seed := range []struct{ from, body string }{
		{alice, "We open at 9."},
		{alice, "  spaced out \n"},
		{alice, ""},
		{alice, " \t\r\n"},
		{alice, "!help"},
		{alice, "  !HELP  "},
		{alice, "!"},
		{alice, "! help"},
		{alice, "!read 3"},
		{alice, "!read 7"},
		{alice, "!read"},
		{alice, "!read 1 2"},
		{alice, "!read -1"},
		{alice, "!read 99999999999999999999"},
		{alice, "!questions 2"},
		{alice, "!questions +5"},
		{alice, "!tag hours catalog,ILL;Hours"},
		{alice, "!tags " + strings.Repeat("x", 41) + " ,,; " + strings.Repeat("é", 20)},
		{alice, "!tag"},
		{alice, "!close"},
		{alice, "!close now please"},
		{alice, "!transfer ya@chat.library.test"},
		{alice, "!transfer bob@library.test"},
		{alice, "!transfer alice@library.test/gajim"},
		{alice, "!transfer ask@chat.library.test"},
		{alice, "!transfer mallory@evil.example"},
		{alice, "!transfer"},
		{alice, "https://files.library.test/upload/a1/map.PDF"},
		{alice, "  https://files.library.test/cat.jpg\r\n"},
		{alice, "https://files.library.test/cat.jpg and more"},
		{alice, "https://files.library.test/cat.jpg\u00a0x"},
		{alice, "http://files.library.test/cat.jpg"},
		{alice, "https:///cat.jpg"},
		{alice, "https://files.library.test/%zz.pdf"},
		{alice, "!nonsense 1 2"},
		{alice, "!\u00a0help"},
		{alice, "\u00a0!help"},
		{alice, "！help"},
		{alice, "!help\x00\xff"},
		{alice, "not a command: !help"},
		{alice, strings.Repeat("word ", 900)},
		{alice, strings.Repeat("a", 4500)},
		{alice, strings.Repeat("para graph\n\n", 400)},
		{alice, strings.Repeat("😀", 2100)},
		{alice, "a\x00b\x1bc\xff\xfe"},
		{alice, strings.Repeat("\xff", 2500)},
		{"ask@chat.library.test", "From the queue"},
		{"ASK@Chat.Library.Test/x", "From the queue, shouting"},
		{"Alice@LIBRARY.test", "mixed case"},
		{"library.test", "no localpart"},
		{"mallory@elsewhere.example/x", "click this link"},
		{"mallory@elsewhere.example/x", "!close"},
		{"mallory@library.test.evil.example", "subdomain trick"},
		{"mallory@evil.example/alice@library.test", "resource trick"},
		{"", "no sender"},
		{"@library.test", "empty localpart"},
		{"a@b@library.test", "two at signs"},
		{"alice@library.test/\x00", "control character"},
		{"\xff@library.test", "not UTF-8"},
		{"alice@library.test/" + strings.Repeat("r", 2000), "long resource"},
	} {
		f.Add(seed.from, seed.body)
	}
	// A harness per input (about 12 ms) keeps inputs independent, so
	// every failure reproduces from its input alone.
	f.Fuzz(func(t *testing.T, from, body string) {
		sender, err := jid.Parse(from)
		if err != nil {
			return // never reaches HandleMessage: the component drops it as it reads it
		}
		h := newHarness(t)
		h.store.db.NoSync = true // a scratch store: durability is not under test here
		h.run()
		h.start()
		x0, f0 := outboxSeqs(t, h.store)
		se := h.reply(from, body)
		x1, f1 := outboxSeqs(t, h.store)
		// HandleMessage stores all it causes before it returns.
		stanzas, calls := x1-x0, f1-f0

		trimmed := strings.TrimSpace(body)
		command := strings.HasPrefix(trimmed, "!")
		name := ""
		if command {
			name = strings.ToLower(strings.TrimPrefix(strings.Fields(trimmed)[0], "!"))
		}
		var sent []messenger.OutgoingMessage
		switch {
		case trimmed == "":
			if se != nil || stanzas != 0 || calls != 0 {
				t.Fatalf("empty body: error %v, %d stanzas and %d Send API calls queued", se, stanzas, calls)
			}
		case !mayAnswerSpec(from):
			if se == nil || se.Condition != "forbidden" || stanzas != 0 || calls != 0 {
				t.Fatalf("stranger %q: error %v, %d stanzas and %d Send API calls queued", from, se, stanzas, calls)
			}
		case command:
			// !close also sends the patron's unavailable presence, first.
			twoOK := name == "transfer" || name == "close"
			if se != nil || calls != 0 || stanzas == 0 || stanzas > 1 && !twoOK || stanzas > 2 {
				t.Fatalf("command %q: error %v, %d stanzas and %d Send API calls queued", trimmed, se, stanzas, calls)
			}
			if name == "close" && stanzas == 2 {
				// (The available presence of the session's start comes first.)
				for p := h.link.nextPresence(t); p.Type != "unavailable"; p = h.link.nextPresence(t) {
				}
				stanzas--
			}
			for i := range stanzas {
				n := h.link.next(t)
				// The answer comes last; a transfer first tells the new owner.
				if n.From.String() != testPSID+"@"+testDomain || n.Body == "" || i == stanzas-1 && !n.To.Equal(sender) {
					t.Fatalf("command %q: stanza %d of %d is %+v", trimmed, i+1, stanzas, n)
				}
			}
		default:
			if se != nil || stanzas != 0 || calls == 0 {
				t.Fatalf("reply: error %v, %d stanzas and %d Send API calls queued", se, stanzas, calls)
			}
			for range calls {
				out := h.api.next(t)
				if out.Recipient != testPSID || out.MessagingType != "RESPONSE" || out.SenderAction != "" {
					t.Errorf("Send API call %+v", out)
				}
				sent = append(sent, out)
			}
			if a := sent[0].Attachment; a != nil {
				// A body that is only a link to a file goes as the file.
				if len(sent) != 1 || sent[0].Text != "" || a.URL != trimmed ||
					strings.ContainsAny(trimmed, " \t\n") || !strings.HasPrefix(strings.ToLower(trimmed), "https://") {
					t.Fatalf("reply %q sent as %+v, attachment %+v", trimmed, sent, *a)
				}
				break
			}
			var parts []string
			for i, out := range sent {
				if out.Attachment != nil || strings.TrimSpace(out.Text) == "" {
					t.Errorf("part %d of %d is %+v", i, len(sent), out)
				}
				if n := utf8.RuneCountInString(out.Text); n >= messenger.MaxTextLength {
					t.Errorf("part %d has %d characters, want < %d", i, n, messenger.MaxTextLength)
				}
				parts = append(parts, out.Text)
			}
			if got, want := nonSpace(strings.Join(parts, "")), nonSpace(trimmed); got != want {
				t.Fatalf("the parts (%d) differ from the reply beyond whitespace:\n got %.200q\nwant %.200q", len(parts), got, want)
			}
		}
		h.close() // stops the loops: nothing more can reach either side
		if n := h.api.callCount(); n != len(sent) {
			t.Fatalf("Send API called %d times, want %d", n, len(sent))
		}
		if len(h.link.ch) != 0 {
			t.Fatalf("stray stanza %+v", <-h.link.ch)
		}
	})
}

// errRollback ends a transaction without committing it.
var errRollback = errors.New("rollback")

func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"!help", "!HELP", "!", "!!", "!!help", "!read 3", "!read 0", "!read 6", "!read 7", "!read", "!read x",
		"!read 1 2", "!read +4", "!read 04", "!read -0", "!read 1e0", "!read ٣", "!read 9223372036854775808",
		"!questions 1", "!questions 99", "!questions 100", "!questions 0", "!questions",
		"!tag hours", "!tags a,b;c,,;", "!tag HOURS hours Hours", "!tag " + strings.Repeat("x", 40) + " " + strings.Repeat("y", 41),
		"!tag İstanbul ΣΊΣΥΦΟΣ ǅ", "!tag \"quoted\" =cmd|' /C calc'!A0", "!tag a\x00b \xff", "!tag",
		"!close", "!close extra", "!transfer ya@chat.library.test", "!transfer bob@library.test", "!transfer ask@chat.library.test",
		"!transfer", "!transfer a b", "!transfer mallory@evil.example", "!transfer library.test", "!transfer @@", "!transfer \xff@library.test",
		"!unknown \x00", "!\u00a0read 3",
	} {
		f.Add(s)
	}
	fb := newFuzzBridge(f)
	cfg := fb.b.config()
	f.Fuzz(func(t *testing.T, s string) {
		// HandleMessage passes only trimmed bodies starting with "!".
		body := strings.TrimSpace(s)
		if !strings.HasPrefix(body, "!") {
			body = "!" + body
		}
		fields := strings.Fields(body)
		name := strings.ToLower(strings.TrimPrefix(fields[0], "!"))
		args := fields[1:]

		err := fb.store.db.Update(func(btx *bolt.Tx) error {
			tx := store.Wrap(btx)
			conv, err := getConversation(tx, testPSID)
			if err != nil || conv == nil {
				t.Fatalf("conversation %v, %v", conv, err)
			}
			before, _, err := getSession(tx, conv.LastSession)
			if err != nil || before == nil {
				t.Fatalf("session %v, %v", before, err)
			}
			reply, err := fb.b.command(tx, cfg, conv, jid.MustParse("alice@library.test"), body)
			if err != nil {
				t.Fatalf("command %q: %v", body, err)
			}
			if strings.TrimSpace(reply) == "" {
				t.Fatalf("command %q: no answer", body)
			}
			after, _, err := getSession(tx, conv.LastSession)
			if err != nil || after == nil {
				t.Fatalf("session after %q: %v, %v", body, after, err)
			}
			checkSession(t, name, args, before, after, conv)
			return errRollback // every input starts from the same state
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	})
}

// checkSession checks what a command did to the session.
func checkSession(t *testing.T, name string, args []string, before, after *stats.Session, conv *Conversation) {
	t.Helper()
	number := func(lo, hi int) (int, bool) {
		if len(args) != 1 {
			return 0, false
		}
		n, err := strconv.Atoi(args[0])
		return n, err == nil && lo <= n && n <= hi
	}
	want := *before
	want.Tags = append([]string(nil), before.Tags...)
	switch name {
	case "read":
		if n, ok := number(1, 6); ok {
			want.ReadLevel = n
		}
	case "questions":
		if n, ok := number(1, 99); ok {
			want.Questions = n
		}
	case "tag", "tags":
		if len(after.Tags) < len(before.Tags) || !slices.Equal(after.Tags[:len(before.Tags)], before.Tags) {
			t.Fatalf("tags %q became %q", before.Tags, after.Tags)
		}
		seen := map[string]bool{}
		for _, tag := range after.Tags {
			if tag == "" || len(tag) > 40 || seen[tag] || strings.ContainsAny(tag, ",;") ||
				strings.IndexFunc(tag, unicode.IsSpace) >= 0 {
				t.Fatalf("bad tag %q in %q", tag, after.Tags)
			}
			seen[tag] = true
		}
		want.Tags = after.Tags
	case "transfer":
		if after.Transfers != before.Transfers && after.Transfers != before.Transfers+1 {
			t.Fatalf("!transfer counted %d transfers after %d", after.Transfers, before.Transfers)
		}
		want.Transfers = after.Transfers
	case "close":
		if conv.Session != "" || conv.Owner != "" {
			t.Fatalf("!close left session %q, owner %q", conv.Session, conv.Owner)
		}
		if after.Ended.IsZero() || after.Status == "" {
			t.Fatalf("!close left the session open: %+v", after)
		}
		want.Ended, want.Status, want.Questions = after.Ended, after.Status, after.Questions
	}
	if !reflect.DeepEqual(*after, want) {
		t.Fatalf("%q %q changed the session\nfrom %+v\n  to %+v\nwant %+v", name, args, *before, *after, want)
	}
}
