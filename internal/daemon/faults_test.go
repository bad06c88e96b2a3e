package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/testenv"
)

// waitReadyz waits until /readyz answers want (200 or 503).
func (w *world) waitReadyz(want int) string {
	w.t.Helper()
	var body string
	if !testenv.Holds(20*time.Second, func() bool {
		resp, err := http.Get(w.URL("/readyz"))
		if err != nil {
			return false
		}
		body = readAll(resp)
		return resp.StatusCode == want
	}) {
		w.t.Fatalf("/readyz never answered %d", want)
	}
	return body
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// postSeries posts n patron messages and requires every one acknowledged.
func (w *world) postSeries(psid, tag string, n int) []string {
	w.t.Helper()
	var texts []string
	for k := 0; k < n; k++ {
		text := fmt.Sprintf("%s %02d", tag, k)
		body := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"mid.%s.%d","text":"%s"}}]}]}`,
			testenv.PageID, time.Now().UnixMilli(), psid, testenv.PageID, time.Now().UnixMilli()+int64(k), strings.ReplaceAll(tag, " ", "-"), k, text))
		status, err := w.Facebook.PostSigned(context.Background(), body)
		if err != nil || status != 200 {
			w.t.Fatalf("webhook %d: status %d, %v", k, status, err)
		}
		texts = append(texts, text)
	}
	return texts
}

// expectInOrder reads the librarian's messages and checks they are exactly
// want, in order.
func expectInOrder(t *testing.T, c *jabberclient.Client, want []string) {
	t.Helper()
	var got []string
	for len(got) < len(want) {
		got = append(got, nextChat(t, c).Body)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("librarian got %q, want %q", got, want)
	}
}

// TestJabberServerStoppedAndRestarted: with Prosody down, webhooks are
// still acknowledged and kept, /readyz says not ready, and once Prosody is
// back the link returns and the messages arrive in order.
func TestJabberServerStoppedAndRestarted(t *testing.T) {
	w := newWorld(t)
	if err := w.prosody().Halt(); err != nil {
		t.Fatal(err)
	}
	body := w.waitReadyz(503)
	if !strings.Contains(body, `"xmpp":"component not connected`) {
		t.Errorf("readyz body: %s", body)
	}
	texts := w.postSeries("4100000000000001", "while down", 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Server.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitReadyz(200)
	lib := w.LoginLibrarian() // offline messages arrive at login
	expectInOrder(t, lib, texts)
}

// TestJabberServerFrozen: a SIGSTOPped Prosody keeps the TCP connection
// open but answers nothing; keepalive timeouts notice, /readyz says not
// ready, webhooks are still kept, and after SIGCONT everything arrives.
func TestJabberServerFrozen(t *testing.T) {
	w := newWorld(t)
	lib := w.LoginLibrarian()
	if err := w.prosody().Pause(); err != nil {
		t.Fatal(err)
	}
	w.waitReadyz(503)
	texts := w.postSeries("4100000000000002", "while frozen", 5)
	if err := w.prosody().Resume(); err != nil {
		t.Fatal(err)
	}
	w.waitReadyz(200)
	expectInOrder(t, lib, texts)
}

// TestReplyWhileComponentAwayIsBounced: a librarian writing to a patron
// while the bridge is not connected gets an error from the Jabber server,
// never silence.
func TestReplyWhileComponentAwayIsBounced(t *testing.T) {
	replyWhileComponentAwayIsBounced(t, newWorld(t))
}

// replyWhileComponentAwayIsBounced stops the daemon and checks that the
// server answers the librarian's message to a patron with an error.
func replyWhileComponentAwayIsBounced(t *testing.T, w *world) {
	t.Helper()
	lib := w.LoginLibrarian()
	w.StopDaemon()
	if _, err := lib.SendChat("4100000000000003@"+testenv.ComponentDomain, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	m := nextChat(t, lib)
	if m.Type != "error" || m.ErrorCondition == "" {
		t.Fatalf("librarian got %+v, want an error stanza", m)
	}
	t.Logf("%s answered %s: %s", w.Server.Name(), m.ErrorCondition, m.Raw)
}
