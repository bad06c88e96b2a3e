package bridge

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// A year of service of a busy consortium, simulated on a real store
// through the bridge's own functions, to measure what the store costs per
// bridged message and how large it grows.
//
// The traffic (yearMix, simulateYear):
//
//   - 200,000 conversations (a patron's question and its answer) in 365
//     days, about 550 a day: 12 member libraries' Facebook Pages, 15 % of
//     the conversations on their linked Instagram accounts, answered from
//     one shared queue by 30 librarians. Weekdays carry the most (Monday to
//     Thursday weight 1, Friday 0.85, Saturday 0.45, Sunday 0.35), and
//     conversations start while the queue is staffed (office hours
//     mon-fri 09:00–21:00, sat 10:00–17:00, sun 12:00–17:00, in
//     America/Toronto), spread evenly.
//   - Each conversation is 4 patron messages and 3 librarian replies,
//     alternating: question, first answer, clarification, a question
//     back, follow-up, the answer, "thanks". That is a short reference
//     exchange with one round of clarification, the kind a chat queue
//     mostly sees; the patron has the last word, and every message is one
//     ledger record. Texts of 6–320 characters; gaps of 1–10 minutes
//     between the turns, so sessions of about 10–40 minutes.
//   - How it ends: 60 % the "thanks" comes and the librarian types !close;
//     15 % the librarian forgets to close and the session ends after
//     sessions.idle_timeout (30 minutes); 20 % the librarian closes after the
//     answer and the "thanks" comes 3–10 minutes later, which reopens the
//     session (sessions.followup_grace, 15 minutes), then it idles out;
//     5 % the "thanks" comes 2–3 days after !close, which by the design's
//     rules starts a new session, which nobody answers (missed, or
//     after_hours when it came outside office hours). No conversation
//     starts outside office hours.
//   - Around the messages, what Messenger and the librarians' clients send
//     besides: a read event before each of the patron's later messages
//     (replies are markable, so each read becomes a displayed marker for
//     the librarian), and the echo of every reply the bridge sent.
//     Message IDs have Meta's lengths (88 characters on Messenger, 118 on
//     Instagram), librarians' stanza ids are UUIDs.
//   - Production defaults otherwise (config.Read with no file), except
//     privacy.transcripts, on where the benchmark says so: then message
//     text is kept for transcript_retention (720 hours) and purged.
//
// Each step goes through the functions the daemon runs for it, with the
// bridge's clock (Options.Now) set to the simulated time:
//
//   - webhook POSTs: Bridge.Accept (deduplication marks, and, the inbox
//     being empty, routing in the same commit: conversation, session,
//     open-session index, ledger record and references, XMPP outbox entry);
//   - the XMPP outbox: its owner's read of the outbox (xmppQueue.load) and
//     the commit it makes once the Jabber server confirmed the stanzas
//     (Bridge.removeSent: entries removed, ledger records marked sent);
//   - librarians' messages: Bridge.HandleMessage, one at a time as the
//     component hands them over (replies, and !close);
//   - the Send API outbox: its owner's read (fbQueue.load) and, per
//     conversation in parallel as its senders run, Bridge.sendFacebook
//     against a Send API stand-in (attempt mark, call, removal with the
//     delivery state, the reply's outcome in its session, the receipt
//     awaited);
//   - idle sessions: Bridge.closeIdle (the session loop's check), at the
//     minute a session falls idle;
//   - maintenance: Bridge.maintain, the daemon's maintenance pass (queue
//     keys, deduplication marks, PSIDs, transcripts, references, and the
//     compaction it makes due), once a simulated day at 04:00.
//
// Activity is simulated minute by minute: what happens in one minute is
// one webhook POST (Facebook batches events under load), the librarians'
// messages one by one, the Send API calls, one confirmation of the XMPP
// outbox. BoltDB's fsync is turned off (bolt.DB.NoSync) for the
// simulation's commits, not for the compactions' copies: the bytes written,
// and so every size measured, are the same, and the 5–6 million commits of
// a year do not wait for the shared disk twice each.

// yearMix is the traffic of a simulated year (see above).
type yearMix struct {
	// Conversations over Days, the first starting on Start's day.
	Conversations int
	Days          int
	Start         time.Time
	// Transcripts turns privacy.transcripts on; Retention, if set,
	// replaces privacy.transcript_retention.
	Transcripts bool
	Retention   time.Duration
	// Seed makes the traffic repeatable.
	Seed uint64
}

// yearFigures is what simulateYear measured.
type yearFigures struct {
	// Messages counts bridged messages (patron messages and librarian
	// replies); Sessions the sessions the traffic makes by the design's
	// rules.
	Messages, Sessions int
	// EndBytes is the store file's size at the end of the period,
	// CompactedBytes after Store.Compact, and CompactedData the part of it
	// up to the last page in use (BoltDB grows the file 16 MiB beyond
	// that, a sparse tail); PeakBytes the largest size seen (after every
	// simulated minute and before each compaction), PeakDisk the most the
	// store and a compaction's copy took together.
	EndBytes, CompactedBytes, CompactedData, PeakBytes, PeakDisk int64
	// Compactions counts those the maintenance passes made; Held is the
	// longest time one of them held the store's writes (the copy and the
	// switch to it: webhook events go to the spill meanwhile).
	Compactions int
	Held        time.Duration
	// LastPass is the simulated time of the last maintenance pass.
	LastPass time.Time
	// Buckets holds each bucket's statistics after the compaction, and
	// Ledger what the ledger's records hold.
	Buckets map[string]bolt.BucketStats
	Ledger  yearSpace
	// Written counts the bytes of the pages the traffic's commits wrote
	// (BoltDB's TxStats.PageAlloc: dirty pages and free-page lists; the
	// maintenance passes aside).
	Written int64
	// Took is the wall time of the simulation; MaintTook that of its
	// maintenance passes (compactions included).
	Took, MaintTook time.Duration
}

// yearPages is how many member libraries' Pages the consortium has.
const yearPages = 12

// yearLibrarians is how many librarians answer the queue.
const yearLibrarians = 30

// Ways a conversation ends (see the comment at the top).
type yearEnding uint8

const (
	endThanksClose yearEnding = iota // thanks, then !close
	endThanksIdle                    // thanks, nobody closes: idle
	endCloseThanks                   // !close, thanks within the grace: reopened, idle
	endCloseLater                    // !close, thanks days later: a new session
)

// yearActKind is what happens at a point of a conversation.
type yearActKind uint8

const (
	actPatron yearActKind = iota // the patron's message number n (0–3)
	actReply                     // the librarian's reply number n (0–2)
	actClose                     // the librarian types !close
	actIdle                      // the conversation's session falls idle
)

// yearAct is one step of one conversation.
type yearAct struct {
	at   time.Time
	conv int32
	kind yearActKind
	n    int8
}

// yearConv is one simulated conversation.
type yearConv struct {
	page, psid string // as the webhook names them (IGSID on Instagram)
	key        string // the bridge's key of the patron (JID localpart)
	instagram  bool
	librarian  int
	// lastMID is the mid of the latest reply, for Instagram's read event.
	lastMID string
}

// yearSim runs one simulated year.
type yearSim struct {
	tb    testing.TB
	mix   yearMix
	cfg   *config.Config
	st    *Store
	br    *Bridge
	now   atomic.Int64 // the bridge's clock, UnixNano
	rng   *rand.Rand
	loc   *time.Location
	convs []yearConv
	byKey map[string]int32 // patron key → conversation
	// slots holds the steps of each simulated minute.
	slots [][]yearAct
	// echoes holds the echoes of replies the Send API stand-in accepted,
	// for the next webhook POST.
	mu     sync.Mutex
	echoes []messenger.Event
	nextID uint64
	// allocated is the store's TxStats.PageAlloc when last read.
	allocated int64
	fig       yearFigures
}

func (y *yearSim) clock() time.Time { return time.Unix(0, y.now.Load()) }

func (y *yearSim) set(t time.Time) { y.now.Store(t.UnixNano()) }

// yearConfig is the daemon's configuration with production defaults.
func yearConfig(tb testing.TB, dir string, mix yearMix) *config.Config {
	tb.Helper()
	cfg, err := config.Read("", func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.StateDir = dir
	cfg.Messenger.AppID, cfg.Messenger.AppSecret, cfg.Messenger.VerifyToken = testAppID, "0123456789abcdef0123", "fedcba9876543210fedc"
	for i := range yearPages {
		cfg.Messenger.Pages = append(cfg.Messenger.Pages, config.Page{
			ID: fmt.Sprintf("5102496191%05d", i), Name: fmt.Sprintf("Member library %d", i+1),
			AccessToken: fmt.Sprintf("page-token-%d", i), InstagramID: fmt.Sprintf("1784140000%07d", i)})
	}
	cfg.XMPP.Domain, cfg.XMPP.Secret = "fb.library.example.org", "component-secret-0123456789"
	cfg.XMPP.Queue = "ask@chat.libraryh3lp.com"
	cfg.XMPP.Operators = []string{"*@library.example.org"}
	cfg.Sessions.Timezone = "America/Toronto"
	cfg.Sessions.OfficeHours = map[string]string{"mon-fri": "09:00-21:00", "sat": "10:00-17:00", "sun": "12:00-17:00"}
	cfg.Privacy.Transcripts = mix.Transcripts
	if mix.Retention > 0 {
		cfg.Privacy.TranscriptRetention = mix.Retention
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// yearAPI is the Send API stand-in: it accepts every call, answers with a
// mid of Meta's length and queues the call's echo.
type yearAPI struct{ y *yearSim }

func (a yearAPI) Send(_ context.Context, _ string, _ messenger.PageID, m messenger.OutgoingMessage) (messenger.SendResult, error) {
	y := a.y
	y.mu.Lock()
	defer y.mu.Unlock()
	ci, ok := y.byKey[string(m.Recipient)]
	if !ok {
		ci, ok = y.byKey[instagramPrefix+string(m.Recipient)]
	}
	if !ok {
		return messenger.SendResult{}, fmt.Errorf("stand-in: unknown recipient %s", m.Recipient)
	}
	c := &y.convs[ci]
	mid := y.mid(c.instagram)
	c.lastMID = mid
	e := messenger.Event{Kind: messenger.KindEcho, Page: messenger.PageID(c.page), Patron: messenger.PSID(c.psid),
		Time: y.clock().Add(time.Second), MID: messenger.MID(mid), Text: m.Text}
	if c.instagram {
		e.Channel = messenger.ChannelInstagram // Instagram echoes carry no app_id nor metadata
	} else {
		e.AppID, e.Metadata = y.cfg.Messenger.AppID, m.Metadata
	}
	y.echoes = append(y.echoes, e)
	return messenger.SendResult{RecipientID: string(m.Recipient), MessageID: messenger.MID(mid)}, nil
}

// mid makes a message ID as long as Meta's: "m_" and 86 characters on
// Messenger, 118 base64 characters on Instagram. y.mu is held or y.rng
// not shared.
func (y *yearSim) mid(instagram bool) string {
	n := 64
	if instagram {
		n = 88
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(y.rng.Uint32())
	}
	if instagram {
		return "aWdfZAG1faXRl" + base64.RawURLEncoding.EncodeToString(b)[:105]
	}
	return "m_" + base64.RawURLEncoding.EncodeToString(b)[:86]
}

// yearWords make up the simulated texts.
var yearWords = strings.Fields(`the library book catalog renew hold interlibrary loan article database
	access password account card hours open closed tomorrow research paper citation journal
	thesis due date fine room booking printer wifi campus branch help please thanks could you
	find any about history science for my class need where when how is there a copy`)

// text makes a message of about n characters.
func (y *yearSim) text(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(yearWords[y.rng.IntN(len(yearWords))])
	}
	return sb.String()
}

// Lengths of the patron's messages and the librarian's replies, in
// characters: [min, max).
var (
	patronLen = [4][2]int{{60, 220}, {20, 100}, {20, 90}, {6, 30}}
	replyLen  = [3][2]int{{40, 140}, {80, 320}, {40, 160}}
)

func (y *yearSim) between(r [2]int) int { return r[0] + y.rng.IntN(r[1]-r[0]) }

func (y *yearSim) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+y.rng.IntN(hi-lo+1)) * time.Minute
}

// add schedules a step.
func (y *yearSim) add(a yearAct) {
	m := int(a.at.Sub(y.mix.Start) / time.Minute)
	if m < 0 || m >= len(y.slots) {
		y.tb.Fatalf("step at %s outside the simulated period", a.at)
	}
	y.slots[m] = append(y.slots[m], a)
}

// yearDayWeight is the share of a day of the week in the traffic.
func yearDayWeight(d time.Weekday) float64 {
	switch d {
	case time.Saturday:
		return 0.45
	case time.Sunday:
		return 0.35
	case time.Friday:
		return 0.85
	}
	return 1
}

// perDay spreads the conversations over the days by weekday weight.
func (y *yearSim) perDay() []int {
	w := make([]float64, y.mix.Days)
	var sum float64
	for d := range w {
		w[d] = yearDayWeight(y.mix.Start.AddDate(0, 0, d).Weekday())
		sum += w[d]
	}
	n := make([]int, y.mix.Days)
	acc, given := 0.0, 0
	for d := range w {
		acc += w[d] / sum * float64(y.mix.Conversations)
		n[d] = int(acc+0.5) - given
		given += n[d]
	}
	return n
}

// staffed is when conversations may start on a day: from the opening to
// 45 minutes before the closing, so that they end while staffed.
func staffed(d time.Weekday) (from, to time.Duration) {
	switch d {
	case time.Saturday:
		return 10 * time.Hour, 16*time.Hour + 15*time.Minute
	case time.Sunday:
		return 12 * time.Hour, 16*time.Hour + 15*time.Minute
	}
	return 9 * time.Hour, 20*time.Hour + 15*time.Minute
}

// schedule makes the day's conversations and their steps.
func (y *yearSim) schedule(day, n int) {
	midnight := y.mix.Start.AddDate(0, 0, day)
	from, to := staffed(midnight.Weekday())
	end := y.mix.Start.AddDate(0, 0, y.mix.Days)
	for range n {
		ci := int32(len(y.convs))
		c := yearConv{page: y.cfg.Messenger.Pages[y.rng.IntN(yearPages)].ID, librarian: y.rng.IntN(yearLibrarians)}
		id := fmt.Sprintf("%d", 7_100_000_000_000_000+uint64(ci)*48_271)
		c.psid, c.key = id, id
		if y.rng.IntN(100) < 15 {
			for _, p := range y.cfg.Messenger.Pages {
				if p.ID == c.page {
					c.page = p.InstagramID
				}
			}
			c.psid, c.key, c.instagram = "1"+id, instagramPrefix+"1"+id, true
		}
		y.convs = append(y.convs, c)
		y.byKey[c.key] = ci
		t := midnight.Add(from + time.Duration(y.rng.Int64N(int64(to-from))))
		step := func(kind yearActKind, n int, at time.Time) { y.add(yearAct{at: at, conv: ci, kind: kind, n: int8(n)}) }
		step(actPatron, 0, t)
		t = t.Add(y.minutes(1, 5))
		step(actReply, 0, t)
		t = t.Add(y.minutes(1, 6))
		step(actPatron, 1, t)
		t = t.Add(y.minutes(2, 8))
		step(actReply, 1, t)
		t = t.Add(y.minutes(1, 6))
		step(actPatron, 2, t)
		t = t.Add(y.minutes(2, 10))
		step(actReply, 2, t)
		idle := y.cfg.Sessions.IdleTimeout + time.Minute
		ending := endThanksClose
		switch r := y.rng.IntN(100); {
		case r >= 95:
			ending = endCloseLater
		case r >= 75:
			ending = endCloseThanks
		case r >= 60:
			ending = endThanksIdle
		}
		later := t.Add(time.Minute + 48*time.Hour + y.minutes(0, 24*60))
		if ending == endCloseLater && !later.Add(idle).Before(end) {
			ending = endThanksClose // no room left in the period
		}
		switch ending {
		case endThanksClose:
			t = t.Add(y.minutes(1, 3))
			step(actPatron, 3, t)
			step(actClose, 0, t.Add(time.Minute))
		case endThanksIdle:
			t = t.Add(y.minutes(1, 3))
			step(actPatron, 3, t)
			step(actIdle, 0, t.Add(idle))
		case endCloseThanks:
			t = t.Add(time.Minute)
			step(actClose, 0, t)
			t = t.Add(y.minutes(3, 10))
			step(actPatron, 3, t)
			step(actIdle, 0, t.Add(idle))
		case endCloseLater:
			step(actClose, 0, t.Add(time.Minute))
			step(actPatron, 3, later)
			step(actIdle, 0, later.Add(idle))
			y.fig.Sessions++
		}
		y.fig.Sessions++
		y.fig.Messages += 7
	}
}

// simulateYear runs mix on a new store in dir (see the comment at the
// top), compacts the store and returns what it measured. check, if set,
// is called before the store is closed.
func simulateYear(tb testing.TB, dir string, mix yearMix, check func(y *yearSim)) yearFigures {
	tb.Helper()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		tb.Fatal(err)
	}
	mix.Start = time.Date(mix.Start.Year(), mix.Start.Month(), mix.Start.Day(), 0, 0, 0, 0, loc)
	y := &yearSim{tb: tb, mix: mix, loc: loc, rng: rand.New(rand.NewPCG(mix.Seed, 2026)), byKey: map[string]int32{},
		slots: make([][]yearAct, mix.Start.AddDate(0, 0, mix.Days).Sub(mix.Start)/time.Minute)}
	y.cfg = yearConfig(tb, dir, mix)
	y.set(mix.Start)
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	ps, err := LoadPseudonymizer(dir, st)
	if err != nil {
		tb.Fatal(err)
	}
	br, err := New(Options{Config: y.cfg, Store: st, Pseudonyms: ps, SendAPI: yearAPI{y}, Log: zap.NewNop(), Now: y.clock})
	if err != nil {
		tb.Fatal(err)
	}
	y.st, y.br = st, br
	var copying time.Time
	st.hook = func(stage compactStage) {
		switch stage {
		case compactCopying:
			copying = time.Now()
		case compactCopied:
			// Both files are on the disk now: the most the store takes.
			y.fig.PeakDisk = max(y.fig.PeakDisk, fileSize(tb, st.path)+fileSize(tb, st.path+compactSuffix))
		case compactSwitched:
			if !copying.IsZero() {
				y.fig.Held = max(y.fig.Held, time.Since(copying))
			}
		}
	}
	y.noSync()
	t0 := time.Now()
	days := y.perDay()
	for m := range y.slots {
		at := mix.Start.Add(time.Duration(m) * time.Minute)
		if d := m / (24 * 60); m%(24*60) == 0 && d < len(days) {
			y.schedule(d, days[d])
		}
		if at.In(loc).Hour() == 4 && at.Minute() == 0 {
			y.maintain(at)
		}
		if len(y.slots[m]) > 0 {
			y.minute(at, y.slots[m])
			y.slots[m] = nil
		}
	}
	y.set(mix.Start.AddDate(0, 0, mix.Days))
	y.fig.Took = time.Since(t0)
	y.written()
	y.fig.EndBytes = fileSize(tb, st.path)
	y.fig.PeakBytes = max(y.fig.PeakBytes, y.fig.EndBytes)
	if err := st.Compact(); err != nil {
		tb.Fatal(err)
	}
	y.fig.CompactedBytes = fileSize(tb, st.path)
	y.fig.Buckets = map[string]bolt.BucketStats{}
	err = st.view(func(tx *store.Tx) error {
		y.fig.CompactedData = tx.Bolt().Size()
		for _, name := range store.Buckets {
			y.fig.Buckets[string(name)] = tx.Bolt().Bucket(name).Stats()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	y.fig.Ledger = ledgerSpace(tb, st)
	if check != nil {
		check(y)
	}
	return y.fig
}

// noSync turns fsync off on the store's current file (a compaction opens
// a new one).
func (y *yearSim) noSync() {
	y.st.swap.Lock()
	y.st.db.NoSync = true
	y.st.swap.Unlock()
}

func fileSize(tb testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// written adds what the traffic's commits wrote since the last call.
func (y *yearSim) written() {
	n := y.allocatedNow()
	y.fig.Written += n - y.allocated
	y.allocated = n
}

// allocatedNow is the store's TxStats.PageAlloc: what its current file's
// commits wrote.
func (y *yearSim) allocatedNow() int64 {
	s := y.st.db.Stats()
	return s.TxStats.GetPageAlloc()
}

// maintain runs the daemon's maintenance pass at the simulated time at.
func (y *yearSim) maintain(at time.Time) {
	y.written()
	defer func() { y.allocated = y.allocatedNow() }() // the pass's own writes aside
	y.set(at)
	y.fig.PeakBytes = max(y.fig.PeakBytes, fileSize(y.tb, y.st.path))
	t0 := time.Now()
	rep, err := y.br.maintain(context.Background())
	y.fig.MaintTook += time.Since(t0)
	if err != nil {
		y.tb.Fatalf("maintenance at %s: %v", at, err)
	}
	y.fig.LastPass = at
	if rep.Purge.Compacted {
		y.fig.Compactions++
		y.noSync()
	}
}

// minute runs one simulated minute's steps, which start at at.
func (y *yearSim) minute(at time.Time, acts []yearAct) {
	tb := y.tb
	ctx := context.Background()
	// One webhook POST: the echoes of the replies sent since the last one,
	// the patrons' read events and messages.
	y.mu.Lock()
	events := y.echoes
	y.echoes = nil
	y.mu.Unlock()
	var stanzas []yearAct
	idle := false
	for _, a := range acts {
		c := &y.convs[a.conv]
		switch a.kind {
		case actPatron:
			if a.n > 0 {
				read := messenger.Event{Kind: messenger.KindRead, Page: messenger.PageID(c.page), Patron: messenger.PSID(c.psid),
					Time: at, Watermark: at}
				if c.instagram {
					read.Channel, read.Watermark, read.MID = messenger.ChannelInstagram, time.Time{}, messenger.MID(c.lastMID)
				}
				events = append(events, read)
			}
			e := messenger.Event{Kind: messenger.KindMessage, Page: messenger.PageID(c.page), Patron: messenger.PSID(c.psid),
				Time: at.Add(time.Duration(1+y.rng.IntN(19)) * time.Second), MID: messenger.MID(y.mid(c.instagram)),
				Text: y.text(y.between(patronLen[a.n]))}
			if c.instagram {
				e.Channel = messenger.ChannelInstagram
			}
			events = append(events, e)
		case actReply, actClose:
			stanzas = append(stanzas, a)
		case actIdle:
			idle = true
		}
	}
	if len(events) > 0 {
		y.set(at.Add(20 * time.Second))
		if err := y.br.Accept(ctx, events); err != nil {
			tb.Fatal(err)
		}
	}
	// The librarians' messages, one at a time.
	replies := false
	for _, a := range stanzas {
		c := &y.convs[a.conv]
		y.set(at.Add(30 * time.Second))
		y.nextID++
		m := xmpp.Message{ID: yearUUID(y.nextID), Type: "chat", Markable: true,
			From: jid.MustParse(fmt.Sprintf("librarian%02d@library.example.org/gajim.%08X", c.librarian, c.librarian*7919)),
			To:   patronJID(c.key, y.cfg.XMPP.Domain)}
		if a.kind == actClose {
			m.Body, m.Markable = "!close", false
		} else {
			m.Body = y.text(y.between(replyLen[a.n]))
			replies = true
		}
		if serr := y.br.HandleMessage(ctx, m); serr != nil {
			tb.Fatalf("%s refused: %s %s", m.Body, serr.Condition, serr.Text)
		}
	}
	if replies {
		y.set(at.Add(31 * time.Second))
		y.sendReplies()
	}
	if idle {
		y.set(at.Add(40 * time.Second))
		if _, err := y.br.closeIdle(); err != nil {
			tb.Fatal(err)
		}
	}
	y.set(at.Add(41 * time.Second))
	y.deliverXMPP()
	y.fig.PeakBytes = max(y.fig.PeakBytes, fileSize(tb, y.st.path))
}

// yearUUID is a librarian client's stanza id (a UUID, as Gajim and the
// LibraryH3lp web client make them).
func yearUUID(n uint64) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(n*2654435761), n&0xffff, n&0xfff, (n>>12)&0xfff, n*0x9e3779b9)
}

// sendReplies does what the Send API outbox's owner does with the entries
// waiting: one sender per conversation, all conversations at once.
func (y *yearSim) sendReplies() {
	fq := y.br.fq
	fq.take() // hand-overs: the owner's read below finds the entries
	if err := fq.load(); err != nil {
		y.tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for psid, c := range fq.own.convs {
		items := slices.Clone(c.items)
		wg.Go(func() {
			for _, it := range items {
				if !y.br.sendFacebook(context.Background(), psid, it.key, &it.entry) {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fq.take()
	fq.own.convs, fq.own.held = map[string]*fbConv{}, 0
	if n := failed.Load(); n > 0 {
		y.tb.Fatalf("%d Send API outbox entries not removed", n)
	}
}

// deliverXMPP does what the XMPP outbox's owner does once the Jabber
// server confirmed what it wrote: it reads the outbox and commits the
// removal of every entry, marking their ledger records sent.
func (y *yearSim) deliverXMPP() {
	q := y.br.xq
	q.take() // hand-overs: the owner's read below finds the entries
	if err := q.load(); err != nil {
		y.tb.Fatal(err)
	}
	items := slices.Clone(q.own.waiting)
	if len(items) == 0 {
		return
	}
	if !q.own.all {
		y.tb.Fatalf("XMPP outbox holds more than %d entries", xmppHeld)
	}
	if err := y.st.batch(func(tx *store.Tx) error { return y.br.removeSent(tx, items) }); err != nil {
		y.tb.Fatal(err)
	}
	q.done(items)
}

// yearSpace tells what the ledger's records hold, in bytes of their
// fields, after the year.
type yearSpace struct {
	records, mid, xid, text, other int64
}

func ledgerSpace(tb testing.TB, st *Store) yearSpace {
	tb.Helper()
	var s yearSpace
	err := st.view(func(tx *store.Tx) error {
		var r Record
		return tx.Bolt().Bucket(store.BucketLedger).ForEach(func(k, v []byte) error {
			if err := store.DecodeRecord(v, &r); err != nil {
				return err
			}
			s.records++
			s.mid += int64(len(r.MID))
			s.xid += int64(len(r.XMPPID))
			s.text += int64(len(r.Text))
			s.other += int64(len(k) + len(v) - len(r.MID) - len(r.XMPPID) - len(r.Text))
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// yearConversations is the year's traffic of the consortium.
const yearConversations = 200_000

// yearDays is how many days BenchmarkYearOfService simulates.
var yearDays = flag.Int("year.days", 35,
	"days BenchmarkYearOfService simulates, at the consortium's rate of 200,000 conversations a year; 365 for the whole year")

// BenchmarkYearOfService writes the traffic of a busy consortium —
// 200,000 conversations and 1,400,000 bridged messages a year — into a
// real store through the bridge's own functions, with the daily
// maintenance pass, and compacts the store at the end (see the comment at
// the top of the file for the traffic), with transcripts off (the
// default) and on.
//
// A whole year takes about 25 minutes on the test machine (the bridge's
// own work for 1,400,000 messages, and the daily compactions of a store
// that grows to 400 MB), so by default it simulates the first 35 days
// (five weeks, 19,178 conversations: every retention window is full) at
// the year's rate, and extrapolates to the year what the store keeps for
// good (ledger records and sessions) from what each conversation left.
// -year.days=365 simulates the whole year:
//
//	go test ./bridge -run '^$' -bench BenchmarkYearOfService -benchtime=1x
//	go test ./bridge -run '^$' -bench BenchmarkYearOfService -benchtime=1x -timeout 3h -year.days=365
//
// Metrics: the store file at the end of the period before ("end-B") and
// after Store.Compact ("compacted-B"; "compacted-data-B" up to its last
// page in use: BoltDB grows the file up to 16 MiB beyond), its largest
// size ("peak-B") and the most it and a compaction's copy took together
// ("peak-disk-B"), bytes per bridged message ("B/message", the compacted
// file's size over the messages), ledger records and sessions kept,
// compactions the maintenance made and the longest time one held the
// store's writes, the bytes of pages the traffic's commits wrote per
// message; "kept-B/conv" is what a conversation leaves in the store for
// good, and "year-compacted-data-B" and "year-B/message" the compacted
// data of a whole year (measured with -year.days=365, else extrapolated:
// compacted-data-B plus kept-B/conv for each conversation not simulated).
// Each bucket's pages and what the ledger's records hold are logged.
func BenchmarkYearOfService(b *testing.B) {
	days := *yearDays
	if days < 1 || days > 365 {
		b.Fatalf("-year.days=%d: want 1 to 365", days)
	}
	n := int(math.Round(yearConversations * float64(days) / 365))
	for _, transcripts := range []bool{false, true} {
		b.Run(fmt.Sprintf("transcripts=%v", transcripts), func(b *testing.B) {
			mix := yearMix{Conversations: n, Days: days, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				Transcripts: transcripts, Seed: 1}
			var fig yearFigures
			for b.Loop() {
				fig = simulateYear(b, b.TempDir(), mix, nil)
			}
			kept := fig.keptPerConversation()
			year := float64(fig.CompactedData) + kept*float64(yearConversations-n)
			logYear(b, fig)
			b.Logf("kept for good: %.0f B a conversation; a year of %d conversations: %.0f B of compacted data (the file up to 16 MiB more), %.1f B a message",
				kept, yearConversations, year, year/(7*yearConversations))
			b.ReportMetric(float64(fig.EndBytes), "end-B")
			b.ReportMetric(float64(fig.CompactedBytes), "compacted-B")
			b.ReportMetric(float64(fig.CompactedData), "compacted-data-B")
			b.ReportMetric(float64(fig.PeakBytes), "peak-B")
			b.ReportMetric(float64(fig.PeakDisk), "peak-disk-B")
			b.ReportMetric(float64(fig.CompactedBytes)/float64(fig.Messages), "B/message")
			b.ReportMetric(float64(fig.Buckets[string(store.BucketLedger)].KeyN), "ledger-records")
			b.ReportMetric(float64(fig.Buckets[string(store.BucketSessions)].KeyN), "sessions")
			b.ReportMetric(float64(fig.Compactions), "compactions")
			b.ReportMetric(float64(fig.Held.Milliseconds()), "compact-held-max-ms")
			b.ReportMetric(kept, "kept-B/conv")
			b.ReportMetric(year, "year-compacted-data-B")
			b.ReportMetric(year/(7*yearConversations), "year-B/message")
			b.ReportMetric(float64(fig.Written)/float64(fig.Messages), "written-B/message")
		})
	}
}

// keptPerConversation is what each conversation left in the pages of the
// buckets kept for good (ledger and sessions), transcripts (which go
// after transcript_retention) aside: records with and without text share
// the ledger's pages, so the text takes its share of them.
func (f yearFigures) keptPerConversation() float64 {
	l, s := f.Buckets[string(store.BucketLedger)], f.Buckets[string(store.BucketSessions)]
	ledger := float64(l.BranchAlloc + l.LeafAlloc)
	if f.Ledger.text > 0 && l.LeafInuse > 0 {
		ledger *= 1 - float64(f.Ledger.text)/float64(l.LeafInuse)
	}
	return (ledger + float64(s.BranchAlloc+s.LeafAlloc)) / float64(f.Messages/7)
}

// logYear logs the figures, each bucket's pages after the compaction
// and what the ledger's records hold, in a few lines (the testing package
// keeps only ten of a benchmark's).
func logYear(b *testing.B, fig yearFigures) {
	b.Logf("%d messages, %d sessions in %s (maintenance %s); file at the end %d B, compacted %d B (%d B up to the last page in use; %.1f B a message), "+
		"peak %d B, with a compaction's copy %d B; %d compactions, the longest holding writes %s; pages written %d B",
		fig.Messages, fig.Sessions, fig.Took.Round(time.Second), fig.MaintTook.Round(time.Second), fig.EndBytes, fig.CompactedBytes,
		fig.CompactedData, float64(fig.CompactedBytes)/float64(fig.Messages), fig.PeakBytes, fig.PeakDisk, fig.Compactions,
		fig.Held.Round(time.Millisecond), fig.Written)
	var sb strings.Builder
	var pages int64
	for _, name := range store.Buckets {
		s := fig.Buckets[string(name)]
		alloc := int64(s.BranchAlloc + s.LeafAlloc)
		pages += alloc
		if alloc > 0 {
			fmt.Fprintf(&sb, "; %s %d keys %d B (%.1f %%)", name, s.KeyN, alloc, 100*float64(alloc)/float64(fig.CompactedData))
		}
	}
	b.Logf("pages after compaction%s; outside the buckets (meta, free-page list, root, inline buckets) %d B", sb.String(), fig.CompactedData-pages)
	l := fig.Ledger
	b.Logf("ledger records: %d, keys and values %d B: mids %d B, stanza ids %d B, transcripts %d B, the rest %d B",
		l.records, l.mid+l.xid+l.text+l.other, l.mid, l.xid, l.text, l.other)
}

// TestYearOfServiceScaled runs nine days of the simulated service (14
// conversations a day, transcripts kept for 48 hours) and checks that the
// store counted them as the design says and kept no more than the privacy
// rules allow: one session per conversation (and one more for each thanks
// that came days after !close), every message and reply counted in its
// session, every reply delivered; no transcript older than the retention,
// no PSID of a patron silent for more than 7 days, no deduplication mark
// or reference older than 7 days, nothing left in the queues.
func TestYearOfServiceScaled(t *testing.T) {
	const convs = 126
	retention := 48 * time.Hour
	mix := yearMix{Conversations: convs, Days: 9, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Transcripts: true, Retention: retention, Seed: 7}
	simulateYear(t, t.TempDir(), mix, func(y *yearSim) {
		fig := y.fig
		if fig.Messages != 7*convs {
			t.Fatalf("%d messages simulated, want %d", fig.Messages, 7*convs)
		}
		late := fig.Sessions - convs
		if late <= 0 {
			t.Fatalf("%d sessions for %d conversations: no thanks came days later", fig.Sessions, convs)
		}
		var in, out, delivered, answered, other, open int
		err := y.st.ForEachSession(time.Time{}, mix.Start.AddDate(1, 0, 0), func(s *stats.Session) error {
			in, out, delivered = in+s.MessagesIn, out+s.MessagesOut, delivered+s.RepliesDelivered
			switch {
			case s.Open():
				open++
			case s.Status == stats.StatusAnswered:
				answered++
			case s.Status == stats.StatusMissed || s.Status == stats.StatusAfterHours:
				if s.MessagesIn != 1 || s.MessagesOut != 0 {
					t.Errorf("unanswered session %s: %d in, %d out; want the late thanks alone", s.ID, s.MessagesIn, s.MessagesOut)
				}
				other++
			default:
				t.Errorf("session %s ended %q", s.ID, s.Status)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if answered != convs || other != late || open != 0 {
			t.Errorf("sessions: %d answered, %d unanswered, %d open; want %d, %d, 0", answered, other, open, convs, late)
		}
		if in != 4*convs || out != 3*convs || delivered != 3*convs {
			t.Errorf("sessions count %d patron messages, %d replies, %d delivered; want %d, %d, %d", in, out, delivered, 4*convs, 3*convs, 3*convs)
		}
		pass := fig.LastPass
		var texts, ledger, patrons, seen int
		err = y.st.view(func(tx *store.Tx) error {
			var r Record
			err := tx.Bolt().Bucket(store.BucketLedger).ForEach(func(k, v []byte) error {
				if err := store.DecodeRecord(v, &r); err != nil {
					return err
				}
				ledger++
				if r.Text == "" {
					return nil
				}
				texts++
				if r.Time.Before(pass.Add(-retention)) {
					t.Errorf("ledger record of %s still holds its text after the pass of %s", r.Time, pass)
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = tx.Bolt().Bucket(store.BucketConversations).ForEach(func(k, v []byte) error {
				c, err := tx.Conversations().Decode(v)
				if err != nil {
					return err
				}
				patrons++
				if c.LastPatron.Before(pass.Add(-psidRetention)) {
					t.Errorf("PSID %s kept although the patron last wrote %s, before the pass of %s", k, c.LastPatron, pass)
				}
				return nil
			})
			if err != nil {
				return err
			}
			cut := store.TimeBound(pass.Add(-seenTTL))
			old := func(bucket []byte) error {
				return tx.Bolt().Bucket(bucket).ForEach(func(k, v []byte) error {
					if len(v) >= 8 && string(v[:8]) < string(cut) {
						t.Errorf("%s %q of %s kept after the pass of %s", bucket, k, time.Unix(0, int64(u64At(v))), pass)
					}
					return nil
				})
			}
			if err := old(store.BucketSeen); err != nil {
				return err
			}
			if err := old(store.BucketLedgerRef); err != nil {
				return err
			}
			seen = tx.Bolt().Bucket(store.BucketSeen).Stats().KeyN
			for _, name := range [][]byte{store.BucketInbox, store.BucketToXMPP, store.BucketToFacebook, store.BucketOpen, store.BucketParkedXMPP} {
				if n := tx.Bolt().Bucket(name).Stats().KeyN; n != 0 {
					t.Errorf("%s holds %d entries at the end", name, n)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ledger != fig.Messages {
			t.Errorf("ledger holds %d records, want %d", ledger, fig.Messages)
		}
		// The rules did remove something: the checks above are not vacuous.
		if texts == 0 || texts == ledger {
			t.Errorf("%d of %d ledger records hold their text: want some, not all", texts, ledger)
		}
		if patrons == 0 || patrons >= convs {
			t.Errorf("%d PSIDs kept of %d patrons: want some, not all", patrons, convs)
		}
		if seen == 0 || seen >= 7*convs {
			t.Errorf("%d deduplication marks kept of %d patron messages and echoes: want some, not all", seen, 7*convs)
		}
	})
}

// u64At reads the 8-byte big-endian number v starts with.
func u64At(v []byte) uint64 { return binary.BigEndian.Uint64(v[:8]) }
