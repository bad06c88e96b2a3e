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
	nsReceipts   = "urn:xmpp:receipts"
	nsMarkers    = "urn:xmpp:chat-markers:0"
	nsCorrect    = "urn:xmpp:message-correct:0"
	nsHints      = "urn:xmpp:hints"
	nsSID        = "urn:xmpp:sid:0"
)

// chatStates are the XEP-0085 states, which are also element names.
var chatStates = map[string]bool{"active": true, "composing": true, "paused": true, "inactive": true, "gone": true}

// messageTypes are the types Send accepts (RFC 6121 §5.2.2; "error" is
// reserved for answers, which Handler.HandleMessage's result produces).
var messageTypes = map[string]bool{"chat": true, "normal": true, "groupchat": true, "headline": true}

// presenceTypes are the presence types of RFC 6121 §4.7.1; "" is
// available presence.
var presenceTypes = map[string]bool{
	"": true, "unavailable": true, "subscribe": true, "subscribed": true,
	"unsubscribe": true, "unsubscribed": true, "probe": true, "error": true,
}

// showValues are the <show/> values of RFC 6121 §4.7.2.1.
var showValues = map[string]bool{"away": true, "chat": true, "dnd": true, "xa": true}

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
