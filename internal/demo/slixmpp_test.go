package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/internal/localserver"
	"github.com/askbridge/askbridge/internal/prosody"
)

// slixmppPython is the interpreter that has Debian's python3-slixmpp.
const slixmppPython = "/usr/bin/python3"

// RequireSlixmppEnv makes TestDemoWithThirdPartyClient fail instead of
// skip when slixmpp is missing.
const RequireSlixmppEnv = "ASKBRIDGE_REQUIRE_SLIXMPP"

// TestDemoWithThirdPartyClient answers a patron in the demo from a Jabber
// client that is not askbridge's own: slixmpp, logging in over STARTTLS
// with the demo's certificate, as a librarian's desktop client would.
func TestDemoWithThirdPartyClient(t *testing.T) {
	prosody.Require(t)
	var missing error
	if err := exec.Command(slixmppPython, "-c", "import slixmpp").Run(); err != nil {
		missing = fmt.Errorf("slixmpp is missing (apt-get install python3-slixmpp): %w", err)
	}
	localserver.Require(t, missing, RequireSlixmppEnv)

	info, ctx := startDemo(t, io.Discard)
	host, port, err := net.SplitHostPort(info.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	const answer = "Yes: 813.54 HER, second floor."
	cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
	defer ccancel()
	cmd := exec.CommandContext(cctx, slixmppPython, "testdata/librarian.py", info.Librarian, info.Password, host, port, answer)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(out)
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("the client ended early: %v", errors.Join(lines.Err(), cmd.Wait()))
		}
		return lines.Text()
	}
	if l := next(); l != "READY" {
		t.Fatalf("client: %s", l)
	}

	const psid = "7020304050607080"
	post(t, info.PatronURL+"patron/send", map[string]string{"page": string(info.PageID), "psid": psid, "text": "Do you have Dune?"})
	var got struct {
		From, Body, Nick, Error string
		TLS, Markable           bool
	}
	if err := json.Unmarshal([]byte(next()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Error != "" || !got.TLS || !got.Markable || got.Body != "Do you have Dune?" ||
		!strings.HasPrefix(got.From, psid+"@"+info.PatronJIDAt) || !strings.HasPrefix(got.Nick, "Facebook patron ") {
		t.Fatalf("the client got %+v", got)
	}
	waitForAnswer(t, info, psid, answer)
	// The client's displayed marker reached Messenger as "Seen" (mark_seen).
	waitForAnswer(t, info, psid, `"sender_action":"mark_seen"`)
}
