package bridge

import "sync"

// mailbox is a queue owner's inbox of events: anyone posts without
// blocking, and the owner, woken by wake, takes them all at once. Events
// that hand over committed entries count against a limit: past it (nobody
// runs the owner, or it is far behind) they are dropped, and one reload
// event takes their place, so the owner reads its outbox from the store.
type mailbox[E any] struct {
	mu       sync.Mutex
	events   []E
	held     int // committed entries in events
	overflow bool
	limit    int
	reload   E
	wake     chan struct{}
}

func newMailbox[E any](limit int, reload E) mailbox[E] {
	return mailbox[E]{limit: limit, reload: reload, wake: make(chan struct{}, 1)}
}

// post adds ev, which hands over n committed entries (0 for any other
// event), and wakes the owner.
func (m *mailbox[E]) post(ev E, n int) {
	m.mu.Lock()
	switch {
	case n == 0:
		m.events = append(m.events, ev)
	case m.overflow:
	case m.held+n > m.limit:
		m.overflow = true
		m.events = append(m.events, m.reload)
	default:
		m.held += n
		m.events = append(m.events, ev)
	}
	m.mu.Unlock()
	signal(m.wake)
}

// take empties the mailbox.
func (m *mailbox[E]) take() []E {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := m.events
	m.events, m.held, m.overflow = nil, 0, false
	return evs
}
