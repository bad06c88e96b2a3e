package admin

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// The library of the dashboard's tests: three Pages (one without a name
// in the configuration), three queues, four librarians.
const (
	pageCentral  = "510249619162304"
	pageTeens    = "620384751029384"
	pageUnnamed  = "730000000000001"
	testToken    = "s3cret-stats-token-4f1c"
	testTimezone = "America/Toronto"
)

var (
	testQueues    = []string{"ask@chat.libraryh3lp.com", "teens@chat.libraryh3lp.com", "branches@chat.libraryh3lp.com"}
	testOperators = []string{"alice@library.example.org", "bob@library.example.org", "carol@library.example.org", "dave@library.example.org"}
	testTags      = []string{"hours", "printing", "databases", "interlibrary loan", "passwords", "research", "catalogue",
		"ebooks", "directions", "homework", "citations", "accounts", "events", "room booking"}
)

// testConfig is a configuration with the test library's Pages, in
// Toronto, with the fiscal year starting in July.
func testConfig(token string) *config.Config {
	cfg := &config.Config{}
	cfg.HTTP.StatsToken = token
	cfg.Sessions.Timezone = testTimezone
	cfg.Stats.FiscalYearStart = 7
	cfg.Messenger.Pages = []config.Page{
		{ID: pageCentral, Name: "Central Library"},
		{ID: pageTeens, Name: "Teen Zone"},
		{ID: pageUnnamed},
	}
	return cfg
}

// testNow is the tests' clock: Wednesday 17 March 2027, 10:00 in Toronto.
var testNow = time.Date(2027, 3, 17, 14, 0, 0, 0, time.UTC)

// seededStore opens a store in a temporary directory holding sessions.
func seededStore(t testing.TB, sessions []stats.Session) *bridge.Store {
	t.Helper()
	st, err := bridge.OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ImportSessions(sessions); err != nil {
		t.Fatal(err)
	}
	return st
}

// realisticSessions is a library's Facebook chats from first to last
// (dates in Toronto), reproducible from seed: busier on weekdays and
// around midday, every status, several Pages, queues and librarians,
// tags and READ levels.
func realisticSessions(seed uint64, first, last time.Time) []stats.Session {
	loc, err := time.LoadLocation(testTimezone)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	// How likely a session starts in each hour of the day.
	hourWeight := []int{1, 0, 0, 0, 0, 0, 1, 2, 4, 8, 12, 14, 13, 14, 15, 14, 12, 9, 7, 6, 5, 4, 3, 2}
	pick := func(weights []int) int {
		total := 0
		for _, w := range weights {
			total += w
		}
		n := rng.IntN(total)
		for i, w := range weights {
			if n < w {
				return i
			}
			n -= w
		}
		return len(weights) - 1
	}
	var out []stats.Session
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		n := 25 + rng.IntN(20)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			n = 6 + rng.IntN(8)
		}
		for range n {
			h := pick(hourWeight)
			started := time.Date(day.Year(), day.Month(), day.Day(), h, rng.IntN(60), rng.IntN(60), 0, loc)
			s := stats.Session{Guest: fmt.Sprintf("guest-%016x", rng.Uint64()), Started: started,
				Ended: started.Add(time.Duration(60+rng.IntN(3000)) * time.Second), MessagesIn: 1 + rng.IntN(8)}
			switch p := rng.IntN(10); {
			case p < 6:
				s.Page, s.Queue = pageCentral, testQueues[0]
			case p < 8:
				s.Page, s.Queue = pageTeens, testQueues[1]
				if started.Minute()%2 == 0 {
					s.Protocol = stats.ProtocolInstagram // the Teen Zone's Instagram account
				}
			default:
				s.Page, s.Queue = pageUnnamed, testQueues[2]
			}
			office := h >= 9 && h < 21
			switch p := rng.IntN(100); {
			case !office && p < 60:
				s.Status, s.AutoReplies = stats.StatusAfterHours, 1
			case p < 8:
				s.Status, s.AutoReplies = stats.StatusAutoOnly, 1
			case p < 18:
				s.Status = stats.StatusMissed
			case p < 21:
				s.Status = stats.StatusUndelivered
				s.Operator = testOperators[rng.IntN(len(testOperators))]
				s.Accepted = started.Add(time.Duration(30+rng.IntN(3600)) * time.Second)
			default:
				s.Status = stats.StatusAnswered
				s.Operator = testOperators[pick([]int{5, 4, 2, 1})]
				s.Accepted = started.Add(time.Duration(5+rng.IntN(300)) * time.Second)
				if s.Accepted.After(s.Ended) {
					s.Ended = s.Accepted.Add(time.Minute)
				}
				s.MessagesOut = 1 + rng.IntN(6)
				s.Questions = 1 + pick([]int{8, 2, 1})
				s.ReadLevel = pick([]int{3, 3, 5, 6, 4, 2, 1})
				for range pick([]int{3, 5, 2}) {
					s.Tags = append(s.Tags, testTags[pick([]int{9, 8, 7, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1})])
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// testMonths is realisticSessions from 15 February to 10 April 2027: the
// month of testNow, and some of each side of it.
func testMonths() []stats.Session {
	return realisticSessions(7, time.Date(2027, 2, 15, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 10, 0, 0, 0, 0, time.UTC))
}

// testHandler serves sessions with the test configuration and clock.
func testHandler(t testing.TB, st *bridge.Store, token string) *Handler {
	cfg := testConfig(token)
	return &Handler{Store: st, Config: func() *config.Config { return cfg }, Log: zaptest.NewLogger(t),
		Now: func() time.Time { return testNow }}
}

// get serves a GET of target from this machine, with extra headers.
func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}
