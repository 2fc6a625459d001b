package matching

import (
	"fmt"
	"strings"
	"testing"
)

// harness drives an engine with readable helpers and checks invariants
// after every command.
type harness struct {
	t   *testing.T
	e   *Engine
	seq uint64
	now int64
}

const (
	symUSD SymbolID = 1
	symEUR SymbolID = 2

	btc AssetID = 0
	usd AssetID = 1
	eur AssetID = 2

	sat  = 1
	btc1 = 100_000_000 * sat
)

// usdPx is a price in cents.
func usdPx(dollars int64) int64 { return dollars * 100 }

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, e: New(), now: 1_700_000_000_000_000_000}
	h.must(h.do(Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{
		ID: symUSD, Name: "BTC-USD", Base: btc, Quote: usd, TickSize: 1, QtyStep: 1, MinQty: 10_000,
		MaxQty: 1000 * btc1, MaxNotional: 5e16, RefPx: usdPx(60_000), BandBps: 2000, Status: StatusOpen,
	}}))
	h.must(h.do(Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{
		// A coarser tick (0.05 EUR) and step (100 sat) than BTC-USD, so
		// that off-tick and off-step requests can be tested.
		ID: symEUR, Name: "BTC-EUR", Base: btc, Quote: eur, TickSize: 5, QtyStep: 100, MinQty: 10_000,
		MaxQty: 1000 * btc1, MaxNotional: 4e18, RefPx: usdPx(55_000), BandBps: 2000, Status: StatusOpen,
	}}))
	h.must(h.do(Command{Kind: CmdSetFeeTier, FeeTier: 1, MakerPpm: 100, TakerPpm: 250}))
	// Firm 1: accounts 10, 11 (11 with firm-wide STP). Firm 2: account 20.
	for _, a := range []AccountSpec{
		{ID: 10, Firm: 1, FeeTier: 1, STP: STPCancelAggressor},
		{ID: 11, Firm: 1, FeeTier: 1, STP: STPCancelResting, STPFirm: true},
		{ID: 20, Firm: 2, FeeTier: 0, STP: STPCancelAggressor},
		{ID: 21, Firm: 2, FeeTier: 0, STP: STPCancelAggressor, MaxOpenOrders: 2},
	} {
		h.must(h.do(Command{Kind: CmdAddAccount, AccountSpec: &a}))
		for _, as := range []AssetID{btc, usd, eur} {
			amt := int64(100 * btc1)
			if as != btc {
				amt = 10_000_000 * 1e10 // 10 M USD in 1e-10 units
			}
			h.must(h.do(Command{Kind: CmdDeposit, Account: a.ID, Asset: as, Amount: amt, Key: fmt.Sprintf("seed:%d:%d", a.ID, as)}))
		}
	}
	return h
}

func (h *harness) must(evs []Event) []Event {
	h.t.Helper()
	for _, ev := range evs {
		if ev.Reason != ReasonNone && (ev.Kind == EvRefData || ev.Kind == EvBalance) {
			h.t.Fatalf("setup refused: %+v", ev)
		}
	}
	return evs
}

// do applies one command and returns a copy of its events.
func (h *harness) do(c Command) []Event {
	h.t.Helper()
	h.seq++
	c.Seq = h.seq
	if c.Time == 0 {
		c.Time = h.now
	}
	h.now = c.Time
	evs := append([]Event(nil), h.e.Apply(&c)...)
	if err := h.e.CheckInvariants(); err != nil {
		h.t.Fatalf("after command %d %+v: %v\nevents:\n%s", c.Seq, c, err, dump(evs))
	}
	return evs
}

func (h *harness) limit(acct AccountID, sd Side, px, qty int64, opts ...func(*Command)) []Event {
	h.t.Helper()
	c := Command{Kind: CmdNewOrder, Session: SessionID(acct), Account: acct, Symbol: symUSD, Side: sd, Type: Limit, TIF: GTC, Px: px, Qty: qty}
	for _, o := range opts {
		o(&c)
	}
	return h.do(c)
}

func dump(evs []Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s\n", brief(ev))
	}
	return b.String()
}

var kindNames = map[EventKind]string{
	EvAccepted: "accepted", EvRejected: "rejected", EvTrade: "trade", EvCanceled: "canceled",
	EvReplaced: "replaced", EvCancelRejected: "cxlrej", EvRestated: "restated", EvExpired: "expired",
	EvTriggered: "triggered", EvLevel: "level", EvMassCanceled: "masscanceled", EvSymbolStatus: "status",
	EvKillSwitch: "kill", EvBalance: "balance", EvRefData: "refdata", EvClock: "clock",
}

// brief renders an event in one line for failure messages and
// expectations: kind, then the fields that matter for that kind.
func brief(ev Event) string {
	k := kindNames[ev.Kind]
	switch ev.Kind {
	case EvLevel:
		return fmt.Sprintf("level %d %d px=%d qty=%d", ev.Symbol, ev.Side, ev.Px, ev.Qty)
	case EvTrade:
		return fmt.Sprintf("trade #%d px=%d qty=%d taker=%d(%c leaves=%d) maker=%d(%c leaves=%d) fees=%d/%d", ev.TradeID, ev.Px, ev.Qty,
			ev.Order.ID, ev.Order.Status, ev.Order.Leaves, ev.Maker.ID, ev.Maker.Status, ev.Maker.Leaves, ev.MakerFee, ev.TakerFee)
	case EvMassCanceled:
		return fmt.Sprintf("masscanceled n=%d reason=%d", ev.Count, ev.Reason)
	case EvBalance, EvRefData, EvKillSwitch, EvSymbolStatus, EvClock:
		return fmt.Sprintf("%s reason=%d", k, ev.Reason)
	}
	return fmt.Sprintf("%s id=%d %c qty=%d cum=%d leaves=%d px=%d reason=%d", k, ev.Order.ID, ev.Order.Status, ev.Order.Qty, ev.Order.Cum, ev.Order.Leaves, ev.Order.Px, ev.Reason)
}

func TestSmoke(t *testing.T) {
	h := newHarness(t)
	evs := h.limit(10, Sell, usdPx(60_000), btc1)
	if len(evs) != 2 || evs[0].Kind != EvAccepted || evs[1].Kind != EvLevel {
		t.Fatalf("rest: %s", dump(evs))
	}
	evs = h.limit(20, Buy, usdPx(60_001), btc1/2)
	t.Log("\n" + dump(evs))
	if evs[1].Kind != EvTrade || evs[1].Px != usdPx(60_000) || evs[1].Qty != btc1/2 {
		t.Fatalf("trade: %s", dump(evs))
	}
}
