package xmpp

// XML namespaces the component uses.
const (
	nsStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsPing       = "urn:xmpp:ping"
	nsVersion    = "jabber:iq:version"
	nsChatStates = "http://jabber.org/protocol/chatstates"
	nsOOB        = "jabber:x:oob"
	nsNick       = "http://jabber.org/protocol/nick"
	nsXML        = "http://www.w3.org/XML/1998/namespace"
)

// chatStates are the XEP-0085 states, which are also element names.
var chatStates = map[string]bool{"active": true, "composing": true, "paused": true, "inactive": true, "gone": true}

// messageTypes are the types Send accepts (RFC 6121 §5.2.2; "error" is
// reserved for answers, which Handler.HandleMessage's result produces).
var messageTypes = map[string]bool{"chat": true, "normal": true, "groupchat": true, "headline": true}

// errorTypes are the stanza error types of RFC 6120 §8.3.2.
var errorTypes = map[string]bool{"auth": true, "cancel": true, "continue": true, "modify": true, "wait": true}

// errorConditions are the defined stanza error conditions of RFC 6120
// §8.3.3.
var errorConditions = map[string]bool{
	"bad-request": true, "conflict": true, "feature-not-implemented": true,
	"forbidden": true, "gone": true, "internal-server-error": true,
	"item-not-found": true, "jid-malformed": true, "not-acceptable": true,
	"not-allowed": true, "not-authorized": true, "policy-violation": true,
	"recipient-unavailable": true, "redirect": true,
	"registration-required": true, "remote-server-not-found": true,
	"remote-server-timeout": true, "resource-constraint": true,
	"service-unavailable": true, "subscription-required": true,
	"undefined-condition": true, "unexpected-request": true,
}
