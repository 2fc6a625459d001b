package fix

import "sync"

// queueKeep is the room a queue keeps once it is empty; more, grown in a
// burst, is given back.
const queueKeep = 1024

// A queue is a FIFO of at most max items that holds memory only for what
// is in it. A channel of capacity max allocates its max slots up front,
// and the collector scans every slot of a channel of pointerful values at
// every cycle: the drop copy's 200,000-report channels were 11 MB per
// session and order entry's 50,000 ones 2.8 MB per session, a third of
// what the collector marked at 10,000 orders/s (BENCHMARKS.md). Any number
// of goroutines may put; one takes.
type queue[T any] struct {
	mu       sync.Mutex
	buf      []T // buf[head:] are queued
	head     int
	max      int
	closed   bool
	nonEmpty chan struct{} // a nudge to the taker: items arrived (or closed)
	notFull  chan struct{} // a nudge to a waiting put: room was made
}

func newQueue[T any](max int) *queue[T] {
	return &queue[T]{max: max, nonEmpty: make(chan struct{}, 1), notFull: make(chan struct{}, 1)}
}

func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// len is how many items are queued.
func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) - q.head
}

// tryPut adds v unless the queue is full or closed.
func (q *queue[T]) tryPut(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.buf)-q.head >= q.max {
		return false
	}
	q.add(v)
	return true
}

// put adds v, waiting while the queue is full; it reports false, and
// drops v, if the queue is closed.
func (q *queue[T]) put(v T) bool {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			nudge(q.notFull) // and any other waiting put
			return false
		}
		if len(q.buf)-q.head < q.max {
			q.add(v)
			room := len(q.buf)-q.head < q.max
			q.mu.Unlock()
			if room {
				nudge(q.notFull) // another put may be waiting
			}
			return true
		}
		q.mu.Unlock()
		<-q.notFull
	}
}

// add appends v; q.mu is held.
func (q *queue[T]) add(v T) {
	if q.head > 0 && len(q.buf) == cap(q.buf) && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, v)
	if len(q.buf)-q.head == 1 {
		nudge(q.nonEmpty)
	}
}

// take waits until the queue holds something, then moves up to n items to
// dst (in order) and returns it; ok is false once the queue is closed and
// empty.
func (q *queue[T]) take(dst []T, n int) (_ []T, ok bool) {
	for {
		q.mu.Lock()
		if k := min(n, len(q.buf)-q.head); k > 0 {
			full := len(q.buf)-q.head >= q.max
			dst = append(dst, q.buf[q.head:q.head+k]...)
			clear(q.buf[q.head : q.head+k]) // hold no pointer to what was taken
			q.head += k
			if q.head == len(q.buf) {
				q.buf, q.head = q.buf[:0], 0
				if cap(q.buf) > queueKeep {
					q.buf = nil
				}
			}
			q.mu.Unlock()
			if full {
				nudge(q.notFull)
			}
			return dst, true
		}
		if q.closed {
			q.mu.Unlock()
			return dst, false
		}
		q.mu.Unlock()
		<-q.nonEmpty
	}
}

// close stops the queue taking items; what is queued can still be taken.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	nudge(q.nonEmpty)
	nudge(q.notFull)
}
