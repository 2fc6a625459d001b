package sequencer

import "sync"

// Subscription receives every command's events from the moment it was
// made, in seq order, through a bounded buffer. A subscriber that lets the
// buffer fill is dropped: C is closed and Reason says why. It never slows
// the engine down.
type Subscription struct {
	// C delivers the published commands; it is closed when the
	// subscription ends. Every subscriber receives the same *Published:
	// read only.
	C <-chan *Published
	// FirstSeq is the first seq C will deliver.
	FirstSeq uint64

	ch     chan *Published
	name   string
	s      *Sequencer
	once   sync.Once
	reason string
}

// Subscribe starts a subscription named name (for logs) with a buffer of
// Config.SubscriberBuffer commands (buffer > 0 overrides it).
func (s *Sequencer) Subscribe(name string, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = s.cfg.SubscriberBuffer
	}
	// Pointers, not values: the garbage collector scans a channel's
	// whole buffer at every cycle, and 262,144 Published values per router
	// were 150 MB of it (GC cycles of 100-250 ms under load).
	ch := make(chan *Published, buffer)
	sub := &Subscription{C: ch, ch: ch, name: name, s: s}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	sub.FirstSeq = s.lastPublished + 1
	if s.subsClosed {
		sub.end(ErrClosed.Error())
	} else {
		s.subs = append(s.subs, sub)
	}
	return sub
}

// Close ends the subscription.
func (sub *Subscription) Close() {
	s := sub.s
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for i, x := range s.subs {
		if x == sub {
			s.subs = append(s.subs[:i], s.subs[i+1:]...)
			break
		}
	}
	sub.end("closed by subscriber")
}

// Reason says why the subscription ended ("" while it runs). Read it after
// C is closed.
func (sub *Subscription) Reason() string {
	sub.s.subMu.Lock()
	defer sub.s.subMu.Unlock()
	return sub.reason
}

// end closes the channel once; the caller holds subMu.
func (sub *Subscription) end(reason string) {
	sub.once.Do(func() {
		sub.reason = reason
		close(sub.ch)
	})
}
