package bridge

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"

	"github.com/askbridge/askbridge/bridge/store"
)

// A session starts with a patron message when the patron has no open
// session, and ends on !close or after sessions.idle_timeout without
// messages. Sessions live in store.BucketSessions, keyed by start time, so an
// export scans a time range; store.BucketOpen indexes the open ones, so the idle
// check never scans closed history. Both survive restarts, and so does the
// idle timer: it is computed from the stored last activity.

// getSession reads the session with the given ID (the hex of its key);
// it returns nil if there is none.
func getSession(tx *store.Tx, id string) (*stats.Session, []byte, error) {
	key, err := hex.DecodeString(id)
	if err != nil || id == "" {
		return nil, nil, nil
	}
	s, err := tx.Sessions().Get(key)
	if err != nil || s == nil {
		return nil, nil, err
	}
	return s, key, nil
}

// putSession writes the session under key in the current record version.
func putSession(tx *store.Tx, key []byte, s *stats.Session) error {
	return tx.Sessions().Put(key, s)
}

// patronSpoke counts a patron message (typed, or a button pressed) in the
// conversation's session. With no session open, a message within
// sessions.followup_grace of the end of the latest one (a "thanks" after
// !close) reopens that session; otherwise a new session starts. It reports
// whether a new session started (the caller then sends the greeting);
// a reopened session only announces the patron again.
func (b *Bridge) patronSpoke(tx *store.Tx, cfg *config.Config, conv *Conversation, at time.Time, typed bool) (bool, error) {
	s, key, err := getSession(tx, conv.Session)
	if err != nil {
		return false, err
	}
	opened := false
	if s == nil {
		s, key, err = b.followup(tx, cfg, conv, at)
		if err != nil {
			return false, err
		}
	}
	if s == nil {
		key, err = tx.Sessions().NewKey(at)
		if err != nil {
			return false, err
		}
		s = &stats.Session{ID: hex.EncodeToString(key), Guest: conv.Guest, Page: conv.Page,
			Protocol: protocolOf(conv.PSID), Queue: cfg.QueueFor(conv.Page), Started: at}
		conv.Session = s.ID
		conv.Remember(s.ID)
		if err := tx.Sessions().SetOpen(conv.PSID, true); err != nil {
			return false, err
		}
		b.metrics.sessionsOpened.Inc()
		opened = true
	}
	if typed {
		s.MessagesIn++
	}
	return opened, putSession(tx, key, s)
}

// followup reopens the conversation's latest session if it ended no more
// than sessions.followup_grace before at, and returns it; nil otherwise.
func (b *Bridge) followup(tx *store.Tx, cfg *config.Config, conv *Conversation, at time.Time) (*stats.Session, []byte, error) {
	s, key, err := getSession(tx, conv.LastSession)
	if err != nil || s == nil || !inGrace(cfg, s, at) {
		return nil, nil, err
	}
	return s, key, b.reopen(tx, cfg, conv, s)
}

// inGrace reports whether at is within sessions.followup_grace after the
// ended session s.
func inGrace(cfg *config.Config, s *stats.Session, at time.Time) bool {
	grace := cfg.Sessions.FollowupGrace
	return grace > 0 && !s.Open() && at.Sub(s.Ended) <= grace
}

// reopen makes an ended session the conversation's open session again: a
// follow-up or a late answer joins the conversation it belongs to instead
// of starting a new session. The session keeps its ID and start; its end
// and status are set again when it ends. The caller writes s.
func (b *Bridge) reopen(tx *store.Tx, cfg *config.Config, conv *Conversation, s *stats.Session) error {
	s.Ended, s.Status = time.Time{}, ""
	conv.Session = s.ID
	if err := tx.Sessions().SetOpen(conv.PSID, true); err != nil {
		return err
	}
	b.metrics.sessionsReopened.Inc()
	return b.announce(tx, cfg, conv)
}

// countAuto counts an automatic reply in the conversation's session.
func countAuto(tx *store.Tx, conv *Conversation) error {
	s, key, err := getSession(tx, conv.Session)
	if err != nil || s == nil {
		return err
	}
	s.AutoReplies++
	return putSession(tx, key, s)
}

// humanReplied counts a human reply; the first one accepts the session.
// With no session open, the reply joins the conversation's latest session:
// Facebook accepts replies only within the messaging window of the
// patron's last message, and that message belongs to the latest session,
// so a librarian answering in the morning a question asked at night (a
// session that ended missed) answers that session, which it reopens. A
// session already answered is reopened only within followup_grace of its
// end; later replies count in it as they are.
// delivered says the reply has reached the patron already (written in the
// Page inbox); a reply through the Send API is counted when Facebook
// answers (replyOutcome). It returns the session's ID, "" if there is
// none.
func (b *Bridge) humanReplied(tx *store.Tx, cfg *config.Config, conv *Conversation, operator string, at time.Time, delivered bool) (string, error) {
	s, key, err := getSession(tx, conv.Session)
	if err != nil {
		return "", err
	}
	if s == nil {
		if s, key, err = getSession(tx, conv.LastSession); err != nil || s == nil {
			return "", err
		}
		// A late answer to a session nobody answered reopens it, and so
		// does a reply within followup_grace of the end; a later reply to
		// an answered session (a "PS" hours after) counts in it without
		// stretching its duration.
		if s.Accepted.IsZero() || inGrace(cfg, s, at) {
			if err := b.reopen(tx, cfg, conv, s); err != nil {
				return "", err
			}
		}
	}
	if s.Accepted.IsZero() {
		s.Accepted = at
		s.Operator = operator
	}
	s.MessagesOut++
	if delivered {
		s.RepliesDelivered++
	}
	return s.ID, putSession(tx, key, s)
}

// replyOutcome counts what Facebook made of a reply in its session: sent
// (delivered) or refused for good. A session that has ended gets its
// status again, since the last outcome may come after the end: a session
// whose every reply was refused is undelivered, and one reply that went
// through makes it answered.
func (b *Bridge) replyOutcome(tx *store.Tx, cfg *config.Config, sessionID string, delivered bool) error {
	s, key, err := getSession(tx, sessionID)
	if err != nil || s == nil {
		return err
	}
	if delivered {
		s.RepliesDelivered++
	} else {
		s.RepliesRefused++
	}
	if !s.Open() {
		b.settle(cfg, s)
	}
	return putSession(tx, key, s)
}

// settle decides an ended session's status from what happened in it.
func (b *Bridge) settle(cfg *config.Config, s *stats.Session) {
	switch {
	case !s.Accepted.IsZero() && s.RepliesDelivered == 0 && s.RepliesRefused > 0:
		s.Status = stats.StatusUndelivered
	case !s.Accepted.IsZero():
		s.Status = stats.StatusAnswered
		if s.Questions == 0 {
			s.Questions = 1
		}
	case s.MessagesIn == 0:
		// Only buttons pressed (e.g. "Get Started") and automatic answers.
		s.Status = stats.StatusAutoOnly
	case !b.officeHours(cfg).Open(s.Started, location(cfg)):
		s.Status = stats.StatusAfterHours
	default:
		s.Status = stats.StatusMissed
	}
}

// closeSession ends the conversation's open session at ended and decides
// its status.
func (b *Bridge) closeSession(tx *store.Tx, cfg *config.Config, conv *Conversation, ended time.Time) (*stats.Session, error) {
	s, key, err := getSession(tx, conv.Session)
	if err != nil || s == nil {
		return nil, err
	}
	if ended.Before(s.Started) {
		ended = s.Started
	}
	s.Ended = ended
	b.settle(cfg, s)
	if err := putSession(tx, key, s); err != nil {
		return nil, err
	}
	if err := tx.Sessions().SetOpen(conv.PSID, false); err != nil {
		return nil, err
	}
	if err := b.farewell(tx, cfg, conv); err != nil {
		return nil, err
	}
	conv.Session = ""
	conv.Owner = ""
	conv.Offered, conv.Held = nil, nil
	b.metrics.sessionsClosed.WithLabelValues(string(s.Status)).Inc()
	b.metrics.sessionLength.Observe(s.Duration().Seconds())
	if s.Status == stats.StatusAnswered {
		b.metrics.sessionWait.Observe(s.Wait().Seconds())
	}
	return s, nil
}

// officeHours parses sessions.office_hours (validated at load).
func (b *Bridge) officeHours(cfg *config.Config) config.Schedule {
	s, err := config.ParseOfficeHours(cfg.Sessions.OfficeHours)
	if err != nil {
		return config.Schedule{}
	}
	return s
}

func location(cfg *config.Config) *time.Location {
	loc, err := time.LoadLocation(cfg.Sessions.Timezone)
	if err != nil {
		return time.Local
	}
	return loc
}

// sessionLoop closes sessions idle for sessions.idle_timeout and sends
// sessions.unanswered_reply to patrons nobody answered in
// sessions.unanswered_after. Both timers are computed from stored times,
// so they survive restarts.
func (b *Bridge) sessionLoop(ctx context.Context) {
	for {
		if n, err := b.sessionTick(); err != nil {
			b.log.Error("checking open sessions", zap.Error(err))
		} else if n > 0 {
			b.log.Debug("sessions ended or reminded", zap.Int("n", n))
		}
		s := b.config().Sessions
		every := s.IdleTimeout
		if s.UnansweredReply != "" && s.UnansweredAfter > 0 {
			every = min(every, s.UnansweredAfter)
		}
		if !wait(ctx, nil, idleCheck(every)) {
			return
		}
	}
}

// idleCheck is how often open sessions are looked at: often enough that a
// timer fires within a few percent of its time.
func idleCheck(timeout time.Duration) time.Duration {
	return min(max(timeout/30, 100*time.Millisecond), 30*time.Second)
}

// closeIdle runs one session check; tests call it with a set clock.
func (b *Bridge) closeIdle() (int, error) { return b.sessionTick() }

// sessionTick ends every open session whose conversation has been idle
// for the timeout (the session's end is its last activity), and sends the
// unanswered reply where it is due. It returns how many sessions changed.
func (b *Bridge) sessionTick() (int, error) {
	cfg := b.config()
	now := b.now()
	n := 0
	err := b.store.update(func(tx *store.Tx) error {
		n = 0
		return eachOpenConversation(tx, func(conv *Conversation) error {
			changed, err := b.checkSession(tx, cfg, conv, now)
			if err != nil || !changed {
				return err
			}
			n++
			return putConversation(tx, conv)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: checking open sessions: %w", err)
	}
	if n > 0 {
		signal(b.xmppReady)
	}
	return n, nil
}

func (b *Bridge) checkSession(tx *store.Tx, cfg *config.Config, conv *Conversation, now time.Time) (bool, error) {
	if now.Sub(conv.LastActivity) >= cfg.Sessions.IdleTimeout && len(conv.Held) == 0 {
		_, err := b.closeSession(tx, cfg, conv, conv.LastActivity)
		return true, err
	}
	text, after := cfg.Sessions.UnansweredReply, cfg.Sessions.UnansweredAfter
	if text == "" || after <= 0 || conv.Unanswered == conv.Session {
		return false, nil
	}
	s, _, err := getSession(tx, conv.Session)
	if err != nil || s == nil || !s.Accepted.IsZero() || s.MessagesIn == 0 || now.Sub(s.Started) < after {
		return false, err
	}
	conv.Unanswered = conv.Session
	return true, b.queueAuto(tx, cfg, conv, text, autoUnanswered)
}

// eachOpenConversation calls fn, in a write transaction, with the
// conversation of each patron with an open session; an index entry whose
// conversation is gone is removed.
func eachOpenConversation(tx *store.Tx, fn func(conv *Conversation) error) error {
	for _, psid := range tx.Sessions().OpenPSIDs() {
		conv, err := getConversation(tx, psid)
		if err != nil {
			return err
		}
		if conv == nil {
			if err := tx.Sessions().SetOpen(psid, false); err != nil {
				return err
			}
			continue
		}
		if err := fn(conv); err != nil {
			return err
		}
	}
	return nil
}

// Sessions returns the sessions that started in [from, to), oldest first.
// It holds them all in memory: exports of long periods use ForEachSession.
func (s *Store) Sessions(from, to time.Time) ([]stats.Session, error) {
	var out []stats.Session
	err := s.ForEachSession(from, to, func(r *stats.Session) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sessionChunk is how many sessions ForEachSession decodes in one read
// transaction before it hands them to its function.
const sessionChunk = 1024

// ForEachSession calls fn with every session that started in [from, to),
// in the order of the sessions bucket: by start, then ID (the hex of the
// key), the order stats.Exporter needs. *r is reused for a later session,
// so fn must copy what it keeps; copying *r is enough (its strings and
// Tags are never reused).
//
// Sessions are read sessionChunk at a time, each chunk in its own read
// transaction that is over before fn sees the chunk: however slowly fn
// writes (an HTTP client, a pipe), no transaction stays open to hold up
// compaction or the growth of the file. The scan is therefore not one
// snapshot: a session that changes while it runs is seen as it was when
// its chunk was read, and sessions that start meanwhile may be included.
//
// An error from fn stops the scan and is returned as it is; a record that
// cannot be read stops it with an error naming the record.
func (s *Store) ForEachSession(from, to time.Time, fn func(r *stats.Session) error) error {
	buf := make([]stats.Session, sessionChunk)
	sc := sessionScan{dec: store.NewSessionDecoder(), seek: store.TimeBound(from), end: store.TimeBound(to)}
	for {
		n, err := sc.next(s, buf)
		if err != nil {
			return err
		}
		for i := range buf[:n] {
			if err := fn(&buf[i]); err != nil {
				return err
			}
		}
		if n < len(buf) {
			return nil
		}
	}
}

// sessionScan reads the sessions bucket chunk by chunk.
type sessionScan struct {
	dec  *store.SessionDecoder
	seek []byte // where the next chunk starts, or just after it with last
	last []byte // the key of the last session read, nil before the first
	end  []byte // the first key not to read
}

// next decodes the next sessions into buf, as many as fit, and returns
// how many; fewer than len(buf) means the scan is over.
func (sc *sessionScan) next(st *Store, buf []stats.Session) (int, error) {
	n := 0
	err := st.view(func(tx *store.Tx) error {
		return tx.Sessions().Scan(sc.seek, sc.end, sc.dec, func(k []byte, r *stats.Session) (bool, error) {
			if sc.last != nil && bytes.Equal(k, sc.last) {
				return true, nil // the last of the previous chunk
			}
			buf[n] = *r
			sc.last = append(sc.last[:0], k...)
			n++
			return n < len(buf), nil
		})
	})
	if err != nil {
		return n, fmt.Errorf("bridge: reading sessions: %w", err)
	}
	sc.seek = append(sc.seek[:0], sc.last...)
	return n, nil
}
