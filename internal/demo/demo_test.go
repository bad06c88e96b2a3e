package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/prosody"
)

// TestDemo runs the demo as a person would use it: the patron types on the
// stand-in page (its JSON API), the librarian answers from a Jabber client
// with the printed account, and the answer shows on the patron page.
func TestDemo(t *testing.T) {
	prosody.Require(t)
	var banner bytes.Buffer
	info, ctx := startDemo(t, &banner)
	if !strings.Contains(banner.String(), info.Password) || !strings.Contains(banner.String(), info.PatronURL) ||
		!strings.Contains(banner.String(), info.Librarian) || !strings.Contains(banner.String(), info.Colleague) {
		t.Errorf("banner lacks the account or the page:\n%s", banner.String())
	}

	page, err := http.Get(info.PatronURL)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), "Demo Public Library") {
		t.Fatalf("patron page: %d", page.StatusCode)
	}

	lctx, lcancel := context.WithTimeout(ctx, 20*time.Second)
	defer lcancel()
	lib := librarian(lctx, t, info, info.Librarian)
	colleague := librarian(lctx, t, info, info.Colleague)

	// The question is offered to both librarians; the first to reply owns
	// the conversation and the other is told who answered.
	const psid = "7010203040506070"
	patron := psid + "@" + info.PatronJIDAt
	post(t, info.PatronURL+"patron/send", map[string]string{"page": string(info.PageID), "psid": psid, "text": "Is the library open on Sunday?"})
	for _, c := range []*jabberclient.Client{lib, colleague} {
		if m := nextBody(lctx, t, c); m.Body != "Is the library open on Sunday?" || !strings.HasPrefix(m.From, patron) {
			t.Fatalf("%s got %+v", c.JID(), m)
		}
	}
	if _, err := lib.SendChat(patron, "Yes, from 1 to 5 pm."); err != nil {
		t.Fatal(err)
	}
	m := nextBody(lctx, t, colleague)
	if strings.HasPrefix(m.Body, "[automatic reply sent to the patron] ") {
		m = nextBody(lctx, t, colleague)
	}
	if !strings.HasPrefix(m.Body, "[answered by "+info.Librarian+"]") {
		t.Errorf("the colleague was told %q", m.Body)
	}
	waitForAnswer(t, info, psid, "Yes, from 1 to 5 pm.")
	// The patron was greeted, and read that the greeting is automatic.
	waitForAnswer(t, info, psid, "(Automatic reply) "+demoGreeting)

	// The banner names the statistics page and the configuration, which
	// the CLI can use from any folder.
	for _, want := range []string{info.StatsURL, info.ConfigPath, demoGreeting, demoUnanswered} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	cfg, err := config.Load(info.ConfigPath)
	if err != nil {
		t.Fatalf("the demo's configuration file: %v", err)
	}
	if want := filepath.Join(filepath.Dir(info.ConfigPath), "state"); cfg.StateDir != want || cfg.Sessions.Timezone == "Local" {
		t.Errorf("state_dir %q (want %q), zone %q", cfg.StateDir, want, cfg.Sessions.Timezone)
	}
	stats, err := http.Get(info.StatsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(stats.Body)
	stats.Body.Close()
	if stats.StatusCode != 200 || !strings.Contains(string(body), "chat statistics") {
		t.Errorf("statistics page: %d", stats.StatusCode)
	}
}

// TestLibrarianPasswordKept checks that with a demo folder kept, the
// librarian's password stays the same from run to run.
func TestLibrarianPasswordKept(t *testing.T) {
	dir := t.TempDir()
	first, err := librarianPassword(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := librarianPassword(dir)
	if err != nil || again != first || !strings.HasPrefix(first, "librarian-") {
		t.Errorf("passwords %q then %q (%v)", first, again, err)
	}
	if a, _ := librarianPassword(""); a == first {
		t.Error("a throwaway demo reused the kept password")
	}
}

// librarian logs in to the demo as one of its librarians and comes
// online. It returns once the bridge has seen that: Prosody sends the
// librarian's presence to the bridge before it probes the bridge, and the
// bridge handles its stanzas in order, so its answer to the probe comes
// after it knows the librarian is available.
func librarian(ctx context.Context, t *testing.T, info Info, account string) *jabberclient.Client {
	t.Helper()
	c, err := jabberclient.Dial(ctx, info.C2SAddr, jid.MustParse(account), info.Password, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SendRaw("<presence/>"); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := c.NextPresence(ctx)
		if err != nil {
			t.Fatalf("%s never saw the bridge online: %v", account, err)
		}
		if p.Type == "subscribe" {
			t.Fatalf("%s was asked to approve the bridge: %s", account, p.Raw)
		}
		if p.From == info.PatronJIDAt && p.Type == "" {
			return c
		}
	}
}

// nextBody is the next message with a body that c receives.
func nextBody(ctx context.Context, t *testing.T, c *jabberclient.Client) jabberclient.Received {
	t.Helper()
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.JID(), err)
		}
		if m.Body != "" {
			return m
		}
	}
}

// startDemo runs the demo until the test ends (checking that it ends
// without error) and returns what it printed for its users, and a context
// that ends with it.
func startDemo(t *testing.T, banner io.Writer) (Info, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	infos := make(chan Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Dir: t.TempDir(), C2SPort: -1, PatronPort: -1, Log: zaptest.NewLogger(t),
			Out: banner, Started: func(i Info) { infos <- i }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case info := <-infos:
		return info, ctx
	case err := <-done:
		done <- err
		t.Fatalf("demo ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start within 30s")
	}
	return Info{}, ctx
}

// waitForAnswer waits until the patron page shows the answer to psid.
func waitForAnswer(t *testing.T, info Info, psid, answer string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("%spatron/messages?page=%s&psid=%s&after=0&wait=2", info.PatronURL, info.PageID, psid))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), answer) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer never showed on the patron page: %s", body)
		}
	}
}

func post(t *testing.T, url string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, body)
	}
}
