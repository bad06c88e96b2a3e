package messenger

import "time"

// PageID identifies a Facebook Page (the webhook's entry.id).
type PageID string

// PSID is a page-scoped user ID: how a Page sees one Messenger user.
type PSID string

// Channel is the Meta messaging product a conversation runs on.
type Channel string

// The channels the webhook carries. The same app, Page token, webhook and
// Send API serve both.
const (
	// ChannelMessenger is Facebook Messenger (webhook object "page"). An
	// event without a channel is a Messenger event (stored before
	// channels existed).
	ChannelMessenger Channel = "messenger"
	// ChannelInstagram is Instagram Direct (webhook object "instagram"):
	// Page is then the Instagram professional account's ID and Patron the
	// Instagram-scoped ID (IGSID) of the patron.
	ChannelInstagram Channel = "instagram"
)

// MID is a Messenger message ID. Facebook uses it for deduplication,
// delivery receipts and echoes.
type MID string

// Kind tells what a webhook event carries.
type Kind string

// The kinds of event the webhook recognises. Events of any other kind are
// ignored and counted by the parser, never rejected.
const (
	KindMessage  Kind = "message"  // a patron's message (text and/or attachments)
	KindEcho     Kind = "echo"     // a message the Page sent, echoed back
	KindPostback Kind = "postback" // a button press
	KindDelivery Kind = "delivery" // delivery receipt for messages the Page sent
	KindRead     Kind = "read"     // read watermark for messages the Page sent
	KindReaction Kind = "reaction" // a reaction to a message
	KindEdit     Kind = "edit"     // a patron edited an earlier message
	KindOptin    Kind = "optin"    // a plugin opt-in
	KindReferral Kind = "referral" // the patron arrived through an m.me link or ad
)

// Attachment is one attachment of a message: its type ("image", "video",
// "audio", "file", "location", "fallback", "template", "sticker", …) and, where
// Facebook gives one, the URL of its content.
type Attachment struct {
	Type  string `json:"type"`
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	// StickerID is set for stickers (which Facebook sends as images).
	StickerID string `json:"sticker_id,omitempty"`
	// Lat and Long are set for locations.
	Lat  float64 `json:"lat,omitempty"`
	Long float64 `json:"long,omitempty"`
}

// Event is one entry of a webhook's messaging[] or standby[] array,
// normalised: IDs are strings whatever their JSON type, times are time.Time.
// Events are stored as JSON in the bridge's durable inbox, so fields are
// only ever added.
type Event struct {
	Kind Kind `json:"kind"`
	// Channel is ChannelInstagram for Instagram events; empty (or
	// ChannelMessenger) for Messenger.
	Channel Channel `json:"channel,omitempty"`
	// Page is the Page the event belongs to (entry.id): the Facebook Page,
	// or for Instagram the Instagram professional account.
	Page PageID `json:"page"`
	// Patron is the user of the conversation: the sender of a patron's
	// message, the recipient of an echo. A PSID on Messenger, an IGSID on
	// Instagram.
	Patron PSID `json:"patron"`
	// Time is the event's timestamp (milliseconds in the webhook).
	Time time.Time `json:"time"`
	// Standby is true for events from the standby[] array (another app
	// controls the thread).
	Standby bool `json:"standby,omitempty"`

	// MID is the message ID for message, echo, edit and reaction events.
	MID MID `json:"mid,omitempty"`
	// Seq is the legacy per-conversation sequence number, when present.
	Seq int64 `json:"seq,omitempty"`
	// Text is the message text (message, echo, edit) or postback title.
	Text string `json:"text,omitempty"`
	// Attachments of a message or echo.
	Attachments []Attachment `json:"attachments,omitempty"`
	// ReplyTo is the MID a message replies to, when it is a reply.
	ReplyTo MID `json:"reply_to,omitempty"`
	// StoryURL is the story an Instagram message replies to (reply_to.story).
	StoryURL string `json:"story_url,omitempty"`
	// Deleted is set on an Instagram message the patron unsent
	// (is_deleted); MID names the message.
	Deleted bool `json:"deleted,omitempty"`
	// Unsupported is set on an Instagram message whose content Meta does
	// not pass to apps (is_unsupported).
	Unsupported bool `json:"unsupported,omitempty"`
	// QuickReply is the payload of a quick-reply button, when the message
	// came from one.
	QuickReply string `json:"quick_reply,omitempty"`

	// AppID is the app that sent an echoed message (empty when a person
	// sent it from the Page inbox without an app).
	AppID string `json:"app_id,omitempty"`
	// Metadata is the metadata string given to the Send API, echoed back.
	Metadata string `json:"metadata,omitempty"`

	// Payload is the postback, opt-in or referral payload/ref.
	Payload string `json:"payload,omitempty"`

	// Watermark: for delivery and read events, all messages sent before it
	// were delivered or read. Instagram read events (messaging_seen) carry
	// MID instead: the message read, and all before it.
	Watermark time.Time `json:"watermark,omitempty"`
	// MIDs lists the delivered messages of a delivery event, when given.
	MIDs []MID `json:"mids,omitempty"`

	// Reaction is the emoji of a reaction event; ReactionAction is "react"
	// or "unreact".
	Reaction       string `json:"reaction,omitempty"`
	ReactionAction string `json:"reaction_action,omitempty"`

	// ReactionName is Facebook's word for the reaction of a reaction event
	// ("smile", "angry", "sad", "wow", "love", "like", "dislike" or
	// "other"). When Facebook sends no emoji, Reaction holds it too.
	ReactionName string `json:"reaction_name,omitempty"`
	// UserRef is the user_ref of an opt-in from the checkbox plugin, which
	// Facebook sends instead of a sender PSID (Patron is then empty).
	UserRef string `json:"user_ref,omitempty"`
	// ReferralSource is where a referral came from ("SHORTLINK", "ADS",
	// "CUSTOMER_CHAT_PLUGIN", …).
	ReferralSource string `json:"referral_source,omitempty"`
}
