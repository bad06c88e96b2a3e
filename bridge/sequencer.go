package bridge

import "time"

// gapWait is how long entries handed over past a gap in a bucket's
// sequence wait for the earlier hand-over before the owner reads the
// bucket again.
const gapWait = time.Second

// sequencer puts the entries that commits hand to a queue's owner back in
// commit order. Every entry of an outbox takes the bucket's next sequence
// number, and bbolt runs commit hooks after it releases the writer, so two
// commits' hooks can cross: an entry handed over past a gap waits for the
// earlier ones.
type sequencer[T any] struct {
	next  uint64
	early map[uint64]T
	since time.Time
}

// reset makes next the sequence of the next entry to take, forgetting
// those that wait.
func (s *sequencer[T]) reset(next uint64) {
	s.next = next
	clear(s.early)
	s.since = time.Time{}
}

// admit takes it, the entry of sequence seq, handed over at now. It
// returns the entries now in order: it and those that waited for it, or
// none while an earlier one is missing. stale is true when seq is below
// the next expected: the bucket changed since it was read, and must be
// read again.
func (s *sequencer[T]) admit(seq uint64, it T, now time.Time) (ready []T, stale bool) {
	switch {
	case seq < s.next:
		return nil, true
	case seq > s.next:
		if s.early == nil {
			s.early = map[uint64]T{}
		}
		if len(s.early) == 0 {
			s.since = now
		}
		s.early[seq] = it
		return nil, false
	}
	ready = append(ready, it)
	s.next++
	for e, ok := s.early[s.next]; ok; e, ok = s.early[s.next] {
		delete(s.early, s.next)
		ready = append(ready, e)
		s.next++
	}
	if len(s.early) == 0 {
		s.since = time.Time{}
	}
	return ready, false
}

// gap reports whether entries wait for an earlier one.
func (s *sequencer[T]) gap() bool { return len(s.early) > 0 }

// overdue reports whether entries have waited for an earlier one longer
// than gapWait.
func (s *sequencer[T]) overdue(now time.Time) bool {
	return len(s.early) > 0 && now.Sub(s.since) > gapWait
}
