package bridge

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/messenger"
)

// describe renders an event as the text librarians read, and returns the
// URL of its first media attachment for an XEP-0066 link. channel is the
// conversation's.
func describe(e *messenger.Event, channel messenger.Channel) (body, oob string) {
	var lines []string
	switch {
	case e.Kind == messenger.KindPostback:
		label := e.Text
		if label == "" {
			label = e.Payload
		}
		lines = append(lines, "[pressed button] "+label)
	case e.Kind == messenger.KindEdit:
		lines = append(lines, "[edited a message] "+e.Text)
	case e.Kind == messenger.KindReaction:
		if e.ReactionAction == "unreact" {
			lines = append(lines, "[removed a reaction]")
		} else {
			lines = append(lines, "[reacted "+e.Reaction+" to a message]")
		}
	case e.Kind == messenger.KindEcho && e.Standby:
		lines = append(lines, "[answered in another app] "+e.Text)
	case e.Kind == messenger.KindEcho && channel == messenger.ChannelInstagram:
		lines = append(lines, "[answered from the Instagram inbox] "+e.Text)
	case e.Kind == messenger.KindEcho:
		lines = append(lines, "[answered from the Facebook Page inbox] "+e.Text)
	case e.Deleted:
		lines = append(lines, "[unsent a message]")
	case e.Unsupported:
		lines = append(lines, "[sent something "+channelTitle(channel)+" does not pass on to the library; ask the patron to describe it]")
	case e.StoryURL != "":
		lines = append(lines, "[replied to the library's story "+e.StoryURL+"] "+e.Text)
	default:
		if e.Text != "" {
			lines = append(lines, patronSays(e.Text))
		}
	}
	for _, a := range e.Attachments {
		line, media := describeAttachment(a)
		lines = append(lines, line)
		if media && oob == "" {
			oob = a.URL
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "[sent something "+channelTitle(channel)+" cannot show here]")
	}
	if e.Standby && e.Kind != messenger.KindEcho {
		lines[0] = "(patron, while another app owns the conversation) " + lines[0]
	}
	return strings.Join(lines, "\n"), oob
}

// channelTitle is the product's name as patrons know it.
func channelTitle(channel messenger.Channel) string {
	if channel == messenger.ChannelInstagram {
		return "Instagram"
	}
	return "Messenger"
}

func describeAttachment(a messenger.Attachment) (line string, media bool) {
	switch {
	case a.StickerID != "":
		return "[sticker]", false
	case a.Type == "location":
		return fmt.Sprintf("[location] %.6f,%.6f https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f", a.Lat, a.Long, a.Lat, a.Long), false
	case a.Type == "image" || a.Type == "video" || a.Type == "audio" || a.Type == "file":
		if a.URL == "" {
			return "[" + a.Type + "]", false
		}
		return "[" + a.Type + "] " + a.URL, true
	case a.Type == "story_mention":
		return "[mentioned the library in their story] " + a.URL, false
	case a.Type == "share" || a.Type == "ig_post":
		return strings.TrimSpace("[shared a post] " + strings.TrimSpace(a.Title+" "+a.URL)), false
	case a.Type == "ig_reel" || a.Type == "reel":
		return strings.TrimSpace("[shared a reel] " + strings.TrimSpace(a.Title+" "+a.URL)), false
	case a.Type == "fallback":
		s := "[shared link]"
		if a.Title != "" {
			s += " " + a.Title
		}
		if a.URL != "" {
			s += " " + a.URL
		}
		return s, false
	default:
		s := "[" + a.Type + "]"
		if a.Title != "" {
			s += " " + a.Title
		}
		if a.URL != "" {
			s += " " + a.URL
		}
		return s, false
	}
}

// stanzaID is stable for an event, so a stanza sent twice after a crash
// carries the same id; events without identity get a random one.
func stanzaID(e *messenger.Event) string {
	if k := dedupKey(e); k != "" {
		h := sha256.Sum256([]byte(string(e.Page) + "\x00" + k))
		return "fb-" + hex.EncodeToString(h[:10])
	}
	return randomID("fb-")
}

func randomID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return prefix + hex.EncodeToString(b)
}

// validPSID reports whether s can be a patron JID's localpart: Facebook's
// PSIDs are decimal digits.
func validPSID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// patronJID is the patron's address at the component domain: the patron
// key (PSID, or ig- and the IGSID) as its localpart.
func patronJID(psid, domain string) jid.JID {
	return parseJID(psid + "@" + domain)
}
