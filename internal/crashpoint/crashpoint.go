// Package crashpoint lets tests kill the daemon at a named point of the
// message path, to prove that nothing acknowledged is lost and nothing is
// relayed twice across a crash.
//
// The environment variable ASKBRIDGE_CRASHPOINT names the point, optionally
// followed by ":N" to crash at its N-th hit (default 1). Unset, Hit costs
// one comparison.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Env is the environment variable that arms a crash point.
const Env = "ASKBRIDGE_CRASHPOINT"

// The crash points along the message path.
const (
	// AfterInboxCommit: webhook events are stored, the 200 not yet sent.
	// It fires within the commit, before the XMPP outbox's owner is
	// handed what the commit queued: none of it is written yet.
	AfterInboxCommit = "after-inbox-commit"
	// AfterDispatch: inbox entries (or webhook events routed at once)
	// moved to the XMPP outbox, none of them written yet (as above).
	AfterDispatch = "after-dispatch"
	// AfterXMPPCommit: stanzas written and removed from the outbox.
	AfterXMPPCommit = "after-xmpp-commit"
	// AfterReplyStored: a librarian's reply is in the Send API outbox.
	AfterReplyStored = "after-reply-stored"
	// BeforeSendAPI: a Send API attempt is recorded, the call not made.
	BeforeSendAPI = "before-send-api"
	// AfterSendAPI: Facebook accepted a message; the outbox entry is
	// still there.
	AfterSendAPI = "after-send-api"
)

var (
	point string
	at    int64 = 1
	hits  atomic.Int64
)

func init() {
	v := os.Getenv(Env)
	if v == "" {
		return
	}
	name, n, found := strings.Cut(v, ":")
	point = name
	if found {
		if k, err := strconv.ParseInt(n, 10, 64); err == nil && k > 0 {
			at = k
		}
	}
}

// Hit kills the process with SIGKILL if name is the armed point and this
// is the hit it waits for.
func Hit(name string) {
	if point == "" || name != point {
		return
	}
	if hits.Add(1) == at {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL is not delivered synchronously everywhere
	}
}
