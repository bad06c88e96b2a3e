package xmpp

// Message is a message stanza as the bridge sees it: addresses as strings
// (full JIDs), the body, and the few extensions the bridge maps.
type Message struct {
	// ID is the stanza id. Outgoing messages always carry one, so bounces
	// can be matched to them.
	ID   string
	From string
	To   string
	// Type is "chat" (the default), "normal", "groupchat" or "headline".
	// Error stanzas arrive as a Bounce instead, and are never sent.
	Type string
	Body string
	// Thread is the XEP-0201 thread, kept when a client sets one.
	Thread string
	// Nick is an XEP-0172 nickname to announce with the message.
	Nick string
	// OOB is an XEP-0066 out-of-band URL.
	OOB string
	// ChatState is an XEP-0085 chat state ("active", "composing",
	// "paused", "inactive", "gone"), or empty.
	ChatState string
}

// StanzaError is an XMPP stanza error: a defined condition such as
// "forbidden" or "service-unavailable", its type ("cancel", "auth",
// "modify", "wait"), and optional human-readable text.
type StanzaError struct {
	Type      string
	Condition string
	Text      string
}

// Error implements the error interface.
func (e *StanzaError) Error() string {
	if e.Text != "" {
		return "xmpp: " + e.Condition + ": " + e.Text
	}
	return "xmpp: " + e.Condition
}

// Bounce is an error stanza that answers a message the component sent: ID
// is the id of the message that failed, From the entity that answered.
type Bounce struct {
	ID    string
	From  string
	To    string
	Error StanzaError
}
