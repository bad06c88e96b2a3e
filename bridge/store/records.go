package store

import (
	"encoding/json"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// The store keeps messages of the xmpp and messenger packages in record
// types of its own, so that a change to those packages' structs cannot
// change what is on disk (a renamed field would otherwise empty every
// queued message after an upgrade). Stanza errors and attachments convert
// by Go conversion, so that a change to their fields stops the build
// here, where the store's format must be decided; messages, presences and
// outgoing messages are copied field by field, and
// TestRecordTypesCoverTheirStructs fails when their structs gain a field
// the store does not keep. Addresses are kept as strings (jid.JID's
// String); read back, one that does not parse is the zero JID (parseJID),
// which the writer refuses as invalid as it refused the string. The JSON
// keys are those earlier releases wrote (the Go field names), so their
// stores read as they are (testdata/records-before-store-types.json).

// storedMessage is an xmpp.Message in the store.
type storedMessage struct {
	ID                string `json:"ID"`
	From              string `json:"From,omitempty"`
	To                string `json:"To,omitempty"`
	Type              string `json:"Type,omitempty"`
	Body              string `json:"Body,omitempty"`
	Thread            string `json:"Thread,omitempty"`
	Nick              string `json:"Nick,omitempty"`
	OOB               string `json:"OOB,omitempty"`
	ChatState         string `json:"ChatState,omitempty"`
	ReceiptRequest    bool   `json:"ReceiptRequest,omitempty"`
	ReceiptFor        string `json:"ReceiptFor,omitempty"`
	Markable          bool   `json:"Markable,omitempty"`
	DisplayedFor      string `json:"DisplayedFor,omitempty"`
	MarkerReceivedFor string `json:"MarkerReceivedFor,omitempty"`
	Replace           string `json:"Replace,omitempty"`
	NoStore           bool   `json:"NoStore,omitempty"`
}

// storedPresence is an xmpp.Presence in the store.
type storedPresence struct {
	ID       string             `json:"ID,omitempty"`
	From     string             `json:"From,omitempty"`
	To       string             `json:"To,omitempty"`
	Type     string             `json:"Type,omitempty"`
	Show     string             `json:"Show,omitempty"`
	Status   string             `json:"Status,omitempty"`
	Nick     string             `json:"Nick,omitempty"`
	Priority int                `json:"Priority,omitempty"`
	Error    *storedStanzaError `json:"Error,omitempty"`
}

// storedStanzaError is an xmpp.StanzaError in the store.
type storedStanzaError struct {
	Type      string `json:"Type,omitempty"`
	Condition string `json:"Condition,omitempty"`
	Text      string `json:"Text,omitempty"`
}

// storedOutgoing is a messenger.OutgoingMessage in the store.
type storedOutgoing struct {
	Recipient     messenger.PSID    `json:"Recipient"`
	MessagingType string            `json:"MessagingType,omitempty"`
	Tag           string            `json:"Tag,omitempty"`
	Text          string            `json:"Text,omitempty"`
	Metadata      string            `json:"Metadata,omitempty"`
	Attachment    *storedAttachment `json:"Attachment,omitempty"`
	SenderAction  string            `json:"SenderAction,omitempty"`
}

// storedAttachment is a messenger.Attachment in the store.
type storedAttachment struct {
	Type      string  `json:"type"`
	URL       string  `json:"url,omitempty"`
	Title     string  `json:"title,omitempty"`
	StickerID string  `json:"sticker_id,omitempty"`
	Lat       float64 `json:"lat,omitempty"`
	Long      float64 `json:"long,omitempty"`
}

func storePresence(p *xmpp.Presence) *storedPresence {
	if p == nil {
		return nil
	}
	s := storedPresence{ID: p.ID, From: p.From.String(), To: p.To.String(), Type: p.Type, Show: p.Show, Status: p.Status, Nick: p.Nick, Priority: p.Priority}
	if p.Error != nil {
		e := storedStanzaError(*p.Error)
		s.Error = &e
	}
	return &s
}

func (s *storedPresence) presence() *xmpp.Presence {
	if s == nil {
		return nil
	}
	p := xmpp.Presence{ID: s.ID, From: addressOf(s.From), To: addressOf(s.To), Type: s.Type, Show: s.Show, Status: s.Status, Nick: s.Nick, Priority: s.Priority}
	if s.Error != nil {
		e := xmpp.StanzaError(*s.Error)
		p.Error = &e
	}
	return &p
}

func storeOutgoing(m messenger.OutgoingMessage) storedOutgoing {
	s := storedOutgoing{Recipient: m.Recipient, MessagingType: m.MessagingType, Tag: m.Tag, Text: m.Text,
		Metadata: m.Metadata, SenderAction: m.SenderAction}
	if m.Attachment != nil {
		a := storedAttachment(*m.Attachment)
		s.Attachment = &a
	}
	return s
}

func (s storedOutgoing) outgoing() messenger.OutgoingMessage {
	m := messenger.OutgoingMessage{Recipient: s.Recipient, MessagingType: s.MessagingType, Tag: s.Tag, Text: s.Text,
		Metadata: s.Metadata, SenderAction: s.SenderAction}
	if s.Attachment != nil {
		a := messenger.Attachment(*s.Attachment)
		m.Attachment = &a
	}
	return m
}

func storeMessage(m xmpp.Message) storedMessage {
	return storedMessage{ID: m.ID, From: m.From.String(), To: m.To.String(), Type: m.Type, Body: m.Body,
		Thread: m.Thread, Nick: m.Nick, OOB: m.OOB, ChatState: m.ChatState, ReceiptRequest: m.ReceiptRequest,
		ReceiptFor: m.ReceiptFor, Markable: m.Markable, DisplayedFor: m.DisplayedFor,
		MarkerReceivedFor: m.MarkerReceivedFor, Replace: m.Replace, NoStore: m.NoStore}
}

func (s storedMessage) message() xmpp.Message {
	return xmpp.Message{ID: s.ID, From: addressOf(s.From), To: addressOf(s.To), Type: s.Type, Body: s.Body,
		Thread: s.Thread, Nick: s.Nick, OOB: s.OOB, ChatState: s.ChatState, ReceiptRequest: s.ReceiptRequest,
		ReceiptFor: s.ReceiptFor, Markable: s.Markable, DisplayedFor: s.DisplayedFor,
		MarkerReceivedFor: s.MarkerReceivedFor, Replace: s.Replace, NoStore: s.NoStore}
}

func storeMessages(ms []xmpp.Message) []storedMessage {
	if ms == nil {
		return nil
	}
	out := make([]storedMessage, len(ms))
	for i, m := range ms {
		out[i] = storeMessage(m)
	}
	return out
}

func messages(ss []storedMessage) []xmpp.Message {
	if ss == nil {
		return nil
	}
	out := make([]xmpp.Message, len(ss))
	for i, s := range ss {
		out[i] = s.message()
	}
	return out
}

// MarshalJSON writes the entry with the store's own message records.
func (e XMPPEntry) MarshalJSON() ([]byte, error) {
	type fields XMPPEntry // the same fields, without these methods
	return json.Marshal(struct {
		fields
		Msg      storedMessage   `json:"msg"`
		Presence *storedPresence `json:"presence,omitempty"`
	}{fields(e), storeMessage(e.Msg), storePresence(e.Presence)})
}

// UnmarshalJSON reads what MarshalJSON, or an earlier release, wrote.
func (e *XMPPEntry) UnmarshalJSON(b []byte) error {
	type fields XMPPEntry
	var r struct {
		fields
		Msg      storedMessage   `json:"msg"`
		Presence *storedPresence `json:"presence,omitempty"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*e = XMPPEntry(r.fields)
	e.Msg, e.Presence = r.Msg.message(), r.Presence.presence()
	return nil
}

// MarshalJSON writes the entry with the store's own message record.
func (e FacebookEntry) MarshalJSON() ([]byte, error) {
	type fields FacebookEntry
	return json.Marshal(struct {
		fields
		Msg storedOutgoing `json:"msg"`
	}{fields(e), storeOutgoing(e.Msg)})
}

// UnmarshalJSON reads what MarshalJSON, or an earlier release, wrote.
func (e *FacebookEntry) UnmarshalJSON(b []byte) error {
	type fields FacebookEntry
	var r struct {
		fields
		Msg storedOutgoing `json:"msg"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*e = FacebookEntry(r.fields)
	e.Msg = r.Msg.outgoing()
	return nil
}

// MarshalJSON writes the conversation with the store's own records of the
// messages it holds.
func (c Conversation) MarshalJSON() ([]byte, error) {
	type fields Conversation
	return json.Marshal(struct {
		fields
		Held []storedMessage `json:"held,omitempty"`
	}{fields(c), storeMessages(c.Held)})
}

// UnmarshalJSON reads what MarshalJSON, or an earlier release, wrote.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	type fields Conversation
	var r struct {
		fields
		Held []storedMessage `json:"held,omitempty"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*c = Conversation(r.fields)
	c.Held = messages(r.Held)
	return nil
}

// addressOf parses a stored address; one that does not parse is the zero
// JID.
func addressOf(s string) jid.JID {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}
	}
	return j
}
