package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// TestUpgrade opens a copy of each state directory written by an earlier
// release (testdata/upgrade-schema4 and upgrade-schema5, see
// upgrade_fixture_test.go) and drains it: everything that release had
// queued must be delivered, once and in order, as that release stored
// it, and its sessions and ledger must read back as that release wrote
// them.
func TestUpgrade(t *testing.T) {
	for _, f := range upgradeFixtures {
		t.Run(fmt.Sprintf("schema%d", f.schema), func(t *testing.T) { testUpgradeFrom(t, f) })
	}
}

func testUpgradeFrom(t *testing.T, f upgradeFixture) {
	want := loadUpgradeWant(t, f)
	checkUpgradeStory(t, want)
	dir := t.TempDir()
	for _, name := range upgradeStateFiles {
		data, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedSchema(t, dir); got != f.schema || want.Schema != f.schema {
		t.Fatalf("the fixture's store has schema %d, want.json says %d: not the schema-%d fixture", got, want.Schema, f.schema)
	}

	// A restart a minute after the old release stopped: no session is idle
	// long enough to end yet.
	h := &harness{t: t, dir: dir, link: newFakeLink(), api: newFakeAPI(),
		clock: &clock{t: want.Now.Add(time.Minute)}, fakeTimers: true}
	h.cfg = upgradeConfig(dir)
	h.link.setUp(false)
	h.open()
	t.Cleanup(h.close)

	// Before anything runs, the store reads as the old release read it.
	got := readUpgradeWant(t, h.store, want.Now)
	for name, n := range want.Buckets {
		if got.Buckets[name] != n {
			t.Errorf("bucket %s holds %d keys, want %d", name, got.Buckets[name], n)
		}
	}
	sameJSON(t, "XMPP outbox", got.XMPP, want.XMPP)
	sameJSON(t, "Send API outbox", got.Facebook, want.Facebook)
	sameJSON(t, "dead-letter bucket", got.Parked, want.Parked)
	sameJSON(t, "conversations", got.Conversations, want.Conversations)
	sameJSON(t, "sessions", got.Sessions, want.Sessions)
	sameJSON(t, "ledger", got.Ledger, want.Ledger)
	var export bytes.Buffer
	exportSessions(t, h.store, &export)
	golden, err := os.ReadFile(filepath.Join(f.dir, upgradeExportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(export.Bytes(), golden) {
		t.Errorf("statistics export differs from the old release's:\n got %s\nwant %s", export.Bytes(), golden)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The bridge starts with the link down, and the link comes up, as the
	// component reports it; the Send API answers.
	link := &orderedLink{fakeLink: h.link}
	runOn(h, link)
	waitFor(t, func() bool { return h.b.link.Load() != nil })
	h.link.setUp(true)
	h.b.LinkChanged(true)
	h.settle(t)

	// Every stanza queued is written once, in the order of the outbox (so
	// in order for each patron), as stored, with its stanza id; then the
	// presence of each open session, announced again for the new link.
	queued, direct := link.take()
	if len(queued) < len(want.XMPP) {
		t.Fatalf("%d stanzas written, want the %d queued first", len(queued), len(want.XMPP))
	}
	for i, e := range want.XMPP {
		sameJSON(t, fmt.Sprintf("stanza %d written", i), queued[i], e.Stanza)
	}
	var announced []wantStanza
	for _, c := range want.Conversations {
		if c.Session == "" {
			continue
		}
		// Owner and those offered (broadcast routing); nobody is available
		// yet.
		for _, to := range append([]string{c.Owner}, c.Offered...) {
			if to != "" {
				announced = append(announced, wantStanza{Presence: true, From: patronJID(c.PSID, testDomain).String(), To: to,
					Nick: Nick(channelOf(c.PSID), c.Guest), Status: channelName(c.PSID)})
			}
		}
	}
	checkNew(t, "presence announced again", queued[len(want.XMPP):], announced, "p-")
	// The component asks each librarian for their presence, outside the
	// outbox.
	var asked []string
	for _, s := range direct {
		asked = append(asked, s.To+" "+s.Type)
	}
	if w := []string{upAlice + " probe", upAlice + " subscribe", upBob + " probe", upBob + " subscribe"}; !slices.Equal(asked, w) {
		t.Errorf("presence sent outside the outbox: %q, want %q", asked, w)
	}

	// Every reply queued reaches the Send API once, in order for each
	// patron, as stored.
	calls, tokens := h.api.sent()
	if len(calls) != len(want.Facebook) {
		t.Errorf("%d Send API calls, want %d", len(calls), len(want.Facebook))
	}
	byRecipient := map[messenger.PSID][]messenger.OutgoingMessage{}
	for _, c := range calls {
		byRecipient[c.Recipient] = append(byRecipient[c.Recipient], c)
	}
	wantBy := map[messenger.PSID][]messenger.OutgoingMessage{}
	for _, r := range want.Facebook {
		wantBy[messenger.PSID(r.Recipient)] = append(wantBy[messenger.PSID(r.Recipient)], r.call())
	}
	sameJSON(t, "Send API calls by patron", byRecipient, wantBy)
	for i, tok := range tokens {
		if tok != "page-token" {
			t.Errorf("call %d made with token %q", i, tok)
		}
	}

	// Held messages are offered to the first librarian who comes online,
	// with new stanza ids; one who comes later is told that the patron is
	// waiting.
	held := map[string][]wantStanza{}
	var holding []wantConversation
	for _, c := range want.Conversations {
		if len(c.Held) > 0 {
			held[c.PSID] = c.Held
			holding = append(holding, c)
		}
	}
	offer := func(op string, c wantConversation) []wantStanza {
		patron := patronJID(c.PSID, testDomain)
		out := []wantStanza{{Presence: true, From: patron.String(), To: op, Nick: Nick(channelOf(c.PSID), c.Guest), Status: channelName(c.PSID)}}
		msgs := held[c.PSID]
		if msgs == nil {
			msgs = []wantStanza{{Type: "chat", Body: "[" + Nick(channelOf(c.PSID), c.Guest) + " is waiting for a librarian; reply to answer]"}}
		}
		for _, m := range msgs {
			m.ID, m.From, m.To = "", patron.String(), op
			out = append(out, m)
		}
		return out
	}
	for _, op := range []string{upAliceDesk, upBobLaptop} {
		h.b.HandlePresence(t.Context(), xmpp.Presence{From: jid.MustParse(op), To: jid.MustParse(testDomain)})
		h.settle(t)
		bare := jid.MustParse(op).Bare().String()
		var offered []wantStanza
		for _, c := range holding {
			offered = append(offered, offer(bare, c)...)
		}
		queued, direct := link.take()
		checkNew(t, bare+" coming online", queued, offered, "")
		if len(direct) != 0 {
			t.Errorf("presence sent outside the outbox: %+v", direct)
		}
		held = map[string][]wantStanza{} // offered to the first
	}

	// The parked message, requeued, goes to its librarian with its stanza id.
	if n, err := h.b.RequeueParked(nil); err != nil || n != len(want.Parked) {
		t.Fatalf("requeue: %d, %v; want %d", n, err, len(want.Parked))
	}
	h.settle(t)
	queued, _ = link.take()
	var parked []wantStanza
	for _, p := range want.Parked {
		parked = append(parked, p.Stanza)
	}
	sameJSON(t, "requeued parked entries", queued, parked)

	// Nothing is left in the queues.
	got = readUpgradeWant(t, h.store, want.Now)
	for _, name := range [][]byte{store.BucketInbox, store.BucketToXMPP, store.BucketToFacebook, store.BucketParkedXMPP} {
		if n := got.Buckets[string(name)]; n != 0 {
			t.Errorf("bucket %s holds %d keys after the drain", name, n)
		}
	}

	// The ledger records the deliveries: stanzas sent, replies accepted
	// with Facebook's mid, after one more attempt.
	mids := map[string]string{}
	for i, c := range calls {
		mids[strings.TrimPrefix(c.Metadata, metadataPrefix)] = fmt.Sprintf("m_%d", i+1)
	}
	attempts := map[string]int{}
	for _, r := range want.Facebook {
		attempts[r.Ledger] = r.Attempts
	}
	sent := map[string]bool{}
	for _, e := range want.XMPP {
		sent[e.Ledger] = e.Ledger != ""
	}
	for _, p := range want.Parked {
		sent[p.Ledger] = true
	}
	ledger := slices.Clone(want.Ledger)
	for i := range ledger {
		r := &ledger[i]
		switch {
		case sent[r.Key]:
			r.State = StateSent
		case mids[r.Key] != "":
			r.State, r.MID, r.Attempts = StateAccepted, mids[r.Key], attempts[r.Key]+1
		}
	}
	sameJSON(t, "ledger after the drain", got.Ledger, ledger)

	// Each reply's outcome counts in its session.
	sessions := slices.Clone(want.Sessions)
	for _, r := range want.Facebook {
		for i := range sessions {
			if r.Session != "" && sessions[i].ID == r.Session {
				sessions[i].RepliesDelivered++
			}
		}
	}
	sameJSON(t, "sessions after the drain", got.Sessions, sessions)

	// Conversations hold nothing more; the reply that asked for a read
	// marker awaits it.
	for _, c := range got.Conversations {
		if len(c.Held) > 0 || c.Sealed {
			t.Errorf("conversation %s still holds %d messages (sealed: %v)", c.PSID, len(c.Held), c.Sealed)
		}
	}
	var receipts []string
	for _, r := range want.Facebook {
		if r.ReceiptID != "" {
			receipts = append(receipts, r.PSID+" "+r.ReceiptID)
		}
	}
	var awaiting []string
	for _, c := range want.Conversations {
		conv, err := h.store.Conversation(c.PSID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range conv.Awaiting {
			awaiting = append(awaiting, c.PSID+" "+a.XMPPID)
		}
	}
	if len(receipts) == 0 || !slices.Equal(awaiting, receipts) {
		t.Errorf("awaiting receipts %q, want %q", awaiting, receipts)
	}

	// The open sessions end once idle, as they would have before the
	// upgrade, and the statistics show them.
	h.clock.Advance(h.cfg.Sessions.IdleTimeout + time.Minute)
	open := len(want.Conversations) - countClosed(want)
	// (The session loop may get to some first: how many closeIdle ends
	// is not checked, the sessions are.)
	if _, err := h.b.closeIdle(); err != nil {
		t.Fatal(err)
	}
	h.settle(t)
	farewells, _ := link.take()
	patronsLeft := map[string]bool{}
	for _, s := range farewells {
		if !s.Presence || s.Type != "unavailable" {
			t.Errorf("stanza written as the sessions ended: %+v", s)
		}
		patronsLeft[jid.MustParse(s.From).Localpart()] = true
	}
	if len(patronsLeft) != open {
		t.Errorf("unavailable presence from %d patrons, want %d", len(patronsLeft), open)
	}
	convs := map[string]wantConversation{}
	for _, c := range got.Conversations {
		convs[c.LastSession] = c
	}
	for i := range sessions {
		s := &sessions[i]
		if !s.Open() {
			continue
		}
		s.Ended = convs[s.ID].LastActivity
		switch {
		case !s.Accepted.IsZero():
			s.Status, s.Questions = stats.StatusAnswered, 1
		default:
			s.Status = stats.StatusMissed
		}
	}
	got = readUpgradeWant(t, h.store, want.Now)
	sameJSON(t, "sessions once ended", got.Sessions, sessions)
	export.Reset()
	exportSessions(t, h.store, &export)
	var wantExport bytes.Buffer
	if err := stats.Write(&wantExport, upgradeQuery(t), sessions); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(export.Bytes(), wantExport.Bytes()) {
		t.Errorf("statistics export once the sessions ended:\n got %s\nwant %s", export.Bytes(), wantExport.Bytes())
	}
	for _, name := range [][]byte{store.BucketInbox, store.BucketToXMPP, store.BucketToFacebook, store.BucketParkedXMPP, store.BucketOpen} {
		if n := got.Buckets[string(name)]; n != 0 {
			t.Errorf("bucket %s holds %d keys at the end", name, n)
		}
	}
}

// checkUpgradeStory checks that want.json tells the story the generator
// wrote, so that a comparison with it proves something.
func checkUpgradeStory(t *testing.T, w *upgradeWant) {
	t.Helper()
	var igText []string
	patrons := map[string]bool{}
	for _, e := range w.XMPP {
		if e.Stanza.From == patronJID(upIG, testDomain).String() && strings.HasPrefix(e.Stanza.ID, stanzaID(&messenger.Event{
			Kind: messenger.KindMessage, Page: testPage, MID: "ig_m_2"})) {
			igText = append(igText, e.Stanza.Body)
		}
		patrons[jid.MustParse(e.Stanza.From).Localpart()] = true
	}
	if len(igText) < 2 || strings.Join(igText, " ") != upLongIG {
		t.Errorf("the Instagram patron's long text is queued in %d parts that do not add up to it", len(igText))
	}
	if !patrons[upP1] || !patrons[upIG] {
		t.Errorf("stanzas queued from %v, want both a Messenger and an Instagram patron", patrons)
	}
	var reply []string
	for i, r := range w.Facebook {
		if strings.HasPrefix(r.Text, "Renewals by phone:") {
			for _, part := range w.Facebook[i:min(i+3, len(w.Facebook))] {
				reply = append(reply, part.Text)
			}
		}
	}
	if strings.Join(reply, " ") != upLongReply {
		t.Errorf("the long reply is not queued in the 3 parts that make it up: %q", reply)
	}
	convs := map[string]bool{}
	tried := 0
	for _, r := range w.Facebook {
		convs[r.PSID] = true
		if r.Attempts > 0 {
			tried++
		}
	}
	if len(convs) < 3 || tried != len(convs) {
		t.Errorf("replies queued for %d conversations, %d of them tried once", len(convs), tried)
	}
	held := 0
	for _, c := range w.Conversations {
		held += len(c.Held)
		if len(c.Held) > 0 && !c.Sealed {
			t.Errorf("conversation %s holds messages in the clear", c.PSID)
		}
	}
	if held < 3 || len(w.Parked) != 1 || w.Parked[0].Stanza.Body != upPoison || w.Parked[0].Reason != reasonTooLarge {
		t.Errorf("%d held messages, parked %+v", held, w.Parked)
	}
	statuses := map[stats.Status]int{}
	for _, s := range w.Sessions {
		statuses[s.Status]++
	}
	if statuses[stats.StatusAnswered] != 1 || statuses[stats.StatusMissed] != 2 || statuses[""] != 4 {
		t.Errorf("sessions by status: %v", statuses)
	}
	if w.Buckets["inbox"] != 0 {
		// This release routes events in the webhook's commit unless a
		// backlog waits, and never makes one: it cannot leave an event.
		t.Errorf("the fixture's inbox holds %d events", w.Buckets["inbox"])
	}
}

func countClosed(w *upgradeWant) int {
	n := 0
	for _, c := range w.Conversations {
		if c.Session == "" {
			n++
		}
	}
	return n
}

// loadUpgradeWant reads the fixture's want.json.
func loadUpgradeWant(t *testing.T, f upgradeFixture) *upgradeWant {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, upgradeWantFile))
	if err != nil {
		t.Fatal(err)
	}
	var w upgradeWant
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("%s: %v", upgradeWantFile, err)
	}
	return &w
}

// storedSchema reads the schema version of the store in dir without
// changing the file.
func storedSchema(t *testing.T, dir string) int {
	t.Helper()
	db, err := bolt.Open(StorePath(dir), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := 0
	err = db.View(func(btx *bolt.Tx) error {
		tx := store.Wrap(btx)
		meta := tx.Bolt().Bucket(store.BucketMeta)
		if meta == nil {
			return fmt.Errorf("no %s bucket", store.BucketMeta)
		}
		if v := meta.Get([]byte("schema")); len(v) == 8 {
			schema = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// checkNew checks stanzas the bridge made after the upgrade: as want, but
// for stanza ids, which are new (starting with prefix, when given) and
// unique.
func checkNew(t *testing.T, what string, got, want []wantStanza, prefix string) {
	t.Helper()
	ids := map[string]bool{}
	stripped := make([]wantStanza, len(got))
	for i, s := range got {
		if s.ID == "" || ids[s.ID] || !strings.HasPrefix(s.ID, prefix) {
			t.Errorf("%s: stanza %d has id %q", what, i, s.ID)
		}
		ids[s.ID] = true
		s.ID = ""
		stripped[i] = s
	}
	sameJSON(t, what, stripped, want)
}

// sameJSON reports a difference between got and want, compared as JSON:
// the first line that differs, with the lines before it.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := jsonOf(got), jsonOf(want)
	if g == w {
		return
	}
	gl, wl := strings.Split(g, "\n"), strings.Split(w, "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	line := func(l []string, i int) string {
		var out []string
		for _, x := range l[min(i, len(l)):min(i+2, len(l))] {
			out = append(out, excerpt(x, 160))
		}
		if len(out) == 0 {
			return "(end)"
		}
		return strings.Join(out, " ")
	}
	var ctx strings.Builder
	for _, l := range gl[max(0, i-4):i] {
		ctx.WriteString("\n      " + excerpt(l, 160))
	}
	t.Errorf("%s differs at line %d:%s\n got %s\nwant %s", what, i+1, ctx.String(), line(gl, i), line(wl, i))
}

func jsonOf(v any) string {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(data)
}

// runOn runs h's bridge on link instead of h.link.
func runOn(h *harness, link Link) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.b.Run(ctx, link) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.stop = nil
	}
}

// orderedLink is a fakeLink that logs every stanza it writes, in order,
// messages and presences alike.
type orderedLink struct {
	*fakeLink
	mu sync.Mutex
	// queued holds what came through SendBatch (the outbox), direct what
	// came through SendPresence.
	queued, direct []wantStanza
}

func (l *orderedLink) SendBatch(stanzas []xmpp.Stanza) ([]error, error) {
	for _, s := range stanzas {
		var err error
		var w wantStanza
		switch s := s.(type) {
		case xmpp.Message:
			err, w = l.fakeLink.Send(s), messageStanza(s)
		case xmpp.Presence:
			err, w = l.fakeLink.SendPresence(s), presenceStanza(s)
		}
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.queued = append(l.queued, w)
		l.mu.Unlock()
	}
	return nil, nil
}

func (l *orderedLink) SendPresence(p xmpp.Presence) error {
	if err := l.fakeLink.SendPresence(p); err != nil {
		return err
	}
	l.mu.Lock()
	l.direct = append(l.direct, presenceStanza(p))
	l.mu.Unlock()
	return nil
}

// take returns what the link wrote since the last take.
func (l *orderedLink) take() (queued, direct []wantStanza) {
	l.mu.Lock()
	defer l.mu.Unlock()
	queued, direct = l.queued, l.direct
	l.queued, l.direct = nil, nil
	return queued, direct
}

// sent returns the Send API calls made so far, and the token of each.
func (a *fakeAPI) sent() ([]messenger.OutgoingMessage, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls), slices.Clone(a.tokens)
}
