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
	cfg.Server = e.srv.C2SAddr()
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

// profiles is a recorder that names one patron.
type profiles struct{ *recorder }

func (profiles) Nickname(localpart string) (string, bool) {
	return "Instagram patron c01d", localpart == "ig-12345"
}

// TestVCard: with a ProfileHandler, a patron JID's vCard (XEP-0054) holds
// its nickname, for clients that show a vCard's name; unknown JIDs get
// item-not-found, and disco advertises vcard-temp.
func TestVCard(t *testing.T) {
	e := newEnv(t)
	rec := newRecorder()
	e.runWith(t, e.config(), profiles{rec})
	rec.wantLink(t, true, 10*time.Second)
	lib := e.librarian(t)
	ask := func(id, to, payload string) string {
		t.Helper()
		if err := lib.SendRaw(`<iq type='get' id='` + id + `' to='` + to + `'>` + payload + `</iq>`); err != nil {
			t.Fatal(err)
		}
		return nextIQ(t, lib).Raw
	}
	if r := ask("v1", "ig-12345@"+domain, `<vCard xmlns='vcard-temp'/>`); !strings.Contains(r, `<vCard xmlns="vcard-temp"><FN>Instagram patron c01d</FN><NICKNAME>Instagram patron c01d</NICKNAME></vCard>`) {
		t.Errorf("vCard: %s", r)
	}
	if r := ask("v2", "999@"+domain, `<vCard xmlns='vcard-temp'/>`); !strings.Contains(r, `type="error"`) || !strings.Contains(r, "item-not-found") {
		t.Errorf("unknown patron's vCard: %s", r)
	}
	if r := ask("v3", "ig-12345@"+domain, `<query xmlns='http://jabber.org/protocol/disco#info'/>`); !strings.Contains(r, `<feature var="vcard-temp">`) {
		t.Errorf("disco: %s", r)
	}
}
