package loadtest

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// A pacer sleeps a rate-mode sender until its next order is due. Go's
// timers cannot do that here: when the process is otherwise idle the
// runtime waits for its next timer in epoll_wait, whose timeout is in
// whole milliseconds, so every wait under 1 ms lasts 1 ms or more and
// the orders leave in bursts up to a millisecond late (measured: an ack
// p50 of 0.9 ms at 1,000 orders/s that was mostly the client's own
// lateness). The pacer instead locks its goroutine to an OS thread, sets
// that thread's timer slack to 1 ns (PR_SET_TIMERSLACK; the default is
// 50 µs) and sleeps in nanosleep, which wakes within microseconds
// without spinning a core that the venue under test needs. The goroutine
// keeps the thread until it exits, and the runtime then ends the thread:
// it is never handed back to other goroutines with its timer slack
// changed.
type pacer struct{ precise bool }

func newPacer() *pacer {
	runtime.LockOSThread()
	err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	return &pacer{precise: err == nil}
}

// sleep waits d (at least 1 ns).
func (p *pacer) sleep(d time.Duration) {
	if !p.precise {
		time.Sleep(d)
		return
	}
	ts := unix.NsecToTimespec(int64(max(d, 1)))
	// EINTR (a signal) ends the sleep early; the caller's loop sleeps
	// again for what is left.
	_ = unix.Nanosleep(&ts, nil)
}
