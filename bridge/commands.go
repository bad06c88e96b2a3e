package bridge

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// helpText lists the in-chat commands librarians can type to the bridge.
const helpText = `askbridge commands (typed into the chat with the patron; never sent to Facebook):
!close — end this session now
!read N — record the READ scale level, 1 to 6
!tag WORD… — add tags, e.g. !tag hours catalog
!questions N — record how many questions were answered (default 1)
!transfer JID — hand the conversation to another queue or librarian
!help — this list
To send the patron a message that starts with "!", start it with "!!": "!!! Closed Monday" sends "!! Closed Monday".`

// command runs an in-chat command on the conversation's latest session and
// returns the answer for the librarian, who sent it from the full JID
// from (later notices go there). It changes the store only through tx; a
// bad argument gets a short usage line.
func (b *Bridge) command(tx *store.Tx, cfg *config.Config, conv *Conversation, from jid.JID, body string) (string, error) {
	sender := from.Bare()
	fields := strings.Fields(body)
	name := strings.ToLower(strings.TrimPrefix(fields[0], "!"))
	args := fields[1:]
	switch name {
	case "help":
		return helpText, nil
	case "close":
		if conv.Session == "" {
			return "No open session to close.", nil
		}
		s, err := b.closeSession(tx, cfg, conv, b.now())
		if err != nil || s == nil {
			return "No open session to close.", err
		}
		return fmt.Sprintf("Session closed: %s, %s long.", s.Status, humanDuration(s.Duration())), nil
	case "read", "questions", "tag", "tags":
		s, key, err := b.classifyTarget(tx, conv, sender.String())
		if err != nil {
			return "", err
		}
		if s == nil {
			return "No session to classify: you have not answered this patron in the last 24 hours.", nil
		}
		reply, ok := classify(s, name, args)
		if !ok {
			return reply + "\n" + helpText, nil
		}
		return fmt.Sprintf("%s for the session that started %s.", reply, b.startLabel(cfg, s.Started)), putSession(tx, key, s)
	case "transfer":
		if len(args) != 1 {
			return "Usage: !transfer JID, e.g. !transfer ya@chat.library.example.org\n" + helpText, nil
		}
		return b.transfer(tx, cfg, conv, sender, from, args[0])
	default:
		return "Unknown command !" + name + " (nothing was sent to the patron; to send a message starting with \"!\", start it with \"!!\").\n" + helpText, nil
	}
}

// classifyWindow is how long after a session ended a librarian may still
// classify it from the chat.
const classifyWindow = 24 * time.Hour

// classifyTarget picks the session !read, !tag and !questions apply to: the
// most recent session of this patron the sender answered, open or ended
// within classifyWindow — a librarian classifies after !close, and a
// session the patron started later that nobody answered yet is not the
// one meant. If the sender answered none, the open session, if any.
func (b *Bridge) classifyTarget(tx *store.Tx, conv *Conversation, sender string) (*stats.Session, []byte, error) {
	now := b.now()
	for _, id := range conv.LatestSessions() {
		s, key, err := getSession(tx, id)
		if err != nil {
			return nil, nil, err
		}
		if s == nil {
			continue
		}
		answered, err := answeredBy(tx, conv.Guest, s, sender, now)
		if err != nil {
			return nil, nil, err
		}
		if !answered {
			continue
		}
		if s.Open() || now.Sub(s.Ended) <= classifyWindow {
			return s, key, nil
		}
		break // older sessions ended earlier still
	}
	return getSession(tx, conv.Session)
}

// answeredBy reports whether sender answered in session s: as its first
// answerer, or later (after a transfer), as the ledger's outbound records
// of the session's time show.
func answeredBy(tx *store.Tx, guest string, s *stats.Session, sender string, now time.Time) (bool, error) {
	if strings.EqualFold(s.Operator, sender) {
		return true, nil
	}
	end := s.Ended
	if s.Open() {
		end = now
	}
	found := false
	err := tx.Ledger().Scan(s.Started, end.Add(time.Second), func(_ []byte, r *Record) (bool, error) {
		found = r.Direction == Outbound && r.Guest == guest && strings.EqualFold(r.Operator, sender)
		return !found, nil
	})
	return found, err
}

// startLabel names a session by its start on the wall clock of
// sessions.timezone: "10:42" today, "Mon 7 Dec 22:10" on another day.
func (b *Bridge) startLabel(cfg *config.Config, started time.Time) string {
	loc := location(cfg)
	t, now := started.In(loc), b.now().In(loc)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Mon 2 Jan 15:04")
}

// classify applies !read, !questions or !tag to a session. It returns the
// acknowledgement (without a final stop), or a usage line and false.
func classify(s *stats.Session, name string, args []string) (string, bool) {
	switch name {
	case "read":
		n, err := oneNumber(args)
		if err != nil || n < 1 || n > 6 {
			return "Usage: !read N, with N from 1 to 6.", false
		}
		s.ReadLevel = n
		return fmt.Sprintf("READ level %d recorded", n), true
	case "questions":
		n, err := oneNumber(args)
		if err != nil || n < 1 || n > 99 {
			return "Usage: !questions N, with N from 1 to 99.", false
		}
		s.Questions = n
		if n == 1 {
			return "1 question recorded", true
		}
		return fmt.Sprintf("%d questions recorded", n), true
	default: // tag
		if len(args) == 0 {
			return "Usage: !tag WORD…", false
		}
		for _, a := range args {
			// Commas separate tags in the export's tags cell.
			for _, tag := range strings.FieldsFunc(strings.ToLower(a), func(r rune) bool { return r == ',' || r == ';' }) {
				if !validTag(tag) || hasTag(s.Tags, tag) {
					continue
				}
				s.Tags = append(s.Tags, tag)
			}
		}
		return "Tags " + strings.Join(s.Tags, ", ") + " recorded", true
	}
}

func oneNumber(args []string) (int, error) {
	if len(args) != 1 {
		return 0, fmt.Errorf("want one number")
	}
	return strconv.Atoi(args[0])
}

// validTag accepts words of letters and digits joined by - _ or ., up to 40
// bytes. Starting with a letter or digit also keeps tags from being read
// as formulas when an export is opened in a spreadsheet.
func validTag(t string) bool {
	if t == "" || len(t) > 40 {
		return false
	}
	for i, r := range t {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && (r == '-' || r == '_' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}
