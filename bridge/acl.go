package bridge

import (
	"slices"
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
)

// mayAnswer reports whether who (its bare JID) may answer patrons of the
// Page: a configured queue, or a JID matching xmpp.operators (exact, or
// *@domain). The configuration's JIDs, checked when it was loaded, are
// parsed here to be compared.
func mayAnswer(cfg *config.Config, who jid.JID, page string) bool {
	bare := who.Bare()
	if bare.Domainpart() == "" {
		return false
	}
	is := func(s string) bool { return parseJID(s).Equal(bare) }
	if is(cfg.QueueFor(page)) || is(cfg.XMPP.Queue) {
		return true
	}
	for _, p := range cfg.Messenger.Pages {
		if is(p.Queue) {
			return true
		}
	}
	for _, op := range cfg.XMPP.Operators {
		if domain, ok := strings.CutPrefix(op, "*@"); ok {
			if bare.Localpart() != "" && parseJID(domain).Equal(bare.Domain()) {
				return true
			}
			continue
		}
		if is(op) {
			return true
		}
	}
	return false
}

// parseJID parses an address the bridge keeps as a string: in its stored
// records (written from a JID), or in the configuration (checked when it
// was loaded). One that does not parse is the zero JID, which equals no
// address a stanza carries and which the component refuses to send to
// (xmpp.ErrInvalidMessage), as it refused the string.
func parseJID(s string) jid.JID {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}
	}
	return j
}

// listed reports whether addrs, addresses the bridge keeps as strings,
// hold j.
func listed(addrs []string, j jid.JID) bool {
	return slices.ContainsFunc(addrs, func(s string) bool { return parseJID(s).Equal(j) })
}
