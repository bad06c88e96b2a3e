package bridge

import (
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
)

// mayAnswer reports whether the bare JID may answer patrons of the Page:
// a configured queue, or a JID matching xmpp.operators (exact, or *@domain).
func mayAnswer(cfg *config.Config, bare, page string) bool {
	if bare == "" {
		return false
	}
	if strings.EqualFold(bare, cfg.QueueFor(page)) || strings.EqualFold(bare, cfg.XMPP.Queue) {
		return true
	}
	for _, p := range cfg.Messenger.Pages {
		if p.Queue != "" && strings.EqualFold(bare, p.Queue) {
			return true
		}
	}
	for _, op := range cfg.XMPP.Operators {
		if domain, ok := strings.CutPrefix(op, "*@"); ok {
			if j, err := jid.Parse(bare); err == nil && j.Localpart() != "" && strings.EqualFold(j.Domainpart(), domain) {
				return true
			}
			continue
		}
		if strings.EqualFold(op, bare) {
			return true
		}
	}
	return false
}

// bareJID returns the bare form of a JID string, or "" if it is invalid.
func bareJID(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.Bare().String()
}

func localpart(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.Localpart()
}

func sameBare(a, b string) bool {
	ba, bb := bareJID(a), bareJID(b)
	return ba != "" && ba == bb
}

func resourcepart(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.Resourcepart()
}
