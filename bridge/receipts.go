package bridge

import (
	"github.com/askbridge/askbridge/bridge/store"

	"slices"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/xmpp"
)

// A librarian's client may ask for an XEP-0184 receipt or mark a message
// markable (XEP-0333). Once Facebook accepted such a reply, the bridge
// remembers it in the conversation; Messenger's delivery and read
// watermarks then turn into a receipt and a displayed marker sent, from
// the patron's JID, to the librarian.

// awaitedMax bounds the replies a conversation waits on.
const awaitedMax = 20

// Awaited is a reply whose delivery or reading the librarian wants to
// know (see store.Awaited).
type Awaited = store.Awaited

// awaitReceipt records, in the transaction that records the reply as
// accepted, that the librarian wants receipts for it.
func (b *Bridge) awaitReceipt(tx *store.Tx, psid string, e *fbEntry, mid messenger.MID) error {
	if e.ReceiptID == "" {
		return nil
	}
	conv, err := getConversation(tx, psid)
	if err != nil || conv == nil {
		return err
	}
	conv.Awaiting = append(conv.Awaiting, Awaited{MID: mid, XMPPID: e.ReceiptID, To: e.Notify, At: b.now(),
		Receipt: e.Receipt, Markable: e.Markable})
	if len(conv.Awaiting) > awaitedMax {
		conv.Awaiting = conv.Awaiting[len(conv.Awaiting)-awaitedMax:]
	}
	return putConversation(tx, conv)
}

// watermark handles a delivery or read event: receipts for what was
// delivered, one displayed marker for the latest message read.
func (b *Bridge) watermark(tx *store.Tx, cfg *config.Config, e *messenger.Event) error {
	conv, err := getConversation(tx, string(e.Patron))
	if err != nil || conv == nil || len(conv.Awaiting) == 0 {
		return err
	}
	patron := patronJID(conv.PSID, cfg.XMPP.Domain)
	watermark := e.Watermark
	if watermark.IsZero() && e.MID != "" {
		// Instagram (messaging_seen) names the message read: it and every
		// reply before it were read, as by the time of the event if the
		// message is not one awaited.
		watermark = e.Time
		for _, a := range conv.Awaiting {
			if a.MID == e.MID {
				watermark = a.At
			}
		}
	}
	covered := func(a Awaited) bool {
		return slices.Contains(e.MIDs, a.MID) || !watermark.IsZero() && !a.At.After(watermark)
	}
	var keep []Awaited
	var lastRead *Awaited
	for i := range conv.Awaiting {
		a := conv.Awaiting[i]
		if !covered(a) {
			keep = append(keep, a)
			continue
		}
		if a.Receipt && !a.Delivered {
			m := xmpp.Message{ID: randomID("ab-"), From: patron, To: parseJID(a.To), Type: "chat", ReceiptFor: a.XMPPID, NoStore: true}
			if err := b.enqueueXMPP(tx, m, nil); err != nil {
				return err
			}
			a.Delivered = true
		}
		if e.Kind == messenger.KindRead {
			if a.Markable {
				lastRead = &conv.Awaiting[i]
			}
			continue // read: nothing left to report
		}
		if a.Markable {
			keep = append(keep, a) // delivered, not yet read
		}
	}
	if lastRead != nil {
		m := xmpp.Message{ID: randomID("ab-"), From: patron, To: parseJID(lastRead.To), Type: "chat", DisplayedFor: lastRead.XMPPID, NoStore: true}
		if err := b.enqueueXMPP(tx, m, nil); err != nil {
			return err
		}
	}
	conv.Awaiting = keep
	return putConversation(tx, conv)
}
