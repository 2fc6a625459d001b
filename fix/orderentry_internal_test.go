package fix

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
)

// TestOrderEntryKeepsWhatQuickfixRefused: when quickfixgo takes only part
// of a batch and refuses the rest (the session went away), the rest and
// every report after it are kept, none overtakes another, and the next
// Logon sends them all once, in order, before anything queued after it.
func TestOrderEntryKeepsWhatQuickfixRefused(t *testing.T) {
	uni, dir := devRefdata(t)
	g := NewOrderEntry(OrderEntryConfig{CompID: "VENUE"}, dir, uni, &fullQueue{}, nil)
	var (
		mu      sync.Mutex
		sent    []string
		refuse  bool // the next call takes 3 and refuses the rest
		refused int
	)
	g.sendBatch = func(_ quickfix.SessionID, ms []outMsg) (int, int, error) {
		mu.Lock()
		defer mu.Unlock()
		n := len(ms)
		if refuse {
			refuse, refused = false, refused+1
			n = min(3, len(ms))
		}
		for _, m := range ms[:n] {
			sent = append(sent, string(m.body))
		}
		if n < len(ms) {
			return n, len(sent), errors.New("Unknown session")
		}
		return n, len(sent), nil
	}
	st := g.state("FIRM_A")
	qid := quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: "VENUE", TargetCompID: "FIRM_A"}
	report := func(i int) { g.sendOut(st, outMsg{typ: "8", body: []byte(fmt.Sprintf("17=%d\x01", i))}) }
	sentN := func() int { mu.Lock(); defer mu.Unlock(); return len(sent) }
	pendingN := func() int { st.mu.Lock(); defer st.mu.Unlock(); return len(st.pending) }
	inOrder := func(n int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(sent) != n {
			t.Fatalf("%d reports sent, want %d", len(sent), n)
		}
		for i, b := range sent {
			if want := fmt.Sprintf("17=%d\x01", i); b != want {
				t.Fatalf("report %d sent is %q, want %q", i, b, want)
			}
		}
	}

	g.OnLogon(qid)
	for i := range 50 {
		report(i)
	}
	PollUntil(t, 10*time.Second, "50 reports sent", func() bool { return sentN() == 50 })
	mu.Lock()
	refuse = true
	mu.Unlock()
	for i := 50; i < 60; i++ {
		report(i)
	}
	PollUntil(t, 10*time.Second, "a batch refused", func() bool { return sentN()+pendingN() == 60 })
	for i := 60; i < 100; i++ { // after the refusal: kept behind the refused ones
		report(i)
	}
	PollUntil(t, 10*time.Second, "the later reports kept", func() bool { return sentN()+pendingN() == 100 })
	time.Sleep(20 * time.Millisecond) // nothing more leaves while the session is away
	inOrder(53)
	if refused != 1 {
		t.Fatalf("refused %d times, want 1", refused)
	}
	g.OnLogon(qid)
	report(100)
	PollUntil(t, 10*time.Second, "the kept reports sent at Logon", func() bool { return sentN() == 101 })
	inOrder(101)
	if n := pendingN(); n != 0 {
		t.Fatalf("%d reports still kept", n)
	}
}
