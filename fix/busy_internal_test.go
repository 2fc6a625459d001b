package fix

import (
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"

	"venue/config"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// fullQueue is a sequencer whose queue is always full.
type fullQueue struct{ tried int }

func (q *fullQueue) SubmitAsync(*matching.Command, func(sequencer.Result)) error {
	q.tried++
	return sequencer.ErrQueueFull
}

// TestVenueBusy: when the sequencer's queue is full, a NewOrderSingle is
// rejected at once with a reason that says to send it again (150=8 39=8
// 103=99), a cancel gets a cancel reject saying the same, and
// nothing waits: the session's goroutine is never held.
func TestVenueBusy(t *testing.T) {
	uni, dir := devRefdata(t)
	q := &fullQueue{}
	g := NewOrderEntry(OrderEntryConfig{CompID: "VENUE"}, dir, uni, q, nil)
	st := g.state("FIRM_A")
	msg := func(typ string, fields map[quickfix.Tag]string) *quickfix.Message {
		m := newMsg(typ)
		for k, v := range fields {
			m.Body.SetString(k, v)
		}
		return m
	}
	// The session is not logged on: its sender keeps what it is sent for
	// its next Logon.
	seen := 0
	next := func() *quickfix.Message {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			st.mu.Lock()
			if len(st.pending) > seen {
				m := st.pending[seen]
				seen++
				st.mu.Unlock()
				if m.msg == nil {
					t.Fatal("a gateway answer kept as a raw body")
				}
				return m.msg
			}
			st.mu.Unlock()
		}
		t.Fatal("no answer kept for the session")
		return nil
	}
	order := map[quickfix.Tag]string{tagClOrdID: "b-1", tagSymbol: "BTC-USD", tagSide: "1", tagOrderQty: "0.01",
		tagOrdType: "2", tagPrice: "60000", tagTimeInForce: "1", tagTransactTime: "20261201-10:00:00.000"}
	if rej := g.newOrder(st, msg("D", order)); rej != nil {
		t.Fatalf("D: session reject %v", rej)
	}
	m := next()
	if typ, _ := m.Header.GetString(tagMsgType); typ != "8" {
		t.Fatalf("D answered with %s", typ)
	}
	for tag, want := range map[quickfix.Tag]string{tagExecType: "8", tagOrdStatus: "8", tagOrdRejReason: "99", tagClOrdID: "b-1",
		tagText: "venue busy: the command queue is full, send again"} {
		if got, _ := m.Body.GetString(tag); got != want {
			t.Errorf("D: tag %d = %q, want %q", tag, got, want)
		}
	}
	cancel := map[quickfix.Tag]string{tagClOrdID: "c-1", tagOrigClOrdID: "b-1", tagSymbol: "BTC-USD", tagSide: "1",
		tagTransactTime: "20261201-10:00:00.000"}
	if rej := g.cancel(st, msg("F", cancel)); rej != nil {
		t.Fatalf("F: session reject %v", rej)
	}
	m = next()
	if typ, _ := m.Header.GetString(tagMsgType); typ != "9" {
		t.Fatalf("F answered with %s", typ)
	}
	if text, _ := m.Body.GetString(tagText); text != "venue busy: the command queue is full, send again" {
		t.Errorf("F: 58=%q", text)
	}
	if q.tried != 2 {
		t.Errorf("%d submits, want 2 (no retry inside the session's goroutine)", q.tried)
	}
}

// devRefdata is the default symbols and the dev directory (four firms),
// for the internal tests.
func devRefdata(t *testing.T) (*refdata.Universe, *refdata.Directory) {
	t.Helper()
	uni, err := refdata.FromConfig(config.Default().Symbols)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := refdata.Dev(4)
	if err != nil {
		t.Fatal(err)
	}
	return uni, dir
}
