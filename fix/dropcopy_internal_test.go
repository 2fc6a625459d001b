package fix

import (
	"fmt"

	"github.com/quickfixgo/quickfix"
	"testing"
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
