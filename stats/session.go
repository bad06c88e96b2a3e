package stats

import "time"

// Status is how a finished session ended. The bridge sets it when the
// session ends; it is empty while the session is open.
type Status string

// The statuses a finished session can have.
const (
	// StatusAnswered means a human operator replied at least once.
	StatusAnswered Status = "answered"
	// StatusMissed means the patron wrote during office hours and no human
	// replied before the session ended.
	StatusMissed Status = "missed"
	// StatusAfterHours means the session started outside office hours and
	// no human replied.
	StatusAfterHours Status = "after_hours"
	// StatusUndelivered means a human operator replied, but Facebook
	// refused every reply for good (outside the messaging window, patron
	// unreachable, token revoked): the patron got no answer. It counts
	// neither as answered nor in the wait figures.
	StatusUndelivered Status = "undelivered"
	// StatusAutoOnly means the session held automated traffic only (for
	// example a "Get Started" postback answered by the greeting) and no human
	// took part: LibraryH3lp's "system message" chats.
	StatusAutoOnly Status = "auto_only"
)

// Session is one conversation session as the ledger records it. The bridge
// stores it in a binary record of its own; stores written before that hold
// JSON records, which it still reads, so the JSON tags are stable.
//
// A Session holds no patron identity: Guest is the keyed pseudonym, never
// a PSID, and there is no field for a name. Exports are built from these
// fields only, so they cannot carry a PSID or a name either.
type Session struct {
	// ID is unique and sorts by start time. It must not be derived from a
	// PSID in any way that can be reversed.
	ID string `json:"id"`
	// Guest is the patron's pseudonym, never a PSID.
	Guest string `json:"guest"`
	// Page is the Facebook Page ID the patron wrote to (on Instagram, the
	// Page whose linked Instagram account they wrote to).
	Page string `json:"page"`
	// Protocol is the channel: "facebook" (Messenger) or "instagram"; ""
	// in sessions recorded before Instagram, which are Messenger ones.
	Protocol string `json:"protocol,omitempty"`
	// Queue is the JID the conversation was routed to.
	Queue string `json:"queue"`
	// Started is the time of the patron message that opened the session.
	Started time.Time `json:"started"`
	// Accepted is the time of the first human reply; zero if none.
	Accepted time.Time `json:"accepted,omitempty"`
	// Ended is when the session ended (!close or idle timeout); zero while
	// open.
	Ended time.Time `json:"ended,omitempty"`
	// Operator is the bare JID of the first human answerer.
	Operator string `json:"operator,omitempty"`
	// Status is set when the session ends; empty while open.
	Status Status `json:"status,omitempty"`
	// MessagesIn counts patron messages.
	MessagesIn int `json:"messages_in"`
	// MessagesOut counts human replies.
	MessagesOut int `json:"messages_out"`
	// AutoReplies counts automatic replies (greeting, after-hours,
	// unanswered notices).
	AutoReplies int `json:"auto_replies,omitempty"`
	// Questions is the number of questions answered: 1 by default when
	// answered, or what an operator set with "!questions N".
	Questions int `json:"questions"`
	// ReadLevel is the READ scale level 1–6 set with "!read N"; 0 means
	// not recorded.
	ReadLevel int `json:"read_level,omitempty"`
	// Tags are the operators' "!tag" labels, in the order given.
	Tags []string `json:"tags,omitempty"`
	// Transfers counts "!transfer" hand-overs.
	Transfers int `json:"transfers,omitempty"`
	// RepliesDelivered counts human replies Facebook accepted (or that
	// were written in the Page inbox); RepliesRefused those it refused for
	// good. A session whose every reply was refused is undelivered.
	RepliesDelivered int `json:"replies_delivered,omitempty"`
	RepliesRefused   int `json:"replies_refused,omitempty"`
}

// Wait is how long the patron waited for the first human reply:
// Accepted−Started, or 0 if no human replied (or the clock went backwards).
func (s Session) Wait() time.Duration {
	if s.Accepted.IsZero() {
		return 0
	}
	return max(s.Accepted.Sub(s.Started), 0)
}

// Duration is how long the session lasted: Ended−Started, or 0 while the
// session is open (or if the clock went backwards).
func (s Session) Duration() time.Duration {
	if s.Ended.IsZero() {
		return 0
	}
	return max(s.Ended.Sub(s.Started), 0)
}

// Open reports whether the session is still running: it has no end time
// or no status yet. Exports leave open sessions out.
func (s Session) Open() bool {
	return s.Ended.IsZero() || s.Status == ""
}

// Protocols that Session.Protocol holds.
const (
	ProtocolFacebook  = "facebook"
	ProtocolInstagram = "instagram"
)

// Channel is the session's protocol, "facebook" when none is recorded.
func (s *Session) Channel() string {
	if s.Protocol == "" {
		return ProtocolFacebook
	}
	return s.Protocol
}

// answered reports whether a human replied.
func (s *Session) answered() bool { return s.Status == StatusAnswered }

// answeredQuestions is what the session adds to the reference
// transactions: its questions when answered, else nothing.
func (s *Session) answeredQuestions() int64 {
	if !s.answered() {
		return 0
	}
	return int64(s.Questions)
}

// waitSeconds is the wait in whole seconds (truncated) and whether there
// was one: sessions no human accepted have no wait.
func (s *Session) waitSeconds() (int64, bool) {
	if s.Accepted.IsZero() {
		return 0, false
	}
	return seconds(s.Wait()), true
}

// durationSeconds is the duration in whole seconds, truncated.
func (s *Session) durationSeconds() int64 { return seconds(s.Duration()) }

// seconds truncates d to whole seconds.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// readBucket maps a READ level to its row in the read report: 1–6, or 0
// for not recorded (including levels outside 1–6).
func (s *Session) readBucket() int {
	if s.ReadLevel < 1 || s.ReadLevel > 6 {
		return 0
	}
	return s.ReadLevel
}
