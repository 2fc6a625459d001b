package fix

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"

	"venue/refdata"
)

// TestLastPositionLooksPastHeartbeats: the newest report may lie behind
// more than the 4,096 messages read first (a long quiet spell of
// heartbeats): the whole store is read then.
func TestLastPositionLooksPastHeartbeats(t *testing.T) {
	st, _ := newRingStoreFactory(10_000).Create(quickfixSessionID("FIRM_A_DC"))
	save := func(seq int, body string) {
		if err := st.SaveMessageAndIncrNextSenderMsgSeqNum(seq, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	save(1, "8=FIX.4.4\x019=5\x0135=8\x0134=1\x0117=42-3M\x0110=000\x01")
	for seq := 2; seq <= 6000; seq++ {
		save(seq, fmt.Sprintf("8=FIX.4.4\x019=5\x0135=0\x0134=%d\x0110=000\x01", seq))
	}
	p, err := lastPosition(st)
	if err != nil {
		t.Fatal(err)
	}
	if p != (position{42, 3, 1}) {
		t.Fatalf("last position %+v, want 42-3M", p)
	}
	// Nothing but heartbeats: the zero position (send everything).
	empty, _ := newRingStoreFactory(100).Create(quickfixSessionID("X"))
	if p, err := lastPosition(empty); err != nil || p != (position{}) {
		t.Fatalf("empty store: %+v %v", p, err)
	}
}

// FuzzReportPosition: any stored bytes parse without a panic, and an
// ExecID the venue writes parses back to its position.
func FuzzReportPosition(f *testing.F) {
	f.Add([]byte("\x0117=12-3M\x01"), uint64(12), 3, 1)
	f.Add([]byte("\x01571=7-0\x01"), uint64(7), 0, 0)
	f.Add([]byte("\x0117=-\x01"), uint64(1), 0, 2)
	f.Fuzz(func(t *testing.T, raw []byte, seq uint64, i int, side int) {
		_, _ = reportPosition(raw)
		if i < 0 || side < 0 || side > 2 || seq == 0 {
			return
		}
		tag := [...]string{"", "M", "T"}[side]
		msg := []byte("8=FIX.4.4\x0135=8\x0117=" + execID(seq, i, tag) + "\x0110=000\x01")
		p, ok := reportPosition(msg)
		if !ok || p != (position{seq, i, side}) {
			t.Fatalf("%q: got %+v %v, want {%d %d %d}", msg, p, ok, seq, i, side)
		}
	})
}

func quickfixSessionID(comp string) quickfix.SessionID {
	return quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: "VENUE", TargetCompID: comp}
}

// TestDropCopyStoreFailuresLoseNothing: a store that refuses writes now
// and then (a run of bodies whole, after some of a batch went in) and a
// full outage of 50 attempts in the middle: every report reaches the
// store exactly once, in order, each refusal is counted, and a session
// that is gone ends the attempts without blocking its queue.
func TestDropCopyStoreFailuresLoseNothing(t *testing.T) {
	storeRetryMin, storeRetryMax = time.Microsecond, 50*time.Microsecond
	t.Cleanup(func() { storeRetryMin, storeRetryMax = 10*time.Millisecond, time.Second })
	rng := rand.New(rand.NewPCG(9, 10))
	const total = 5000
	var (
		mu         sync.Mutex
		stored     []string
		refused    uint64
		outageLeft = 50
		gone       bool
	)
	d := &DropCopy{log: zap.NewNop()}
	d.sendBatch = func(_ quickfix.SessionID, ms []outMsg) (int, int, error) {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return 0, 0, fmt.Errorf("send: %w", quickfix.ErrUnknownSession)
		}
		outage := len(stored) >= total/2 && outageLeft > 0 // 50 refusals in a row, half way
		if outage {
			outageLeft--
		}
		if outage || rng.IntN(4) == 0 {
			n := rng.IntN(len(ms)) // some went in before the store failed
			for _, m := range ms[:n] {
				stored = append(stored, string(m.body))
			}
			refused++
			return n, len(stored), errors.New("write: no space left on device")
		}
		for _, m := range ms {
			stored = append(stored, string(m.body))
		}
		return len(ms), len(stored), nil
	}
	s := &dcSession{info: refdata.Session{CompID: "FIRM_A_DC"}, qid: quickfixSessionID("FIRM_A_DC"), out: newQueue[outMsg](64)}
	senderDone := make(chan struct{})
	go func() { d.sender(s); close(senderDone) }()
	for i := 0; i < total; i++ {
		s.out.put(outMsg{typ: "8", body: []byte(fmt.Sprintf("17=%d\x01", i))})
	}
	PollUntil(t, 10*time.Second, "every report stored", func() bool { mu.Lock(); defer mu.Unlock(); return len(stored) == total })
	mu.Lock()
	for i, b := range stored {
		if want := fmt.Sprintf("17=%d\x01", i); b != want {
			mu.Unlock()
			t.Fatalf("store record %d is %q, want %q", i, b, want)
		}
	}
	if refused < 50 || d.storeErrors.Load() != refused {
		mu.Unlock()
		t.Fatalf("%d refusals, counted %d", refused, d.storeErrors.Load())
	}
	if s.queued.Load() != total {
		mu.Unlock()
		t.Fatalf("queued MsgSeqNum %d, want %d", s.queued.Load(), total)
	}
	gone = true
	mu.Unlock()
	// The acceptor stopped: what is queued is left to catch-up, and the
	// queue never blocks the router.
	for i := 0; i < 1000; i++ {
		s.out.put(outMsg{typ: "8", body: []byte("17=late\x01")})
	}
	PollUntil(t, 10*time.Second, "the queue drained", func() bool { return s.out.len() == 0 })
	s.out.close()
	<-senderDone
}

// TestDropCopyStoreOutageCutsNoReader: while the store refuses writes the
// session's queue grows, and that is not the back office's doing: a
// logged-on session that reads is not cut for it, neither during the
// outage nor while the queue drains after. A session whose reports do
// not leave (quickfixgo held up by a reader that stopped) is still cut.
func TestDropCopyStoreOutageCutsNoReader(t *testing.T) {
	storeRetryMin, storeRetryMax = time.Microsecond, 100*time.Microsecond
	t.Cleanup(func() { storeRetryMin, storeRetryMax = 10*time.Millisecond, time.Second })
	var (
		mu      sync.Mutex
		failing = true
		stored  int
		hold    chan struct{} // non-nil: the send waits on it (a writer stuck on its socket)
	)
	d := &DropCopy{log: zap.NewNop(), cfg: DropCopyConfig{MaxBacklog: 32}}
	s := &dcSession{info: refdata.Session{CompID: "FIRM_A_DC"}, qid: quickfixSessionID("FIRM_A_DC"),
		out: newQueue[outMsg](2 * d.cfg.MaxBacklog)}
	s.online.Store(true)
	d.sendBatch = func(_ quickfix.SessionID, ms []outMsg) (int, int, error) {
		mu.Lock()
		h := hold
		mu.Unlock()
		if h != nil {
			<-h
		}
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return 0, 0, errors.New("write: no space left on device")
		}
		stored += len(ms)
		s.written.Store(int64(stored)) // the reader takes everything at once
		return len(ms), stored, nil
	}
	senderDone := make(chan struct{})
	go func() { d.sender(s); close(senderDone) }()
	seq := uint64(0)
	report := func() {
		seq++
		d.send(s, position{seq, 0, 0}, outMsg{typ: "8", body: []byte(fmt.Sprintf("17=%d\x01", seq))})
	}
	report()
	PollUntil(t, 10*time.Second, "the store to refuse", func() bool { return d.storeErrors.Load() > 0 })
	for range 60 { // more than MaxBacklog queued behind the refused one
		report()
	}
	if n := s.out.len(); n <= d.cfg.MaxBacklog {
		t.Fatalf("only %d queued during the outage", n)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	for range d.cfg.MaxBacklog - 2 { // fewer than MaxBacklog: a burst never cuts
		report()
	}
	PollUntil(t, 10*time.Second, "every report stored", func() bool { mu.Lock(); defer mu.Unlock(); return stored == int(seq) })
	if c := d.cuts.Load(); c != 0 {
		t.Fatalf("a reading session was cut %d times for the store's outage", c)
	}
	if s.storeTrouble.Load() {
		t.Fatal("still counted as store trouble after the queue drained")
	}
	// A reader that stopped: the reports do not leave, the queue fills.
	mu.Lock()
	hold = make(chan struct{})
	mu.Unlock()
	for range 2*d.cfg.MaxBacklog - 1 {
		report()
	}
	if d.cuts.Load() != 1 {
		t.Fatalf("a session whose reports do not leave was cut %d times, want 1", d.cuts.Load())
	}
	mu.Lock()
	close(hold)
	hold = nil
	mu.Unlock()
	s.out.close()
	<-senderDone
}
