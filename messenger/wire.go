package messenger

import (
	"bytes"
	"encoding/json"
)

// The JSON shapes of a Messenger Platform webhook body, as documented by
// Meta. Only the fields the bridge uses are declared; unknown fields are
// ignored by encoding/json. Parse decodes a body into them in one
// json.Unmarshal. A key given twice in one object follows encoding/json's
// rule: a later array decodes into the elements of the earlier one, so a
// repeated "entry", "messaging" or "standby" merges with the first item by
// item, as repeated keys inside an item always have. Facebook never repeats
// a key, and nobody else can sign a body.

// wireBody is the whole POST body. An entry that is JSON null is a nil
// pointer.
type wireBody struct {
	Object *string      `json:"object"`
	Entry  []*wireEntry `json:"entry"`
}

// wireHead is a POST body whose entries are only counted: Parse's reading
// of a body that does not decode into wireBody.
type wireHead struct {
	Object *string        `json:"object"`
	Entry  []ignoredValue `json:"entry"`
}

// wireEntry is one entry: the events of one Page. An item that is JSON
// null is a nil pointer.
type wireEntry struct {
	ID        flexID           `json:"id"`
	Time      flexInt          `json:"time"`
	Messaging []*wireMessaging `json:"messaging"`
	Standby   []*wireMessaging `json:"standby"`
	Changes   []ignoredValue   `json:"changes"`
}

// ignoredValue is any JSON value, skipped unread: what is only counted.
type ignoredValue struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (*ignoredValue) UnmarshalJSON([]byte) error { return nil }

// wireMessaging is one item of messaging[] or standby[]. Exactly one of the
// pointer fields is set for the kinds the parser knows.
type wireMessaging struct {
	Sender      *wirePeer     `json:"sender"`
	Recipient   *wirePeer     `json:"recipient"`
	Timestamp   flexInt       `json:"timestamp"`
	Message     *wireMessage  `json:"message"`
	MessageEdit *wireEdit     `json:"message_edit"`
	Reaction    *wireReaction `json:"reaction"`
	Postback    *wirePostback `json:"postback"`
	Delivery    *wireDelivery `json:"delivery"`
	Read        *wireRead     `json:"read"`
	Optin       *wireOptin    `json:"optin"`
	Referral    *wireReferral `json:"referral"`
}

// wirePeer is a sender or recipient.
type wirePeer struct {
	ID      flexID `json:"id"`
	UserRef string `json:"user_ref"`
}

// wireMessage is a message or, with is_echo, an echo.
type wireMessage struct {
	MID         string           `json:"mid"`
	Seq         flexInt          `json:"seq"`
	Text        string           `json:"text"`
	IsEcho      bool             `json:"is_echo"`
	AppID       flexID           `json:"app_id"`
	Metadata    string           `json:"metadata"`
	StickerID   flexID           `json:"sticker_id"`
	Attachments []wireAttachment `json:"attachments"`
	QuickReply  *struct {
		Payload string `json:"payload"`
	} `json:"quick_reply"`
	ReplyTo *struct {
		MID   string `json:"mid"`
		Story *struct {
			URL string `json:"url"`
			ID  flexID `json:"id"`
		} `json:"story"`
	} `json:"reply_to"`
	// IsDeleted and IsUnsupported occur on Instagram only.
	IsDeleted     bool `json:"is_deleted"`
	IsUnsupported bool `json:"is_unsupported"`
}

// wireAttachment is one attachment.
type wireAttachment struct {
	Type    string                `json:"type"`
	Title   string                `json:"title"`
	URL     string                `json:"url"`
	Payload wireAttachmentPayload `json:"payload"`
}

// wireAttachmentPayload holds the payload fields of all attachment types the
// parser reads. Its shape differs by type, so it is decoded leniently (see
// UnmarshalJSON).
type wireAttachmentPayload payloadFields

// UnmarshalJSON implements json.Unmarshaler. A payload that is not a JSON
// object is empty, and one whose fields are of unexpected types keeps what
// decoded: a payload is never an error.
func (p *wireAttachmentPayload) UnmarshalJSON(b []byte) error {
	*p = wireAttachmentPayload{} // the last "payload" counts, alone
	if raw := bytes.TrimSpace(b); len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, (*payloadFields)(p)) // lenient: keep what decoded
	}
	return nil
}

// payloadFields are the fields of wireAttachmentPayload, decoded without
// its UnmarshalJSON.
type payloadFields struct {
	URL         string `json:"url"`
	Title       string `json:"title"`
	StickerID   flexID `json:"sticker_id"`
	Coordinates *struct {
		Lat  float64 `json:"lat"`
		Long float64 `json:"long"`
	} `json:"coordinates"`
	Elements []struct {
		Title string `json:"title"`
	} `json:"elements"`
}

// wireEdit is a message_edit.
type wireEdit struct {
	MID     string  `json:"mid"`
	Text    string  `json:"text"`
	NumEdit flexInt `json:"num_edit"`
}

// wireReaction is a reaction.
type wireReaction struct {
	Reaction string `json:"reaction"`
	Emoji    string `json:"emoji"`
	Action   string `json:"action"`
	MID      string `json:"mid"`
}

// wirePostback is a postback.
type wirePostback struct {
	MID     string `json:"mid"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// wireDelivery is a delivery receipt.
type wireDelivery struct {
	MIDs      []string `json:"mids"`
	Watermark flexInt  `json:"watermark"`
	Seq       flexInt  `json:"seq"`
}

// wireRead is a read receipt.
type wireRead struct {
	Watermark flexInt `json:"watermark"`
	Seq       flexInt `json:"seq"`
	// MID is set instead of Watermark by Instagram (messaging_seen).
	MID string `json:"mid"`
}

// wireOptin is an opt-in.
type wireOptin struct {
	Ref     string `json:"ref"`
	UserRef string `json:"user_ref"`
	Payload string `json:"payload"`
}

// wireReferral is a referral.
type wireReferral struct {
	Ref    string `json:"ref"`
	Source string `json:"source"`
}
