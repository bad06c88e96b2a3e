package bridge

import (
	"strings"

	"github.com/askbridge/askbridge/messenger"
)

// A patron is named in the store, in JIDs and in the Send API outbox by a
// key: the PSID for a Messenger patron, "ig-" and the IGSID for an
// Instagram patron, so that Page-scoped and Instagram-scoped IDs can never
// collide. The key is the patron JID's localpart.

// instagramPrefix starts the key of an Instagram patron.
const instagramPrefix = "ig-"

// patronKey is the key of the patron of an event.
func patronKey(ch messenger.Channel, id messenger.PSID) string {
	if ch == messenger.ChannelInstagram {
		return instagramPrefix + string(id)
	}
	return string(id)
}

// channelOf tells from a patron's key which channel they write on.
func channelOf(key string) messenger.Channel {
	if strings.HasPrefix(key, instagramPrefix) {
		return messenger.ChannelInstagram
	}
	return messenger.ChannelMessenger
}

// recipientOf is the ID the Send API knows the patron by: the PSID, or
// the IGSID.
func recipientOf(key string) messenger.PSID {
	return messenger.PSID(strings.TrimPrefix(key, instagramPrefix))
}

// validPatronKey reports whether s can be a patron JID's localpart: a
// PSID, or "ig-" and an IGSID, both decimal digits.
func validPatronKey(s string) bool {
	return validPSID(strings.TrimPrefix(s, instagramPrefix))
}

// protocolOf is the statistics' protocol column for a patron: "facebook"
// or "instagram".
func protocolOf(key string) string {
	if channelOf(key) == messenger.ChannelInstagram {
		return "instagram"
	}
	return "facebook"
}

// channelName is what librarians read as the patron's presence status.
func channelName(key string) string {
	if channelOf(key) == messenger.ChannelInstagram {
		return "Instagram"
	}
	return "Facebook Messenger"
}

// Nick is the name librarians see for a guest, e.g. "Facebook patron 7f3a"
// or, with channel ChannelInstagram, "Instagram patron 7f3a".
func Nick(channel messenger.Channel, guest string) string {
	if len(guest) > 4 {
		guest = guest[:4]
	}
	if channel == messenger.ChannelInstagram {
		return "Instagram patron " + guest
	}
	return "Facebook patron " + guest
}

// nickOf is the nickname of the conversation's patron.
func nickOf(c *Conversation) string { return Nick(channelOf(c.PSID), c.Guest) }

// Nickname implements xmpp.ProfileHandler: a patron JID's vCard holds the
// patron's nickname, for clients that show only a vCard's name.
func (b *Bridge) Nickname(localpart string) (string, bool) {
	if !validPatronKey(localpart) {
		return "", false
	}
	conv, err := b.store.Conversation(localpart)
	if err != nil || conv == nil {
		return "", false
	}
	return nickOf(conv), true
}
