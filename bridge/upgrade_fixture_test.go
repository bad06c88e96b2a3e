package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// This file writes testdata/upgrade-schema<N>: the state directory of a
// running askbridge of schema N, with messages waiting in every queue, for
// TestUpgrade (upgrade_test.go) to open and drain with the code
// of the day. The fixture is written once, by the release whose store it
// stands for, and committed; regenerating it with a later release would
// test nothing. See testdata/upgrade-schema4/README.md.

// upgradeFixtureEnv names the directory TestWriteUpgradeFixture writes the
// fixture to; unset, the generator is skipped.
const upgradeFixtureEnv = "ASKBRIDGE_WRITE_UPGRADE_FIXTURE"

// upgradeFixture is a committed fixture: its directory and the store
// schema the release that wrote it had.
type upgradeFixture struct {
	dir    string
	schema int
}

// upgradeFixtures are the committed fixtures, oldest first. Each schema
// gets its own, written by the last release of that schema.
var upgradeFixtures = []upgradeFixture{
	{"testdata/upgrade-schema4", 4},
	{"testdata/upgrade-schema5", 5},
}

// The fixture's files: the state directory's (what OpenStore and
// LoadPseudonymizer need), then what the generator knew it had queued.
var (
	upgradeStateFiles = []string{"askbridge.db", filepath.Base(store.QueueKeysPath("")), pseudonymKeyFile}
	upgradeWantFile   = "want.json"
	upgradeExportFile = "sessions.csv"
)

// upgradeStart is the generator's clock when it starts writing.
var upgradeStart = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// The fixture's patrons (Messenger PSIDs, and the Instagram patron's key)
// and librarians.
const (
	// upP1 was answered and closed, then wrote again: replies to it wait.
	upP1 = testPSID
	// upP2's message was parked as too large, its session missed; its next
	// message is held.
	upP2 = "2718281828459045"
	// upP3 wrote while nobody was available: held.
	upP3 = "3141592653589793"
	// upP4 was never answered: a missed session.
	upP4 = "1618033988749894"
	// upIG writes on Instagram, one long text among its messages.
	upIG = instagramPrefix + testIGSID

	upAlice     = "alice@library.test"
	upAliceDesk = upAlice + "/desk"
	upBob       = "bob@library.test"
	upBobLaptop = upBob + "/laptop"
)

// Texts of the fixture.
const (
	upGreeting = "Hello! A librarian will be with you in a moment."
	// upPoison is the text the generator's link refuses as too large, so
	// that it is parked.
	upPoison    = "Here is the photo of my overdue notice, can you read it?"
	upRenewURL  = "https://library.test/renew-by-phone.png"
	upImageURL  = "https://scontent.example/notice.jpg"
	upAnswerBob = "Yes, Saturday at 2 pm in the makerspace. Bring your own scissors!"
)

// upLongIG is the Instagram patron's long text, split into several
// stanzas under the fixture's xmpp.max_stanza_bytes.
var upLongIG = func() string {
	var b strings.Builder
	b.WriteString("Here is our book club's list for the spring, can you tell me which ones you have?")
	for i := 1; b.Len() < 7000; i++ {
		fmt.Fprintf(&b, " %d. «Title number %d» by Author %d — paperback or large print, & ideally <two> copies.", i, i, i)
	}
	return b.String()
}()

// upLongReply is a librarian's reply longer than the Send API takes in one
// message: it is queued in parts.
var upLongReply = func() string {
	var b strings.Builder
	b.WriteString("Renewals by phone:")
	for i := 1; b.Len() < 4500; i++ {
		fmt.Fprintf(&b, " Step %d: have your card number ready and say the title of item %d.", i, i)
	}
	return b.String()
}()

// upgradeConfig is the configuration the fixture was written, and is
// drained, with: one Page with a linked Instagram account, broadcast
// routing between two librarians (so that messages can be held), a small
// stanza limit (so that a long text is split) and a greeting.
func upgradeConfig(dir string) *config.Config {
	c := testConfig(dir)
	c.Messenger.Pages[0].InstagramID = testInstagram
	c.XMPP.Operators = []string{upAlice, upBob}
	c.XMPP.Routing = "broadcast"
	c.XMPP.MaxStanzaBytes = config.MinStanzaBytes
	c.Sessions.Greeting = upGreeting
	c.Sessions.DiscloseAutomatic = true
	return c
}

// upgradeWant is what the generator left in the store, read with the
// release that wrote it (want.json). Its types are its own, so that it
// reads the same whatever later releases make of the store's types.
type upgradeWant struct {
	// Schema is the store schema; Now the generator's clock when it
	// stopped.
	Schema int       `json:"schema"`
	Now    time.Time `json:"now"`
	// Buckets counts the keys of each bucket.
	Buckets map[string]int `json:"buckets"`
	// XMPP is the XMPP outbox, oldest first.
	XMPP []wantEntry `json:"out_xmpp"`
	// Facebook is the Send API outbox in key order: by patron, oldest
	// first.
	Facebook []wantReply `json:"out_facebook"`
	// Parked is the dead-letter bucket.
	Parked        []wantParked       `json:"dead_xmpp"`
	Conversations []wantConversation `json:"conversations"`
	Sessions      []stats.Session    `json:"sessions"`
	Ledger        []wantRecord       `json:"ledger"`
}

// wantStanza is a message or presence stanza.
type wantStanza struct {
	Presence          bool   `json:"presence,omitempty"`
	ID                string `json:"id"`
	From              string `json:"from,omitempty"`
	To                string `json:"to,omitempty"`
	Type              string `json:"type,omitempty"`
	Body              string `json:"body,omitempty"`
	Thread            string `json:"thread,omitempty"`
	Nick              string `json:"nick,omitempty"`
	OOB               string `json:"oob,omitempty"`
	ChatState         string `json:"chat_state,omitempty"`
	ReceiptRequest    bool   `json:"receipt_request,omitempty"`
	ReceiptFor        string `json:"receipt_for,omitempty"`
	Markable          bool   `json:"markable,omitempty"`
	DisplayedFor      string `json:"displayed_for,omitempty"`
	MarkerReceivedFor string `json:"marker_received_for,omitempty"`
	Replace           string `json:"replace,omitempty"`
	NoStore           bool   `json:"no_store,omitempty"`
	Show              string `json:"show,omitempty"`
	Status            string `json:"status,omitempty"`
	Priority          int    `json:"priority,omitempty"`
}

func messageStanza(m xmpp.Message) wantStanza {
	return wantStanza{ID: m.ID, From: m.From.String(), To: m.To.String(), Type: m.Type, Body: m.Body, Thread: m.Thread, Nick: m.Nick,
		OOB: m.OOB, ChatState: m.ChatState, ReceiptRequest: m.ReceiptRequest, ReceiptFor: m.ReceiptFor,
		Markable: m.Markable, DisplayedFor: m.DisplayedFor, MarkerReceivedFor: m.MarkerReceivedFor,
		Replace: m.Replace, NoStore: m.NoStore}
}

func presenceStanza(p xmpp.Presence) wantStanza {
	return wantStanza{Presence: true, ID: p.ID, From: p.From.String(), To: p.To.String(), Type: p.Type, Nick: p.Nick,
		Show: p.Show, Status: p.Status, Priority: p.Priority}
}

func entryStanza(e xmppEntry) wantStanza {
	if e.Presence != nil {
		return presenceStanza(*e.Presence)
	}
	return messageStanza(e.Msg)
}

// wantEntry is an XMPP outbox entry.
type wantEntry struct {
	Key    uint64     `json:"key"`
	Stanza wantStanza `json:"stanza"`
	// Ledger is the hex key of its ledger record.
	Ledger string `json:"ledger,omitempty"`
	Tries  int    `json:"tries,omitempty"`
}

// wantReply is a Send API outbox entry.
type wantReply struct {
	PSID          string          `json:"psid"`
	Seq           uint64          `json:"seq"`
	Page          string          `json:"page"`
	Recipient     string          `json:"recipient"`
	MessagingType string          `json:"messaging_type,omitempty"`
	Tag           string          `json:"tag,omitempty"`
	Text          string          `json:"text,omitempty"`
	Metadata      string          `json:"metadata,omitempty"`
	Attachment    *wantAttachment `json:"attachment,omitempty"`
	Ledger        string          `json:"ledger,omitempty"`
	Notify        string          `json:"notify"`
	Patron        string          `json:"patron"`
	Attempts      int             `json:"attempts,omitempty"`
	ReceiptID     string          `json:"receipt_id,omitempty"`
	Receipt       bool            `json:"receipt,omitempty"`
	Markable      bool            `json:"markable,omitempty"`
	Session       string          `json:"session,omitempty"`
}

type wantAttachment struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

func replyOf(psid string, seq uint64, e *fbEntry) wantReply {
	r := wantReply{PSID: psid, Seq: seq, Page: e.Page, Recipient: string(e.Msg.Recipient), MessagingType: e.Msg.MessagingType,
		Tag: e.Msg.Tag, Text: e.Msg.Text, Metadata: e.Msg.Metadata, Ledger: hex.EncodeToString(e.Ledger),
		Notify: e.Notify, Patron: e.Patron, Attempts: e.Attempts, ReceiptID: e.ReceiptID, Receipt: e.Receipt,
		Markable: e.Markable, Session: e.Session}
	if a := e.Msg.Attachment; a != nil {
		r.Attachment = &wantAttachment{Type: a.Type, URL: a.URL}
	}
	return r
}

// call is the Send API call the entry makes.
func (r wantReply) call() messenger.OutgoingMessage {
	m := messenger.OutgoingMessage{Recipient: messenger.PSID(r.Recipient), MessagingType: r.MessagingType, Tag: r.Tag,
		Text: r.Text, Metadata: r.Metadata}
	if r.Attachment != nil {
		m.Attachment = &messenger.Attachment{Type: r.Attachment.Type, URL: r.Attachment.URL}
	}
	return m
}

// wantParked is a dead-letter entry.
type wantParked struct {
	Key      uint64     `json:"key"`
	Stanza   wantStanza `json:"stanza"`
	Ledger   string     `json:"ledger,omitempty"`
	Reason   string     `json:"reason"`
	Failures int        `json:"failures,omitempty"`
}

// wantConversation is a conversation record.
type wantConversation struct {
	PSID         string       `json:"psid"`
	Page         string       `json:"page"`
	Guest        string       `json:"guest"`
	LastPatron   time.Time    `json:"last_patron"`
	LastActivity time.Time    `json:"last_activity"`
	Owner        string       `json:"owner,omitempty"`
	Session      string       `json:"session,omitempty"`
	LastSession  string       `json:"last_session,omitempty"`
	Recent       []string     `json:"recent,omitempty"`
	Unanswered   string       `json:"unanswered,omitempty"`
	Offered      []string     `json:"offered,omitempty"`
	Held         []wantStanza `json:"held,omitempty"`
	Sealed       bool         `json:"sealed,omitempty"`
}

func conversationOf(c *Conversation, sealed bool) wantConversation {
	w := wantConversation{PSID: c.PSID, Page: c.Page, Guest: c.Guest, LastPatron: c.LastPatron.UTC(), LastActivity: c.LastActivity.UTC(),
		Owner: c.Owner, Session: c.Session, LastSession: c.LastSession, Recent: c.Recent, Unanswered: c.Unanswered,
		Offered: c.Offered, Sealed: sealed}
	for _, m := range c.Held {
		w.Held = append(w.Held, messageStanza(m))
	}
	return w
}

// wantRecord is a ledger record with its key.
type wantRecord struct {
	Key       string            `json:"key"`
	Time      time.Time         `json:"t"`
	Direction string            `json:"dir"`
	Kind      string            `json:"kind"`
	Page      string            `json:"page"`
	Guest     string            `json:"guest"`
	MID       string            `json:"mid,omitempty"`
	XMPPID    string            `json:"xid,omitempty"`
	Operator  string            `json:"op,omitempty"`
	State     string            `json:"state"`
	Error     string            `json:"err,omitempty"`
	Attempts  int               `json:"attempts,omitempty"`
	Text      string            `json:"text,omitempty"`
	Copies    map[string]string `json:"copies,omitempty"`
}

func recordOf(key []byte, r *Record) wantRecord {
	return wantRecord{Key: hex.EncodeToString(key), Time: r.Time.UTC(), Direction: string(r.Direction), Kind: r.Kind, Page: r.Page,
		Guest: r.Guest, MID: r.MID, XMPPID: r.XMPPID, Operator: r.Operator, State: r.State, Error: r.Error,
		Attempts: r.Attempts, Text: r.Text, Copies: r.Copies}
}

// TestWriteUpgradeFixture writes the upgrade fixture, with the code of
// the day, into the directory $ASKBRIDGE_WRITE_UPGRADE_FIXTURE (see
// testdata/upgrade-schema4/README.md), for the last release of its
// schema: the fixture is testdata/upgrade-schema<N>. Everything goes through the
// bridge's API, with the fake link and Send API: first a history with the
// link up (sessions answered, closed and missed, a message parked), then,
// with the link down and the Send API failing, messages that stay queued.
func TestWriteUpgradeFixture(t *testing.T) {
	out := os.Getenv(upgradeFixtureEnv)
	if out == "" {
		t.Skipf("writes the upgrade fixture only when told: %s=DIR go test ./bridge -run TestWriteUpgradeFixture", upgradeFixtureEnv)
	}
	for _, f := range upgradeFixtures {
		if f.schema == store.SchemaVersion {
			t.Fatalf("the fixture %s already stands for schema %d: it must keep what the release of that schema wrote", f.dir, f.schema)
		}
	}
	if _, err := os.Stat(filepath.Join(out, upgradeStateFiles[0])); err == nil {
		t.Fatalf("%s already holds a store: the committed fixture is not rewritten by mistake; remove it first", out)
	}
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, link: newFakeLink(), api: newFakeAPI(), clock: &clock{t: upgradeStart}}
	h.cfg = upgradeConfig(dir)
	h.link.tooLarge = upPoison
	// Facebook waits never end: a Send API call that fails is not retried
	// while the generator runs, so that each conversation's first reply
	// keeps one attempt and the others none.
	h.after = func(time.Duration) <-chan time.Time { return nil }
	h.open()
	t.Cleanup(h.close)
	h.run()
	g := &fixtureWriter{h: h}
	g.history()
	calls := h.api.callCount()
	g.backlog()
	// One call for the first entry of each conversation with replies; the
	// rest wait behind it.
	waitFor(t, func() bool { return h.api.callCount() == calls+4 })
	h.stop()
	if n := h.api.callCount(); n != calls+4 {
		t.Fatalf("%d Send API calls while the backlog was written, want 4", n-calls)
	}
	if err := h.store.Compact(); err != nil {
		t.Fatal(err)
	}
	want := readUpgradeWant(t, h.store, h.clock.Now())
	var export bytes.Buffer
	exportSessions(t, h.store, &export)
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	h.store = nil
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range upgradeStateFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.MarshalIndent(want, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, upgradeWantFile), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, upgradeExportFile), export.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("fixture written to %s: buckets %v", out, want.Buckets)
}

// fixtureWriter plays the fixture's story on a running bridge.
type fixtureWriter struct {
	h *harness
	n int // librarian stanzas sent
}

// at sets the clock to d after upgradeStart.
func (g *fixtureWriter) at(d time.Duration) {
	g.h.t.Helper()
	now := g.h.clock.Now()
	if want := upgradeStart.Add(d); want.After(now) {
		g.h.clock.Advance(want.Sub(now))
	}
}

// patron accepts a message from a Messenger patron, or from the Instagram
// one.
func (g *fixtureWriter) patron(key, mid, text string) messenger.Event {
	e := messenger.Event{Kind: messenger.KindMessage, Page: testPage, Patron: messenger.PSID(key),
		Time: g.h.clock.Now(), MID: messenger.MID(mid), Text: text}
	if strings.HasPrefix(key, instagramPrefix) {
		e.Channel, e.Page, e.Patron = messenger.ChannelInstagram, testInstagram, messenger.PSID(recipientOf(key))
	}
	return e
}

func (g *fixtureWriter) accept(e messenger.Event) { g.h.accept(e) }

// says sends a librarian's stanza to a patron's JID.
func (g *fixtureWriter) says(from, key string, m xmpp.Message) {
	g.h.t.Helper()
	g.n++
	m.ID = fmt.Sprintf("lib-%d", g.n)
	m.From, m.To, m.Type = jid.MustParse(from), patronJID(key, testDomain), "chat"
	if e := g.h.b.HandleMessage(context.Background(), m); e != nil {
		g.h.t.Fatalf("%s to %s: %q refused: %v", from, key, m.Body, e)
	}
}

func (g *fixtureWriter) reply(from, key, body string) { g.says(from, key, xmpp.Message{Body: body}) }

// presence sends an operator's presence to the component.
func (g *fixtureWriter) presence(from, typ string) {
	g.h.b.HandlePresence(context.Background(), xmpp.Presence{From: jid.MustParse(from), To: jid.MustParse(testDomain), Type: typ})
}

// history writes, with the link up and the Send API answering, what has
// been delivered already.
func (g *fixtureWriter) history() {
	h := g.h
	t := h.t
	g.presence(upAliceDesk, "")
	g.accept(g.patron(upP4, "m_p4_1", "Are you open on Easter Monday?"))
	h.settle(t)
	g.at(time.Minute)
	g.accept(g.patron(upP1, "m_p1_1", "When do you open on Saturday?"))
	h.settle(t)
	g.at(2 * time.Minute)
	g.reply(upAliceDesk, upP1, "We open at 10 on Saturdays, until 5.")
	h.settle(t)
	g.at(3 * time.Minute)
	h.api.failWith(&messenger.GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException",
		Message: "(#10) This message is sent outside of allowed window."})
	g.reply(upAliceDesk, upP1, "And here are the holiday hours: closed on the 6th.")
	h.settle(t)
	g.at(4 * time.Minute)
	g.accept(g.patron(upP1, "m_p1_2", "Thanks!"))
	h.settle(t)
	g.at(5 * time.Minute)
	g.reply(upAliceDesk, upP1, "!tag hours")
	g.reply(upAliceDesk, upP1, "!read 2")
	g.reply(upAliceDesk, upP1, "!close")
	h.settle(t)
	g.at(6 * time.Minute)
	g.accept(g.patron(upP2, "m_p2_1", upPoison))
	h.settle(t)
	waitFor(t, func() bool { n, err := h.b.ParkedCount(); return err == nil && n == 1 })
	// Nobody answered upP4 or upP2: their sessions end missed.
	g.at(45 * time.Minute)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.settle(t)
}

// backlog writes, with the link down and the Send API failing for now,
// what the fixture holds queued.
func (g *fixtureWriter) backlog() {
	h := g.h
	h.link.setUp(false)
	h.b.LinkChanged(false)
	for range 10 {
		h.api.failWith(&messenger.GraphError{HTTPStatus: 503, Code: 2, Type: "OAuthException",
			Message: "An unexpected error has occurred. Please retry your request later.", IsTransient: true})
	}
	g.at(60 * time.Minute)
	g.accept(g.patron(upP1, "m_p1_3", "One more question: can I renew a book by phone?"))
	g.at(61 * time.Minute)
	g.reply(upAliceDesk, upP1, "Yes: call 555-0100 and have your card number ready.")
	g.at(62 * time.Minute)
	img := g.patron(upP1, "m_p1_4", "")
	img.Attachments = []messenger.Attachment{{Type: "image", URL: upImageURL}}
	g.accept(img)
	g.at(63 * time.Minute)
	g.says(upAliceDesk, upP1, xmpp.Message{Body: upLongReply, Markable: true, ReceiptRequest: true})
	g.at(64 * time.Minute)
	g.says(upAliceDesk, upP1, xmpp.Message{Body: upRenewURL, OOB: upRenewURL})
	g.at(65 * time.Minute)
	g.accept(g.patron(upIG, "ig_m_1", "hi! is the zine workshop on this Saturday?"))
	g.at(66 * time.Minute)
	g.accept(g.patron(upIG, "ig_m_2", upLongIG))
	g.at(67 * time.Minute)
	g.reply(upBobLaptop, upIG, upAnswerBob)
	// Nobody is available from now on: what patrons write is held.
	g.at(68 * time.Minute)
	g.presence(upAliceDesk, "unavailable")
	g.at(69 * time.Minute)
	g.accept(g.patron(upP3, "m_p3_1", "Do you have The Left Hand of Darkness?"))
	g.at(70 * time.Minute)
	g.accept(g.patron(upP3, "m_p3_2", "(the Le Guin one)"))
	g.at(71 * time.Minute)
	g.accept(g.patron(upP2, "m_p2_2", "hello? is anyone there?"))
}

// readUpgradeWant reads, with the code of the day, what the store holds.
func readUpgradeWant(t *testing.T, st *Store, now time.Time) *upgradeWant {
	t.Helper()
	w := &upgradeWant{Schema: store.SchemaVersion, Now: now.UTC(), Buckets: map[string]int{}}
	err := st.view(func(tx *store.Tx) error {
		for _, name := range store.Buckets {
			w.Buckets[string(name)] = tx.Bolt().Bucket(name).Stats().KeyN
		}
		if v := tx.Bolt().Bucket(store.BucketMeta).Get([]byte("schema")); len(v) == 8 {
			w.Schema = int(binary.BigEndian.Uint64(v))
		}
		err := tx.Bolt().Bucket(store.BucketToXMPP).ForEach(func(k, v []byte) error {
			e, err := tx.XMPPOutbox().Decode(v)
			if err != nil {
				return fmt.Errorf("XMPP outbox entry %x: %w", k, err)
			}
			w.XMPP = append(w.XMPP, wantEntry{Key: binary.BigEndian.Uint64(k), Stanza: entryStanza(*e),
				Ledger: hex.EncodeToString(e.Ledger), Tries: e.Tries})
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bolt().Bucket(store.BucketToFacebook).ForEach(func(k, v []byte) error {
			e, err := tx.FacebookOutbox().Decode(v)
			if err != nil {
				return fmt.Errorf("Send API outbox entry %x: %w", k, err)
			}
			i := bytes.IndexByte(k, 0)
			w.Facebook = append(w.Facebook, replyOf(string(k[:i]), binary.BigEndian.Uint64(k[i+1:]), e))
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bolt().Bucket(store.BucketParkedXMPP).ForEach(func(k, v []byte) error {
			var p parkedEntry
			if err := store.OpenJSON(tx.Bolt(), v, &p); err != nil {
				return fmt.Errorf("parked entry %x: %w", k, err)
			}
			w.Parked = append(w.Parked, wantParked{Key: binary.BigEndian.Uint64(k), Stanza: entryStanza(p.Entry),
				Ledger: hex.EncodeToString(p.Entry.Ledger), Reason: p.Reason, Failures: p.Failures})
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bolt().Bucket(store.BucketConversations).ForEach(func(k, v []byte) error {
			c, err := tx.Conversations().Decode(v)
			if err != nil {
				return fmt.Errorf("conversation %s: %w", k, err)
			}
			w.Conversations = append(w.Conversations, conversationOf(c, store.IsSealed(v)))
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bolt().Bucket(store.BucketLedger).ForEach(func(k, v []byte) error {
			var r Record
			if err := store.DecodeRecord(v, &r); err != nil {
				return fmt.Errorf("ledger record %x: %w", k, err)
			}
			w.Ledger = append(w.Ledger, recordOf(k, &r))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Sessions, err = st.Sessions(time.Time{}, upgradeStart.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Sessions {
		w.Sessions[i] = utcSession(w.Sessions[i])
	}
	return w
}

// utcSession returns s with its times in UTC, so that sessions compare
// by instant.
func utcSession(s stats.Session) stats.Session {
	s.Started, s.Accepted, s.Ended = s.Started.UTC(), s.Accepted.UTC(), s.Ended.UTC()
	return s
}

// upgradeQuery is the statistics export the fixture's sessions are
// compared by: every session of March 2026, the "sessions" report as CSV.
func upgradeQuery(t *testing.T) stats.Query {
	t.Helper()
	q, err := stats.ParseQuery("2026-03-01", "2026-03-31", "sessions", "csv", "UTC", true, true, 0, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	q.PageNames = map[string]string{testPage: "Central"}
	return q
}

// exportSessions writes the statistics export of the store's sessions as
// `askbridge stats export` does (admin.Export).
func exportSessions(t *testing.T, st *Store, w *bytes.Buffer) {
	t.Helper()
	q := upgradeQuery(t)
	e, err := stats.NewExporter(w, q)
	if err != nil {
		t.Fatal(err)
	}
	from, to := q.Range()
	if err := st.ForEachSession(from, to, e.Add); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}
