package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/askbridge/askbridge/messenger"
)

// Conversations, XMPP outbox entries and Send API outbox entries are
// binary since schema 6, with the primitives of codec.go and these
// layouts (a flag is one byte, 0 or 1; a list is its uvarint length then
// its items; a bool set is one byte of bits):
//
//	conversation   0x02 | string Page, PSID, Guest | time LastPatron, LastActivity |
//	               string Owner, Session, LastSession | list of string Recent |
//	               string Unanswered | list of string Offered | list of message Held |
//	               list of awaited Awaiting | flag, then if set string ID, To, By, Prev (Transfer)
//	XMPP entry     0x02 | message Msg | flag, then if set presence | string Ledger |
//	               time Queued, NotBefore | varint Tries | bits ParkNotice
//	Send API entry 0x02 | string Page | outgoing Msg | string Ledger, Notify, Patron |
//	               time Queued | varint Attempts | time LastAttempt | string ReceiptID |
//	               bits Receipt, Markable | string Session
//
//	message        string ID, From, To, Type, Body, Thread, Nick, OOB, ChatState,
//	               ReceiptFor, DisplayedFor, MarkerReceivedFor, Replace |
//	               bits ReceiptRequest, Markable, NoStore
//	presence       string ID, From, To, Type, Show, Status, Nick | varint Priority |
//	               flag, then if set string Type, Condition, Text (Error)
//	outgoing       string Recipient, MessagingType, Tag, Text, Metadata, SenderAction |
//	               flag, then if set string Type, URL, Title, StickerID and the
//	               float64 bits of Lat, Long as uvarints (Attachment)
//	awaited        string MID, XMPPID, To | time At | bits Receipt, Markable, Delivered
//
// Nothing may follow the last field. The version byte is 0x02 so that a
// plain record can never be taken for a sealed value (sealV1, 0x01);
// records written before schema 6 are JSON (first byte '{') and still
// read. In the sealed buckets the record is the plaintext that is sealed.
const entryV1 byte = 2

// encoder appends the fields of a binary record.
type encoder struct{ b []byte }

func (e *encoder) str(ss ...string) {
	for _, s := range ss {
		e.b = appendString(e.b, s)
	}
}

func (e *encoder) bits(bs ...bool) {
	var x byte
	for i, b := range bs {
		if b {
			x |= 1 << i
		}
	}
	e.b = append(e.b, x)
}

func (e *encoder) strs(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	e.str(ss...)
}

func (e *encoder) message(m *storedMessage) {
	e.str(m.ID, m.From, m.To, m.Type, m.Body, m.Thread, m.Nick, m.OOB, m.ChatState,
		m.ReceiptFor, m.DisplayedFor, m.MarkerReceivedFor, m.Replace)
	e.bits(m.ReceiptRequest, m.Markable, m.NoStore)
}

// decoder reads the fields of a binary record after its version byte.
type decoder struct{ binReader }

func (d *decoder) str() string { return string(d.bytes("string")) }

func (d *decoder) bits(n int) []bool {
	if d.err != nil {
		return make([]bool, n)
	}
	if d.i >= len(d.b) {
		d.fail("flags", d.i, errTruncated)
		return make([]bool, n)
	}
	x := d.b[d.i]
	d.i++
	if x>>n != 0 {
		d.fail("flags", d.i-1, fmt.Errorf("unknown flags %#x", x))
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = x&(1<<i) != 0
	}
	return out
}

func (d *decoder) flag() bool { return d.bits(1)[0] }

// count reads a list's length, which cannot exceed the bytes left over
// the fewest bytes an item takes (min), so that a corrupt length cannot
// make the decoder allocate more than the record's size.
func (d *decoder) count(what string, min int) int {
	at := d.i
	n := d.uvarint(what, at)
	if d.err == nil && n > uint64((len(d.b)-d.i)/min) {
		d.fail(what, at, fmt.Errorf("%d items in %d bytes: %w", n, len(d.b)-d.i, errTruncated))
		return 0
	}
	return int(n)
}

// The fewest bytes a list item takes: a string its length byte, a
// message its 13 strings and its flags, an awaited reply its 3 strings,
// its time and its flags.
const (
	minString  = 1
	minMessage = 14
	minAwaited = 5
)

func (d *decoder) strs(what string) []string {
	n := d.count(what, minString)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) message() storedMessage {
	var m storedMessage
	for _, p := range []*string{&m.ID, &m.From, &m.To, &m.Type, &m.Body, &m.Thread, &m.Nick, &m.OOB, &m.ChatState,
		&m.ReceiptFor, &m.DisplayedFor, &m.MarkerReceivedFor, &m.Replace} {
		*p = d.str()
	}
	f := d.bits(3)
	m.ReceiptRequest, m.Markable, m.NoStore = f[0], f[1], f[2]
	return m
}

// end reports the decoder's error, or bytes left after the last field.
func (d *decoder) end(what string) error {
	if d.err == nil && d.i != len(d.b) {
		d.err = fmt.Errorf("%d bytes after the last field", len(d.b)-d.i)
	}
	if d.err != nil {
		return fmt.Errorf("%s record version %d: %w", what, entryV1, d.err)
	}
	return nil
}

// decodeEntry decodes a binary or JSON record of any version into v,
// with dec for the binary form.
func decodeEntry(what string, data []byte, v any, dec func(*decoder)) error {
	switch {
	case len(data) == 0:
		return fmt.Errorf("empty %s record", what)
	case data[0] == entryV1:
		d := &decoder{binReader{b: data[1:]}}
		dec(d)
		return d.end(what)
	case data[0] < 0x20 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r':
		return fmt.Errorf("%s record of unknown version %d (a newer askbridge wrote it?)", what, data[0])
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s record: %w", what, err)
	}
	return nil
}

// EncodeConversation returns c's record in the current version.
func EncodeConversation(c *Conversation) []byte {
	e := encoder{b: make([]byte, 0, 128+len(c.Held)*160)}
	e.b = append(e.b, entryV1)
	e.str(c.Page, c.PSID, c.Guest)
	e.b = appendTime(appendTime(e.b, c.LastPatron), c.LastActivity)
	e.str(c.Owner, c.Session, c.LastSession)
	e.strs(c.Recent)
	e.str(c.Unanswered)
	e.strs(c.Offered)
	e.b = binary.AppendUvarint(e.b, uint64(len(c.Held)))
	for _, m := range c.Held {
		sm := storeMessage(m)
		e.message(&sm)
	}
	e.b = binary.AppendUvarint(e.b, uint64(len(c.Awaiting)))
	for _, a := range c.Awaiting {
		e.str(string(a.MID), a.XMPPID, a.To)
		e.b = appendTime(e.b, a.At)
		e.bits(a.Receipt, a.Markable, a.Delivered)
	}
	e.bits(c.Transfer != nil)
	if t := c.Transfer; t != nil {
		e.str(t.ID, t.To, t.By, t.Prev)
	}
	return e.b
}

// DecodeConversation decodes a conversation record of any version into
// c, which it overwrites entirely. A record that cannot be read gives an
// error, never a panic.
func DecodeConversation(data []byte, c *Conversation) error {
	*c = Conversation{}
	return decodeEntry("conversation", data, c, func(d *decoder) {
		c.Page, c.PSID, c.Guest = d.str(), d.str(), d.str()
		c.LastPatron, c.LastActivity = d.time("last_patron"), d.time("last_activity")
		c.Owner, c.Session, c.LastSession = d.str(), d.str(), d.str()
		c.Recent = d.strs("recent")
		c.Unanswered = d.str()
		c.Offered = d.strs("offered")
		if n := d.count("held", minMessage); n > 0 {
			held := make([]storedMessage, 0, n)
			for range n {
				if held = append(held, d.message()); d.err != nil {
					return
				}
			}
			c.Held = messages(held)
		}
		if n := d.count("awaiting", minAwaited); n > 0 {
			c.Awaiting = make([]Awaited, n)
			for i := range c.Awaiting {
				a := &c.Awaiting[i]
				mid := d.str()
				a.MID = messenger.MID(mid)
				a.XMPPID, a.To = d.str(), d.str()
				a.At = d.time("at")
				f := d.bits(3)
				a.Receipt, a.Markable, a.Delivered = f[0], f[1], f[2]
			}
		}
		if d.flag() {
			c.Transfer = &PendingTransfer{ID: d.str(), To: d.str(), By: d.str(), Prev: d.str()}
		}
	})
}

// EncodeXMPPEntry returns e's record in the current version.
func EncodeXMPPEntry(x *XMPPEntry) []byte {
	e := encoder{b: make([]byte, 0, 160+len(x.Msg.Body))}
	e.b = append(e.b, entryV1)
	m := storeMessage(x.Msg)
	e.message(&m)
	e.bits(x.Presence != nil)
	if p := storePresence(x.Presence); p != nil {
		e.str(p.ID, p.From, p.To, p.Type, p.Show, p.Status, p.Nick)
		e.b = binary.AppendVarint(e.b, int64(p.Priority))
		e.bits(p.Error != nil)
		if p.Error != nil {
			e.str(p.Error.Type, p.Error.Condition, p.Error.Text)
		}
	}
	e.str(string(x.Ledger))
	e.b = appendTime(appendTime(e.b, x.Queued), x.NotBefore)
	e.b = binary.AppendVarint(e.b, int64(x.Tries))
	e.bits(x.ParkNotice)
	return e.b
}

// DecodeXMPPEntry decodes an XMPP outbox record of any version into x,
// which it overwrites entirely. A record that cannot be read gives an
// error, never a panic.
func DecodeXMPPEntry(data []byte, x *XMPPEntry) error {
	*x = XMPPEntry{}
	return decodeEntry("XMPP outbox", data, x, func(d *decoder) {
		m := d.message()
		x.Msg = m.message()
		if d.flag() {
			p := storedPresence{ID: d.str(), From: d.str(), To: d.str(), Type: d.str(), Show: d.str(), Status: d.str(), Nick: d.str()}
			p.Priority = d.int("priority")
			if d.flag() {
				p.Error = &storedStanzaError{Type: d.str(), Condition: d.str(), Text: d.str()}
			}
			x.Presence = p.presence()
		}
		x.Ledger = nonEmpty(d.bytes("ledger"))
		x.Queued, x.NotBefore = d.time("queued"), d.time("not_before")
		x.Tries = d.int("tries")
		x.ParkNotice = d.flag()
	})
}

// nonEmpty copies b, or is nil for none (as JSON reads an absent key).
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// EncodeFacebookEntry returns e's record in the current version.
func EncodeFacebookEntry(f *FacebookEntry) []byte {
	e := encoder{b: make([]byte, 0, 160+len(f.Msg.Text))}
	e.b = append(e.b, entryV1)
	e.str(f.Page)
	m := storeOutgoing(f.Msg)
	e.str(string(m.Recipient), m.MessagingType, m.Tag, m.Text, m.Metadata, m.SenderAction)
	e.bits(m.Attachment != nil)
	if a := m.Attachment; a != nil {
		e.str(a.Type, a.URL, a.Title, a.StickerID)
		e.b = binary.AppendUvarint(binary.AppendUvarint(e.b, math.Float64bits(a.Lat)), math.Float64bits(a.Long))
	}
	e.str(string(f.Ledger), f.Notify, f.Patron)
	e.b = appendTime(e.b, f.Queued)
	e.b = binary.AppendVarint(e.b, int64(f.Attempts))
	e.b = appendTime(e.b, f.LastAttempt)
	e.str(f.ReceiptID)
	e.bits(f.Receipt, f.Markable)
	e.str(f.Session)
	return e.b
}

// DecodeFacebookEntry decodes a Send API outbox record of any version
// into f, which it overwrites entirely. A record that cannot be read
// gives an error, never a panic.
func DecodeFacebookEntry(data []byte, f *FacebookEntry) error {
	*f = FacebookEntry{}
	return decodeEntry("Send API outbox", data, f, func(d *decoder) {
		f.Page = d.str()
		m := storedOutgoing{Recipient: messenger.PSID(d.str()), MessagingType: d.str(), Tag: d.str(), Text: d.str(),
			Metadata: d.str(), SenderAction: d.str()}
		if d.flag() {
			m.Attachment = &storedAttachment{Type: d.str(), URL: d.str(), Title: d.str(), StickerID: d.str()}
			m.Attachment.Lat = math.Float64frombits(d.uvarint("lat", d.i))
			m.Attachment.Long = math.Float64frombits(d.uvarint("long", d.i))
		}
		f.Msg = m.outgoing()
		f.Ledger = nonEmpty(d.bytes("ledger"))
		f.Notify, f.Patron = d.str(), d.str()
		f.Queued = d.time("queued")
		f.Attempts = d.int("attempts")
		f.LastAttempt = d.time("last_attempt")
		f.ReceiptID = d.str()
		b := d.bits(2)
		f.Receipt, f.Markable = b[0], b[1]
		f.Session = d.str()
	})
}
