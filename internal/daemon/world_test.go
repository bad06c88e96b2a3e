package daemon_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/internal/prosody"
	"github.com/askbridge/askbridge/internal/testenv"
)

// world is the test world (testenv) of one test, with the checks every
// daemon test makes: the watchdog's check fails before the daemon serves,
// and the daemon logs, at debug level, neither a secret nor a PSID.
type world struct {
	*testenv.World
	t *testing.T
}

// newWorld is a world on Prosody with the accounts librarian, mallory and
// ya; mutate change the daemon's configuration.
func newWorld(t *testing.T, mutate ...func(*config.Config)) *world {
	t.Helper()
	return newWorldWith(t, testenv.Options{Config: func(c *config.Config) {
		for _, m := range mutate {
			m(c)
		}
	}})
}

// ejabberdWorld is newWorld's world on Debian's ejabberd instead of
// Prosody, with the accounts librarian and mallory: the basic relay must
// work against both servers.
func ejabberdWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, testenv.Options{Server: testenv.Ejabberd, Users: []testenv.User{{Name: "mallory", Password: "pw-mallory"}}})
}

// newWorldWith starts a world with o (mallory and ya for o.Users if nil).
func newWorldWith(t *testing.T, o testenv.Options) *world {
	t.Helper()
	if o.Users == nil {
		o.Users = []testenv.User{{Name: "mallory", Password: "pw-mallory"}, {Name: "ya", Password: "pw-ya"}}
	}
	logs := &lockedBuffer{}
	built := false
	t.Cleanup(func() {
		if built { // a test skipped for want of a server has no log to check
			checkLog(t, logs)
		}
	})
	o.Log = zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.DebugLevel)
	o.BeforeRun = func(d *daemon.Daemon) {
		built = true
		if err := d.Working(context.Background()); err == nil {
			t.Error("the watchdog check passed before the HTTP server serves")
		}
	}
	return &world{World: testenv.New(t, o), t: t}
}

// prosody is the world's Prosody, for what only it can do (halt, pause).
func (w *world) prosody() *prosody.Server {
	w.t.Helper()
	s, ok := w.Server.(*prosody.Server)
	if !ok {
		w.t.Fatalf("the world runs %s, not Prosody", w.Server.Name())
	}
	return s
}

// checkLog fails the test if the daemon's log holds a secret or a PSID, or
// is empty.
func checkLog(t *testing.T, logs *lockedBuffer) {
	t.Helper()
	for _, secret := range []string{testenv.AppSecret, testenv.PageToken, testenv.ComponentSecret, testenv.VerifyToken} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret appears in the log: %q", secret)
		}
	}
	if logs.Len() == 0 {
		t.Error("the daemon logged nothing at debug level")
	}
	// Patron identity (PSIDs are 15–17 digits) never appears either,
	// not even in a patron JID.
	// A guest pseudonym is 16 hex digits, which may all be decimal
	// ones (about once in 2,000): those, logged as guests, are not
	// PSIDs.
	guests := map[string]bool{}
	for _, g := range guestField.FindAllStringSubmatch(logs.String(), -1) {
		guests[g[1]] = true
	}
	for _, m := range psidLike.FindAllString(logs.String(), -1) {
		if m != testenv.PageID && m != testenv.AppID && m != testenv.InstagramID && !guests[m] {
			t.Errorf("a PSID-like number appears in the log: %s", m)
			break
		}
	}
}

var psidLike = regexp.MustCompile(`\b[0-9]{15,17}\b`)

// guestField finds the guest pseudonyms in JSON log lines.
var guestField = regexp.MustCompile(`"guest":"([0-9a-f]{16})"`)

// lockedBuffer is a bytes.Buffer safe for concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}
