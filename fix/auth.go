package fix

import (
	"fmt"
	"sync"
	"time"

	"github.com/quickfixgo/quickfix"

	"venue/refdata"
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

// kindName is how a Logon refusal names the port a CompID tried.
var kindName = map[refdata.SessionKind]string{
	refdata.OrderEntry: "order entry", refdata.DropCopy: "drop copy", refdata.MarketData: "market data",
}

// authenticate checks a Logon on a port of kind: the CompID must be in the
// directory as a session of that kind, not locked out, Username (553) must
// be the CompID and Password (554) match its hash, and the session must not
// be suspended. It returns the session, or why not (for the log) and the
// Text of the Logout. A wrong password counts towards the lockout; a
// correct one clears the count. Order entry, drop copy and market data all
// log on through here.
func authenticate(dir *refdata.Directory, l *lockout, lockFor time.Duration, now time.Time,
	msg *quickfix.Message, comp string, kind refdata.SessionKind) (info refdata.Session, reason, text string) {
	info, ok := dir.Session(comp)
	if !ok {
		return info, "unknown CompID", "unknown CompID " + comp
	}
	if info.Kind != kind {
		return info, "wrong port", fmt.Sprintf("CompID %s is a %s session, not %s", comp, info.Kind, kindName[kind])
	}
	if until, locked := l.locked(comp, now); locked {
		return info, "locked", fmt.Sprintf("CompID %s is locked after repeated logon failures until %s", comp, until.UTC().Format(time.RFC3339))
	}
	user, _ := msg.Body.GetString(tagUsername)
	pass, _ := msg.Body.GetString(tagPassword)
	if user != comp || !info.CheckPassword(pass) {
		text := "wrong Username (553) or Password (554)"
		if l.fail(comp, now) {
			text += fmt.Sprintf("; CompID locked for %s", lockFor)
		}
		return info, "bad credentials", text
	}
	if info.Suspended {
		return info, "suspended", "session " + comp + " is suspended"
	}
	l.ok(comp)
	return info, "", ""
}
