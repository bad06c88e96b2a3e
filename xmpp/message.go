package xmpp

import "mellium.im/xmpp/jid"

// Message is a message stanza as the bridge sees it: its addresses, the
// body, and the few extensions the bridge maps.
type Message struct {
	// ID is the stanza id. Outgoing messages always carry one, so bounces
	// can be matched to them.
	ID string
	// From is the sender. A message read from the stream has a valid one
	// (the component domain when the server left it out); one to send
	// must come from the component domain or a JID in it.
	From jid.JID
	// To is the recipient: the component domain or a JID in it for a
	// message read from the stream (others are dropped there); any JID
	// for one to send, but not the zero JID.
	To jid.JID
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
	// "paused", "inactive", "gone"), or empty. A message may carry only a
	// chat state (no body): such messages reach HandleMessage too.
	ChatState string

	// ReceiptRequest asks for an XEP-0184 delivery receipt
	// (<request xmlns='urn:xmpp:receipts'/>). It needs an ID, which every
	// message has.
	ReceiptRequest bool
	// ReceiptFor is the id of the message this one acknowledges as
	// delivered (XEP-0184 <received id='…'/>). A receipt must not request
	// one itself. When decoding, a <received/> without an id (as very old
	// clients send) stands for the id of the stanza carrying it.
	ReceiptFor string
	// Markable marks the message as one whose display may be reported
	// (XEP-0333 <markable/>).
	Markable bool
	// DisplayedFor is the id of the message up to which the sender has
	// read the conversation (XEP-0333 <displayed id='…'/>).
	DisplayedFor string
	// MarkerReceivedFor is the id of a message the sender's client
	// received (XEP-0333 <received id='…'/>). askbridge reports delivery
	// with XEP-0184 (ReceiptFor); this is decoded because some clients
	// send both.
	MarkerReceivedFor string
	// Replace is the id of an earlier message this one corrects (XEP-0308
	// <replace id='…'/>): Body is the whole corrected text.
	Replace string
	// NoStore asks servers not to archive the message or keep it offline
	// (XEP-0334 <no-store/>), for chat states and notices.
	NoStore bool
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
// is the id of the message that failed, From the entity that answered, To
// the address in the component's domain the message came from.
type Bounce struct {
	ID    string
	From  jid.JID
	To    jid.JID
	Error StanzaError
}
