package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/jabberclient"
	"github.com/askbridge/askbridge/internal/prosody"
)

// TestDemo runs the demo as a person would use it: the patron types on the
// stand-in page (its JSON API), the librarian answers from a Jabber client
// with the printed account, and the answer shows on the patron page.
func TestDemo(t *testing.T) {
	prosody.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	infos := make(chan Info, 1)
	done := make(chan error, 1)
	var banner bytes.Buffer
	go func() {
		done <- Run(ctx, Options{Dir: t.TempDir(), C2SPort: -1, PatronPort: -1, Log: zaptest.NewLogger(t),
			Out: &banner, Started: func(i Info) { infos <- i }})
	}()
	var info Info
	select {
	case info = <-infos:
	case err := <-done:
		t.Fatalf("demo ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start within 30s")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	if !strings.Contains(banner.String(), info.Password) || !strings.Contains(banner.String(), info.PatronURL) {
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

	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	defer lcancel()
	lib, err := jabberclient.Dial(lctx, info.C2SAddr, jid.MustParse(info.Librarian), info.Password, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()

	const psid = "7010203040506070"
	post(t, info.PatronURL+"patron/send", map[string]string{"page": string(info.PageID), "psid": psid, "text": "Is the library open on Sunday?"})
	var m jabberclient.Received
	for m.Body == "" {
		if m, err = lib.Next(lctx); err != nil {
			t.Fatal(err)
		}
	}
	if m.Body != "Is the library open on Sunday?" || !strings.HasPrefix(m.From, psid+"@"+info.PatronJIDAt) {
		t.Fatalf("librarian got %+v", m)
	}
	if _, err := lib.SendChat(psid+"@"+info.PatronJIDAt, "Yes, from 1 to 5 pm."); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("%spatron/messages?page=%s&psid=%s&after=0&wait=2", info.PatronURL, info.PageID, psid))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "Yes, from 1 to 5 pm.") {
			break
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
