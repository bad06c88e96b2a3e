package standin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"
)

// call makes a patron API request and decodes the JSON answer into out.
func call(t *testing.T, method, u, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, u, raw, err)
		}
	}
	return resp.StatusCode
}

type messagesResponse struct {
	Messages []chatEntry `json:"messages"`
}

func messagesURL(base string, page messenger.PageID, psid messenger.PSID, after int, wait string) string {
	q := url.Values{"page": {string(page)}, "psid": {string(psid)}, "after": {strconv.Itoa(after)}, "wait": {wait}}
	return base + "/patron/messages?" + q.Encode()
}

func TestPatronPage(t *testing.T) {
	r := newRig(t, false)
	resp, err := http.Get(r.graph.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	html, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<title>Messenger stand-in — Central Library</title>", `id="psid"`, `id="text"`, "patron/messages"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("patron page lacks %q", want)
		}
	}
	for _, external := range []string{"<script src", "<link rel=\"stylesheet\"", "@import"} {
		if strings.Contains(string(html), external) {
			t.Errorf("patron page loads external assets (%s)", external)
		}
	}
	var pages []struct{ ID, Name string }
	if code := call(t, "GET", r.graph.URL+"/patron/pages", "", &pages); code != 200 || len(pages) != 2 ||
		pages[0].ID != string(pageA) || pages[0].Name != "Central Library" {
		t.Errorf("pages = %d %+v", code, pages)
	}
}

func TestPatronAPIRoundTrip(t *testing.T) {
	r := newRig(t, false)
	base := r.graph.URL

	var sent struct{ MID messenger.MID }
	body := `{"page":"` + string(pageA) + `","psid":"` + string(patron) + `","text":"Do you have Dune?"}`
	if code := call(t, "POST", base+"/patron/send", body, &sent); code != 200 || !strings.HasPrefix(string(sent.MID), "m_") {
		t.Fatalf("send = %d %+v", code, sent)
	}
	ev := r.sink.wait(t, 1)[0]
	if ev.Kind != messenger.KindMessage || ev.MID != sent.MID || ev.Text != "Do you have Dune?" || ev.Patron != patron {
		t.Fatalf("bridge got %+v", ev)
	}

	// The library answers through the Send API.
	res, err := r.client.Send(context.Background(), tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, Text: "Yes, 2 copies."})
	if err != nil {
		t.Fatal(err)
	}
	var got messagesResponse
	if code := call(t, "GET", messagesURL(base, pageA, patron, 0, "0"), "", &got); code != 200 || len(got.Messages) != 2 {
		t.Fatalf("messages = %d %+v", code, got)
	}
	m0, m1 := got.Messages[0], got.Messages[1]
	if m0.Index != 1 || m0.From != "patron" || m0.Text != "Do you have Dune?" || m0.MID != sent.MID {
		t.Errorf("first entry %+v", m0)
	}
	if m1.Index != 2 || m1.From != "page" || m1.Text != "Yes, 2 copies." || m1.MID != res.MessageID {
		t.Errorf("second entry %+v", m1)
	}
	// Other patrons and Pages see nothing of it.
	if call(t, "GET", messagesURL(base, pageB, patron, 0, "0"), "", &got); len(got.Messages) != 0 {
		t.Errorf("page B sees %+v", got.Messages)
	}

	// A long poll returns as soon as something happens.
	done := make(chan messagesResponse, 1)
	go func() {
		var polled messagesResponse
		call(t, "GET", messagesURL(base, pageA, patron, 2, "10"), "", &polled)
		done <- polled
	}()
	select {
	case <-r.polls: // the poll is at the stand-in, waiting (or about to)
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll never reached the stand-in")
	}
	start := time.Now()
	if _, err := r.client.Send(context.Background(), tokenA, pageA, messenger.OutgoingMessage{Recipient: patron, SenderAction: "typing_on"}); err != nil {
		t.Fatal(err)
	}
	select {
	case polled := <-done:
		if len(polled.Messages) != 1 || polled.Messages[0].Index != 3 || polled.Messages[0].SenderAction != "typing_on" {
			t.Errorf("long poll got %+v", polled)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("long poll took %v", time.Since(start))
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long poll did not return")
	}

	// Read receipts go to the bridge.
	if code := call(t, "POST", base+"/patron/read", `{"page":"`+string(pageA)+`","psid":"`+string(patron)+`"}`, nil); code != 200 {
		t.Fatalf("read = %d", code)
	}
	if ev := r.sink.wait(t, 2)[1]; ev.Kind != messenger.KindRead {
		t.Errorf("bridge got %+v, want a read", ev)
	}
}

func TestPatronAPIErrors(t *testing.T) {
	r := newRig(t, false)
	base := r.graph.URL
	tests := []struct {
		name, method, path, body string
		status                   int
		errPart                  string
	}{
		{"bad PSID", "POST", "/patron/send", `{"page":"` + string(pageA) + `","psid":"abc","text":"hi"}`, 400, "PSID"},
		{"unknown page", "POST", "/patron/send", `{"page":"1","psid":"123","text":"hi"}`, 400, "unknown page"},
		{"empty text", "POST", "/patron/send", `{"page":"` + string(pageA) + `","psid":"123","text":""}`, 400, "Type a message"},
		{"not JSON", "POST", "/patron/send", `hello`, 400, "not JSON"},
		{"poll bad after", "GET", "/patron/messages?page=" + string(pageA) + "&psid=123&after=x", "", 400, "after"},
		{"poll bad PSID", "GET", "/patron/messages?page=" + string(pageA) + "&psid=&after=0", "", 400, "PSID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e struct{ Error string }
			if code := call(t, tt.method, base+tt.path, tt.body, &e); code != tt.status || !strings.Contains(e.Error, tt.errPart) {
				t.Errorf("= %d %q; want %d containing %q", code, e.Error, tt.status, tt.errPart)
			}
		})
	}

	// The bridge refuses: the patron sees why, and the conversation notes it.
	r.sink.setErr(errors.New("disk full"))
	var e struct{ Error string }
	body := `{"page":"` + string(pageA) + `","psid":"` + string(patron) + `","text":"hello?"}`
	if code := call(t, "POST", base+"/patron/send", body, &e); code != http.StatusBadGateway || !strings.Contains(e.Error, "HTTP 500") {
		t.Errorf("refused send = %d %q", code, e.Error)
	}
	var got messagesResponse
	call(t, "GET", messagesURL(base, pageA, patron, 0, "0"), "", &got)
	if len(got.Messages) != 2 || got.Messages[1].From != "system" || !strings.Contains(got.Messages[1].Text, "HTTP 500") {
		t.Errorf("conversation %+v, want the message and a system note", got.Messages)
	}
}
