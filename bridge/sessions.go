package bridge

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

// A session starts with a patron message when the patron has no open
// session, and ends on !close or after sessions.idle_timeout without
// messages. Sessions live in bucketSessions, keyed by start time, so an
// export scans a time range; bucketOpen indexes the open ones, so the idle
// check never scans closed history. Both survive restarts, and so does the
// idle timer: it is computed from the stored last activity.

func getSession(tx *bolt.Tx, id string) (*stats.Session, []byte, error) {
	key, err := hex.DecodeString(id)
	if err != nil || id == "" {
		return nil, nil, nil
	}
	v := tx.Bucket(bucketSessions).Get(key)
	if v == nil {
		return nil, nil, nil
	}
	var s stats.Session
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, nil, fmt.Errorf("session record: %w", err)
	}
	return &s, key, nil
}

func putSession(tx *bolt.Tx, key []byte, s *stats.Session) error {
	return putJSON(tx.Bucket(bucketSessions), key, s)
}

// patronSpoke counts a patron message in the conversation's session,
// opening a session if none is open.
func (b *Bridge) patronSpoke(tx *bolt.Tx, cfg *config.Config, conv *Conversation, at time.Time) error {
	s, key, err := getSession(tx, conv.Session)
	if err != nil {
		return err
	}
	if s == nil {
		key, err = timeKey(tx.Bucket(bucketSessions), at)
		if err != nil {
			return fmt.Errorf("session key: %w", err)
		}
		s = &stats.Session{ID: hex.EncodeToString(key), Guest: conv.Guest, Page: conv.Page,
			Queue: cfg.QueueFor(conv.Page), Started: at}
		conv.Session, conv.LastSession = s.ID, s.ID
		if err := tx.Bucket(bucketOpen).Put([]byte(conv.PSID), nil); err != nil {
			return fmt.Errorf("open session index: %w", err)
		}
		b.metrics.sessionsOpened.Inc()
	}
	s.MessagesIn++
	return putSession(tx, key, s)
}

// humanReplied counts a human reply; the first one accepts the session.
func humanReplied(tx *bolt.Tx, conv *Conversation, operator string, at time.Time) error {
	s, key, err := getSession(tx, conv.Session)
	if err != nil || s == nil {
		return err
	}
	if s.Accepted.IsZero() {
		s.Accepted = at
		s.Operator = operator
	}
	s.MessagesOut++
	return putSession(tx, key, s)
}

// closeSession ends the conversation's open session at ended and decides
// its status.
func (b *Bridge) closeSession(tx *bolt.Tx, cfg *config.Config, conv *Conversation, ended time.Time) (*stats.Session, error) {
	s, key, err := getSession(tx, conv.Session)
	if err != nil || s == nil {
		return nil, err
	}
	if ended.Before(s.Started) {
		ended = s.Started
	}
	s.Ended = ended
	switch {
	case !s.Accepted.IsZero():
		s.Status = stats.StatusAnswered
		if s.Questions == 0 {
			s.Questions = 1
		}
	case !b.officeHours(cfg).Open(s.Started, location(cfg)):
		s.Status = stats.StatusAfterHours
	case s.AutoReplies > 0:
		s.Status = stats.StatusAutoOnly
	default:
		s.Status = stats.StatusMissed
	}
	if err := putSession(tx, key, s); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketOpen).Delete([]byte(conv.PSID)); err != nil {
		return nil, fmt.Errorf("open session index: %w", err)
	}
	conv.Session = ""
	conv.Owner = ""
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

// sessionLoop closes sessions idle for sessions.idle_timeout.
func (b *Bridge) sessionLoop(ctx context.Context) {
	for {
		if n, err := b.closeIdle(); err != nil {
			b.log.Error("closing idle sessions", zap.Error(err))
		} else if n > 0 {
			b.log.Debug("idle sessions closed", zap.Int("n", n))
		}
		if !wait(ctx, nil, idleCheck(b.config().Sessions.IdleTimeout)) {
			return
		}
	}
}

// idleCheck is how often idle sessions are looked for: often enough that
// a session ends within a few percent of its timeout.
func idleCheck(timeout time.Duration) time.Duration {
	return min(max(timeout/30, 100*time.Millisecond), 30*time.Second)
}

// closeIdle ends every open session whose conversation has been idle for
// the timeout; the session's end is its last activity.
func (b *Bridge) closeIdle() (int, error) {
	cfg := b.config()
	now := b.now()
	n := 0
	err := b.store.update(func(tx *bolt.Tx) error {
		n = 0
		var psids []string
		if err := tx.Bucket(bucketOpen).ForEach(func(k, _ []byte) error {
			psids = append(psids, string(k))
			return nil
		}); err != nil {
			return err
		}
		for _, psid := range psids {
			conv, err := getConversation(tx, psid)
			if err != nil {
				return err
			}
			if conv == nil {
				if err := tx.Bucket(bucketOpen).Delete([]byte(psid)); err != nil {
					return err
				}
				continue
			}
			if now.Sub(conv.LastActivity) < cfg.Sessions.IdleTimeout {
				continue
			}
			if _, err := b.closeSession(tx, cfg, conv, conv.LastActivity); err != nil {
				return err
			}
			if err := putConversation(tx, conv); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bridge: closing idle sessions: %w", err)
	}
	return n, nil
}

// Sessions returns the sessions that started in [from, to), oldest first.
func (s *Store) Sessions(from, to time.Time) ([]stats.Session, error) {
	var out []stats.Session
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSessions).Cursor()
		end := string(timeBound(to))
		for k, v := c.Seek(timeBound(from)); k != nil && string(k[:8]) < end; k, v = c.Next() {
			var r stats.Session
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("session record: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading sessions: %w", err)
	}
	return out, nil
}
