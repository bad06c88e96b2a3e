package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/testenv"
	"github.com/askbridge/askbridge/messenger/standin"
	"github.com/askbridge/askbridge/xmpp"
)

// poisonServerLimit is the Prosody component_stanza_size_limit of these
// tests: a patron text longer than it closed the stream before the bridge
// split texts.
const poisonServerLimit = 32 << 10

// longText is about n bytes of words.
func longText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString([]string{"Could", "you", "find", "me", "<every>", "edition", "&", "translation", "of", "Moby-Dick?"}[i%10])
	}
	return b.String()
}

// metric reads one line of /metrics: the value of the series named by
// prefix (name and labels), or "" when absent.
func (w *world) metric(prefix string) string {
	w.t.Helper()
	for _, line := range strings.Split(w.metricLines(prefix+" "), "\n") {
		if v, ok := strings.CutPrefix(line, prefix+" "); ok {
			return v
		}
	}
	return ""
}

// TestPoisonTextDoesNotStallOthers: a patron text three times larger than
// the Jabber server's stanza limit reaches the librarian split into
// messages that each fit, in order, and the other patrons' messages follow;
// the link never goes down, /readyz stays ready, and after a restart
// nothing is left waiting.
func TestPoisonTextDoesNotStallOthers(t *testing.T) {
	w := newWorldWith(t, testenv.Options{ComponentStanzaLimit: poisonServerLimit,
		Config: func(c *config.Config) { c.XMPP.MaxStanzaBytes = 16 << 10 }})
	lib := w.LoginLibrarian()
	ctx := context.Background()
	long := longText(3 * poisonServerLimit)
	poisoner, other1, other2 := standin.NewPSID(), standin.NewPSID(), standin.NewPSID()
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, poisoner, long); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, other1, "Are you open on Sunday?"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Facebook.PatronSays(ctx, testenv.PageID, other2, "\x00\x01\x08\uFFFE"); err != nil {
		t.Fatal(err)
	}
	var parts []string
	others := map[string]string{}
	for len(others) < 2 {
		m := nextChat(t, lib)
		switch from := strings.SplitN(m.From, "@", 2)[0]; from {
		case string(poisoner):
			if len(others) > 0 {
				t.Fatalf("a part of the long text came after another patron's message")
			}
			if len(m.Raw) > 16<<10 {
				t.Errorf("a part arrived as a %d-byte stanza", len(m.Raw))
			}
			parts = append(parts, m.Body)
		default:
			others[from] = m.Body
		}
	}
	if len(parts) < 6 || strings.Join(parts, " ") != long {
		t.Fatalf("the long text arrived in %d parts that do not add up to it", len(parts))
	}
	if others[string(other1)] != "Are you open on Sunday?" || others[string(other2)] != xmpp.NoDisplayableText {
		t.Errorf("the other patrons' messages: %q", others)
	}
	if v := w.metric(`askbridge_xmpp_link_changes_total{state="down"}`); v != "" && v != "0" {
		t.Errorf("the link went down %s times", v)
	}
	w.waitReadyz(200)
	waitPending(t, w, 0)

	w.RestartDaemon()
	waitPending(t, w, 0)
	w.patronWrites(lib, "after the restart")
	if n, err := w.Daemon.Bridge().ParkedCount(); err != nil || n != 0 {
		t.Errorf("%d entries parked, %v", n, err)
	}
}

// waitPending waits until n messages are left to relay.
func waitPending(t *testing.T, w *world, n int) {
	t.Helper()
	var got int
	var err error
	if !testenv.Holds(10*time.Second, func() bool {
		got, err = w.Daemon.Bridge().Pending()
		return err == nil && got == n
	}) {
		t.Fatalf("%d messages left to relay (%v), want %d", got, err, n)
	}
}
