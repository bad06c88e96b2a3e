package xmpp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/xmpp"
)

// TestClientPortRecognised: pointed at Prosody's client port by mistake,
// the component says so, instead of blaming the domain.
func TestClientPortRecognised(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Server = e.srv.C2SAddr
	e.run(t, cfg)
	eventually(t, 10*time.Second, "the client port named in the log", func() bool {
		for _, l := range e.logs.All() {
			if strings.Contains(l.Message, "xmpp.server is the Jabber server's client port") {
				err, _ := l.ContextMap()["error"].(string)
				return strings.Contains(err, xmpp.ErrClientPort.Error())
			}
		}
		return false
	})
	for _, l := range e.logs.All() {
		if strings.Contains(l.Message, "has no component for this domain") {
			t.Errorf("the client port was blamed on the domain: %s", l.Message)
		}
	}
}
