package messenger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"
)

// ErrMalformed means a webhook body is not a Messenger Platform webhook:
// not JSON, not UTF-8, nested too deeply, or of the wrong shape.
var ErrMalformed = errors.New("messenger: malformed webhook body")

// MaxJSONDepth is how deeply a webhook body's arrays and objects may nest.
// Real bodies nest about a dozen levels.
const MaxJSONDepth = 64

// The webhook objects Parse reads: Facebook Page events (Messenger) and
// Instagram professional account events (Instagram Direct).
const (
	ObjectPage      = "page"
	ObjectInstagram = "instagram"
)

// Batch is one parsed webhook body.
type Batch struct {
	// Object is the body's "object" field: "page" for Messenger,
	// "instagram" for Instagram.
	Object string
	// Events are the recognised events in body order: each entry's
	// messaging[] items, then its standby[] items.
	Events []Event
	// Ignored counts what the body carried but the parser does not know:
	// messaging items of unknown kinds or without any Page ID, entries'
	// changes[] items, and all entries of objects other than "page" and
	// "instagram".
	Ignored int
}

// Parse normalises a webhook POST body into events. Events of unknown kinds
// or without any Page ID are skipped and counted in Batch.Ignored, never
// rejected; a body for another object than "page" or "instagram" yields no
// events. Instagram events have Channel ChannelInstagram. A body
// that is not JSON, not UTF-8, nested deeper than MaxJSONDepth or of the
// wrong shape yields an error wrapping ErrMalformed; so does a timestamp
// before 1970 or after 2262. Text is kept exactly as given.
func Parse(body []byte) (*Batch, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	if err := checkDepth(body, MaxJSONDepth); err != nil {
		return nil, err
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	// One pass decodes the whole body into the wire structs.
	var wb wireBody
	if err := json.Unmarshal(body, &wb); err != nil {
		return parseUndecodable(body, err)
	}
	if wb.Object == nil {
		return nil, fmt.Errorf("%w: no \"object\" field", ErrMalformed)
	}
	b := &Batch{Object: *wb.Object}
	var channel Channel
	switch b.Object {
	case ObjectPage:
	case ObjectInstagram:
		channel = ChannelInstagram
	default:
		b.Ignored = len(wb.Entry)
		return b, nil
	}
	items := 0
	for _, e := range wb.Entry {
		if e != nil {
			items += len(e.Messaging) + len(e.Standby)
		}
	}
	b.Events = slices.Grow(b.Events, items)
	for i, e := range wb.Entry {
		if err := b.addEntry(e, channel); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrMalformed, i, err)
		}
	}
	if len(b.Events) == 0 {
		b.Events = nil // as when nothing was ever added
	}
	return b, nil
}

// parseUndecodable is Parse for a body that did not decode into the wire
// structs (decodeErr). Only the entries of "page" and "instagram" bodies
// must have the wire shapes: a body for another object that is otherwise
// well-formed is accepted and its entries counted as ignored, whatever
// they hold.
func parseUndecodable(body []byte, decodeErr error) (*Batch, error) {
	var head wireHead
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if head.Object == nil {
		return nil, fmt.Errorf("%w: no \"object\" field", ErrMalformed)
	}
	switch *head.Object {
	case ObjectPage, ObjectInstagram:
		return nil, fmt.Errorf("%w: %w", ErrMalformed, decodeErr)
	}
	return &Batch{Object: *head.Object, Ignored: len(head.Entry)}, nil
}

// addEntry adds the events of one entry (nil for a JSON null).
func (b *Batch) addEntry(e *wireEntry, channel Channel) error {
	if e == nil {
		return errNotObject
	}
	b.Ignored += len(e.Changes)
	for j, m := range e.Messaging {
		if err := b.addMessaging(PageID(e.ID), e.Time, m, false, channel); err != nil {
			return fmt.Errorf("messaging %d: %w", j, err)
		}
	}
	for j, m := range e.Standby {
		if err := b.addMessaging(PageID(e.ID), e.Time, m, true, channel); err != nil {
			return fmt.Errorf("standby %d: %w", j, err)
		}
	}
	return nil
}

// errNotObject is the error for an entry or a messaging item that is JSON
// null: one of another JSON type does not decode at all.
var errNotObject = errors.New("not a JSON object")

// addMessaging adds the event of one messaging[] or standby[] item (nil for
// a JSON null), or counts it as ignored when its kind is unknown.
func (b *Batch) addMessaging(page PageID, entryTime flexInt, m *wireMessaging, standby bool, channel Channel) error {
	if m == nil {
		return errNotObject
	}
	ts := m.Timestamp
	if ts == 0 {
		ts = entryTime // deliveries may carry "timestamp":0
	}
	sender, recipient := peerID(m.Sender), peerID(m.Recipient)
	t, err := msTime(ts)
	if err != nil {
		return err
	}
	e := Event{Channel: channel, Page: page, Patron: PSID(sender), Time: t, Standby: standby}
	switch {
	case m.Message != nil:
		setMessage(&e, m.Message, recipient)
	case m.MessageEdit != nil:
		e.Kind = KindEdit
		e.MID = MID(m.MessageEdit.MID)
		e.Text = m.MessageEdit.Text
	case m.Reaction != nil:
		e.Kind = KindReaction
		e.MID = MID(m.Reaction.MID)
		e.Reaction = m.Reaction.Emoji
		if e.Reaction == "" {
			e.Reaction = m.Reaction.Reaction
		}
		e.ReactionName = m.Reaction.Reaction
		e.ReactionAction = m.Reaction.Action
	case m.Postback != nil:
		e.Kind = KindPostback
		e.MID = MID(m.Postback.MID)
		e.Text = m.Postback.Title
		e.Payload = m.Postback.Payload
	case m.Delivery != nil:
		e.Kind = KindDelivery
		if e.Watermark, err = msTime(m.Delivery.Watermark); err != nil {
			return err
		}
		e.Seq = int64(m.Delivery.Seq)
		for _, mid := range m.Delivery.MIDs {
			e.MIDs = append(e.MIDs, MID(mid))
		}
	case m.Read != nil:
		e.Kind = KindRead
		if e.Watermark, err = msTime(m.Read.Watermark); err != nil {
			return err
		}
		e.Seq = int64(m.Read.Seq)
		e.MID = MID(m.Read.MID)
	case m.Optin != nil:
		e.Kind = KindOptin
		e.Payload = m.Optin.Ref
		if e.Payload == "" {
			e.Payload = m.Optin.Payload
		}
		e.UserRef = m.Optin.UserRef
		if e.UserRef == "" && m.Sender != nil {
			e.UserRef = m.Sender.UserRef
		}
	case m.Referral != nil:
		e.Kind = KindReferral
		e.Payload = m.Referral.Ref
		e.ReferralSource = m.Referral.Source
	default:
		b.Ignored++
		return nil
	}
	if e.Page == "" { // entries always carry an id; be lenient anyway
		e.Page = PageID(recipient)
		if e.Kind == KindEcho {
			e.Page = PageID(sender)
		}
	}
	if e.Page == "" { // no Page at all: nobody could route it
		b.Ignored++
		return nil
	}
	b.Events = append(b.Events, e)
	return nil
}

// setMessage fills e from a message or echo. An echo's patron is its
// recipient: the Page sent it.
func setMessage(e *Event, m *wireMessage, recipient string) {
	e.Kind = KindMessage
	if m.IsEcho {
		e.Kind = KindEcho
		e.Patron = PSID(recipient)
		e.AppID = string(m.AppID)
	}
	e.Metadata = m.Metadata
	e.MID = MID(m.MID)
	e.Seq = int64(m.Seq)
	e.Text = m.Text
	e.Deleted, e.Unsupported = m.IsDeleted, m.IsUnsupported
	for i := range m.Attachments {
		a := attachment(&m.Attachments[i], string(m.StickerID))
		if a.StickerID != "" && sameSticker(e.Attachments, a) {
			// Until 30 August 2026 Facebook sends a sticker both as
			// "sticker" and as "image": the patron sent one.
			continue
		}
		e.Attachments = append(e.Attachments, a)
	}
	if m.QuickReply != nil {
		e.QuickReply = m.QuickReply.Payload
	}
	if m.ReplyTo != nil {
		e.ReplyTo = MID(m.ReplyTo.MID)
		if m.ReplyTo.Story != nil {
			e.StoryURL = m.ReplyTo.Story.URL
		}
	}
}

// sameSticker reports whether a is another form of a sticker among as:
// the same sticker id, given once as "sticker" and once as "image", or
// twice with the same URL. The one kept becomes a "sticker".
func sameSticker(as []Attachment, a Attachment) bool {
	for i := range as {
		b := &as[i]
		if b.StickerID == a.StickerID && (b.URL == a.URL || b.Type == "sticker" || a.Type == "sticker") {
			b.Type = "sticker"
			if b.URL == "" {
				b.URL = a.URL
			}
			return true
		}
	}
	return false
}

// attachment normalises one attachment. Its payload was read leniently
// (see wireAttachmentPayload): a payload of an unexpected shape leaves only
// the type.
func attachment(w *wireAttachment, stickerID string) Attachment {
	a := Attachment{Type: w.Type, URL: w.URL, Title: w.Title}
	p := &w.Payload
	if a.URL == "" {
		a.URL = p.URL
	}
	if a.Title == "" {
		a.Title = p.Title
	}
	if a.Title == "" && len(p.Elements) > 0 {
		a.Title = p.Elements[0].Title
	}
	a.StickerID = string(p.StickerID)
	if a.StickerID == "" && (a.Type == "image" || a.Type == "sticker") {
		a.StickerID = stickerID
	}
	if p.Coordinates != nil {
		a.Lat, a.Long = p.Coordinates.Lat, p.Coordinates.Long
	}
	return a
}

// peerID is the ID of a sender or recipient, or "" when absent.
func peerID(p *wirePeer) string {
	if p == nil {
		return ""
	}
	return string(p.ID)
}

// maxTimestamp is the latest webhook timestamp Parse accepts, in
// milliseconds: the last that time.Time.UnixNano can represent (in 2262).
const maxTimestamp = flexInt(math.MaxInt64 / int64(time.Millisecond))

// msTime converts Facebook's milliseconds since the epoch; 0 is the zero
// time. Negative timestamps and those after maxTimestamp are errors: no
// webhook carries them, the bridge's JSON inbox holds only years 0 to 9999,
// and its time-keyed ledger and sessions only 1970 to 2262.
func msTime(ms flexInt) (time.Time, error) {
	if ms == 0 {
		return time.Time{}, nil
	}
	if ms < 0 || ms > maxTimestamp {
		return time.Time{}, fmt.Errorf("timestamp %d is out of range", int64(ms))
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

// checkDepth rejects JSON whose arrays and objects nest deeper than limit,
// before any decoding. It only tracks strings and brackets; everything else
// is left to the decoder. A string ends at the first quote after it that an
// even number of backslashes precedes; an unterminated one runs to the end.
func checkDepth(b []byte, limit int) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i)
		case '{', '[':
			depth++
			if depth > limit {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", ErrMalformed, limit)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// stringEnd returns the index of the quote that ends the string opened by
// the quote at b[open], or len(b) when none does.
func stringEnd(b []byte, open int) int {
	for i := open + 1; ; i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		backslashes := 0
		for k := i - 1; k > open && b[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
}
