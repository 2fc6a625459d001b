package fix

import (
	"sync"
	"time"
)

// lockout counts wrong logons per CompID: MaxFailures within Window lock
// the CompID for Lockout. A correct logon clears the count.
type lockout struct {
	maxFailures int
	window      time.Duration
	lockout     time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
	until    map[string]time.Time
}

func newLockout(maxFailures int, window, lock time.Duration) *lockout {
	return &lockout{
		maxFailures: maxFailures, window: window, lockout: lock,
		failures: map[string][]time.Time{}, until: map[string]time.Time{},
	}
}

// locked reports whether comp is locked at now, and until when.
func (l *lockout) locked(comp string, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.until[comp]
	if !ok {
		return time.Time{}, false
	}
	if !now.Before(u) {
		delete(l.until, comp)
		return time.Time{}, false
	}
	return u, true
}

// fail records a wrong logon and reports whether it locked comp.
func (l *lockout) fail(comp string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.failures[comp][:0:0]
	for _, t := range l.failures[comp] {
		if now.Sub(t) < l.window {
			fs = append(fs, t)
		}
	}
	fs = append(fs, now)
	if len(fs) >= l.maxFailures {
		l.until[comp] = now.Add(l.lockout)
		delete(l.failures, comp)
		return true
	}
	l.failures[comp] = fs
	return false
}

// ok clears comp's failures after a correct logon.
func (l *lockout) ok(comp string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, comp)
}

// throttle is a token bucket: rate tokens per second, burst rate.
type throttle struct {
	rate   float64
	tokens float64
	last   time.Time
}

func (t *throttle) allow(now time.Time) bool {
	if t.last.IsZero() {
		t.tokens, t.last = t.rate, now
	}
	t.tokens += now.Sub(t.last).Seconds() * t.rate
	if t.tokens > t.rate {
		t.tokens = t.rate
	}
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}
