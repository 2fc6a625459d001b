package matching

import (
	"bytes"
	"strings"
	"testing"
)

// kinds renders the events' kinds for compact expectations.
func kinds(evs []Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, kindNames[ev.Kind])
	}
	return strings.Join(s, " ")
}

func find(evs []Event, k EventKind) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func opt(f func(*Command)) func(*Command) { return f }

var (
	fok      = opt(func(c *Command) { c.TIF = FOK })
	postOnly = opt(func(c *Command) { c.PostOnly = true })
	stp      = func(m STPMode) func(*Command) { return func(c *Command) { c.STP = m } }
	clord    = func(id string) func(*Command) { return func(c *Command) { c.ClOrdID = id } }
)

func TestNewOrderRejects(t *testing.T) {
	tests := []struct {
		name string
		cmd  func(*Command)
		want Reason
		fix  int // FIX OrdRejReason
	}{
		{"unknown account", func(c *Command) { c.Account = 99 }, RejUnknownAccount, 15},
		{"another firm's account", func(c *Command) { c.Firm = 2 }, RejUnknownAccount, 15},
		{"fee account", func(c *Command) { c.Account = FeeAccount }, RejUnknownAccount, 15},
		{"unknown symbol", func(c *Command) { c.Symbol = 7 }, RejUnknownSymbol, 1},
		{"bad side", func(c *Command) { c.Side = 3 }, RejUnsupported, 11},
		{"bad tif", func(c *Command) { c.TIF = 2 }, RejUnsupported, 11},
		{"post-only IOC", func(c *Command) { c.PostOnly = true; c.TIF = IOC }, RejUnsupported, 11},
		{"zero qty", func(c *Command) { c.Qty = 0 }, RejBadQty, 13},
		{"below min qty", func(c *Command) { c.Qty = 9_999 }, RejBadQty, 13},
		{"above max qty", func(c *Command) { c.Qty = 1001 * btc1 }, RejMaxQty, 3},
		{"zero price", func(c *Command) { c.Px = 0 }, RejBadPrice, 99},
		{"market with price", func(c *Command) { c.Type = Market }, RejBadPrice, 99},
		{"stop-limit buy stop above limit", func(c *Command) { c.Type = StopLimit; c.StopPx = c.Px + 1 }, RejBadStopPx, 99},
		{"GTD in the past", func(c *Command) { c.TIF = GTD; c.ExpireTime = c.Time }, RejExpireInPast, 99},
		{"above the band", func(c *Command) { c.Px = usdPx(72_000) + 1 }, RejPriceBand, 3},
		{"below the band", func(c *Command) { c.Px = usdPx(48_000) - 1 }, RejPriceBand, 3},
		{"at the band edge", func(c *Command) { c.Px = usdPx(72_000); c.Qty = 10_000 }, ReasonNone, 0},
		{"buy stop already reached", func(c *Command) { c.Type = Stop; c.Px = 0; c.StopPx = usdPx(60_000) }, RejStopWouldTrigger, 99},
		{"insufficient BTC", func(c *Command) { c.Side = Sell; c.Px = usdPx(49_000); c.Qty = 101 * btc1 }, RejInsufficientFund, 3},
		{"notional above max", func(c *Command) { c.Qty = 90 * btc1 }, RejMaxNotional, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := Command{Kind: CmdNewOrder, Session: 10, Firm: 1, Account: 10, Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC,
				Px: usdPx(60_000), Qty: btc1, Time: h.now + 1}
			tt.cmd(&c)
			evs := h.do(c)
			if tt.want == ReasonNone {
				if evs[0].Kind == EvRejected && evs[0].Reason != RejInsufficientFund {
					t.Fatalf("rejected: %s", dump(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Kind != EvRejected || evs[0].Reason != tt.want {
				t.Fatalf("want reject %d, got:\n%s", tt.want, dump(evs))
			}
			if got := evs[0].Reason.OrdRejReason(); got != tt.fix {
				t.Fatalf("103=%d, want %d", got, tt.fix)
			}
			if evs[0].Order.ID != 0 || evs[0].Order.Status != StatusRejected {
				t.Fatalf("a reject creates no order: %+v", evs[0].Order)
			}
		})
	}
}

func TestNotionalOverflowIsRejected(t *testing.T) {
	h := newHarness(t)
	// A symbol whose limits let price × quantity exceed int64.
	h.must(h.do(Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{ID: 3, Name: "BIG", Base: btc, Quote: usd, TickSize: 1, QtyStep: 1,
		MinQty: 1, MaxQty: 1 << 62, MaxNotional: 1 << 62, RefPx: 1 << 40, BandBps: 10, Status: StatusOpen}}))
	evs := h.do(Command{Kind: CmdNewOrder, Session: 10, Account: 10, Symbol: 3, Side: Sell, Type: Limit, TIF: GTC, Px: 1 << 40, Qty: 1 << 30})
	if evs[0].Kind != EvRejected || evs[0].Reason != RejMaxNotional {
		t.Fatalf("2^70 notional: %s", dump(evs))
	}
}

func TestFOKExactlyEnoughAcrossLevels(t *testing.T) {
	h := newHarness(t)
	h.limit(20, Sell, usdPx(60_000), 30_000)
	h.limit(20, Sell, usdPx(60_001), 30_000)
	h.limit(20, Sell, usdPx(60_002), 40_000)
	h.limit(20, Sell, usdPx(60_003), 50_000) // beyond the FOK's limit
	// One satoshi more than the three levels within the limit: nothing happens.
	evs := h.limit(10, Buy, usdPx(60_002), 100_001, fok)
	if kinds(evs) != "accepted canceled" || evs[1].Reason != ReasonFOKUnfilled {
		t.Fatalf("FOK short by 1 sat: %s", dump(evs))
	}
	// Exactly enough: three trades, book left with the 60,003 level only.
	evs = h.limit(10, Buy, usdPx(60_002), 100_000, fok)
	if got := len(find(evs, EvTrade)); got != 3 {
		t.Fatalf("FOK exact: %d trades\n%s", got, dump(evs))
	}
	last := find(evs, EvTrade)[2]
	if last.Order.Status != StatusFilled || last.Order.Cum != 100_000 || last.Order.Notional != 30_000*usdPx(60_000)+30_000*usdPx(60_001)+40_000*usdPx(60_002) {
		t.Fatalf("FOK fill state: %+v", last.Order)
	}
	if b := best(h.e.symbols[symUSD].asks); b == nil || b.px != usdPx(60_003) || len(h.e.symbols[symUSD].asks) != 1 {
		t.Fatalf("asks after FOK: %+v", h.e.symbols[symUSD].asks)
	}
}

func TestSelfTradeAgainstOwnBetterPrice(t *testing.T) {
	for _, tt := range []struct {
		mode STPMode
		want string
	}{
		// Own order at the better price 59,999, another firm's at 60,000.
		{STPCancelResting, "accepted canceled level trade level"},
		{STPCancelAggressor, "accepted canceled"},
		{STPCancelBoth, "accepted canceled canceled level"},
		{STPDecrement, "accepted canceled restated level trade level"},
	} {
		t.Run(string(rune(tt.mode)), func(t *testing.T) {
			h := newHarness(t)
			own := h.limit(10, Sell, usdPx(59_999), 30_000)[0].Order.ID
			h.limit(20, Sell, usdPx(60_000), 50_000)
			evs := h.limit(10, Buy, usdPx(60_000), 50_000, stp(tt.mode))
			if kinds(evs) != tt.want {
				t.Fatalf("got %s\n%s", kinds(evs), dump(evs))
			}
			for _, tr := range find(evs, EvTrade) {
				if tr.Maker.Account == tr.Order.Account {
					t.Fatalf("self trade happened: %s", brief(tr))
				}
			}
			if tt.mode == STPDecrement {
				// own 30,000 canceled; the aggressor restated to 20,000 and resting
				if c := evs[1]; c.Order.ID != own || c.Reason != ReasonSelfTrade {
					t.Fatalf("decrement: %s", dump(evs))
				}
				if r := evs[2]; r.Order.Qty != 20_000 || r.Order.Leaves != 20_000 {
					t.Fatalf("decrement restated: %+v", r.Order)
				}
			}
		})
	}
}

func TestFirmWideSelfTrade(t *testing.T) {
	h := newHarness(t)
	h.limit(10, Sell, usdPx(60_000), 30_000) // firm 1, account 10
	// Account 11 has STPFirm and cancel-resting: account 10's order is self.
	evs := h.limit(11, Buy, usdPx(60_000), 30_000)
	if kinds(evs) != "accepted canceled level level" || evs[1].Reason != ReasonSelfTrade {
		t.Fatalf("firm-wide STP: %s", dump(evs))
	}
}

func TestReplaceBelowFilled(t *testing.T) {
	h := newHarness(t)
	id := h.limit(10, Buy, usdPx(60_000), 100_000, clord("a"))[0].Order.ID
	h.limit(20, Sell, usdPx(60_000), 40_000)
	evs := h.do(Command{Kind: CmdReplace, Session: 10, Account: 10, OrigClOrdID: "a", ClOrdID: "b",
		Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC, Px: usdPx(60_000), Qty: 30_000})
	if kinds(evs) != "replaced level" {
		t.Fatalf("%s", dump(evs))
	}
	o := evs[0].Order
	if o.ID != id || o.Status != StatusFilled || o.Leaves != 0 || o.Qty != o.Cum || o.Cum != 40_000 || o.ClOrdID != "b" || o.OrigClOrdID != "a" {
		t.Fatalf("replaced away: %+v", o)
	}
	if evs[1].Qty != 0 {
		t.Fatalf("level must be gone: %s", brief(evs[1]))
	}
	// The order is done: a further cancel by its latest ClOrdID is too late.
	evs = h.do(Command{Kind: CmdCancel, Session: 10, Account: 10, OrigClOrdID: "b", ClOrdID: "c"})
	if evs[0].Kind != EvCancelRejected || evs[0].Reason != CxlTooLate || evs[0].Reason.CxlRejReason() != 0 {
		t.Fatalf("cancel after finish: %s", dump(evs))
	}
}

func TestReplacePriority(t *testing.T) {
	h := newHarness(t)
	a := h.limit(10, Buy, usdPx(60_000), 50_000)[0].Order.ID
	b := h.limit(20, Buy, usdPx(60_000), 50_000)[0].Order.ID
	repl := func(id OrderID, acct AccountID, px, qty int64) []Event {
		return h.do(Command{Kind: CmdReplace, Session: SessionID(acct), Account: acct, OrderID: id, Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC, Px: px, Qty: qty})
	}
	head := func() OrderID { return best(h.e.symbols[symUSD].bids).head.v.ID }
	repl(a, 10, usdPx(60_000), 40_000) // decrease: keeps priority
	if head() != a {
		t.Fatal("quantity decrease lost priority")
	}
	repl(a, 10, usdPx(60_000), 45_000) // increase: loses it
	if head() != b {
		t.Fatal("quantity increase kept priority")
	}
	repl(b, 20, usdPx(60_001), 50_000)
	repl(b, 20, usdPx(60_000), 50_000) // price change and back: behind a
	if head() != a {
		t.Fatal("price change kept priority")
	}
}

func TestStopChainTriggeredByItsOwnTrades(t *testing.T) {
	h := newHarness(t)
	// Asks at 60,000 / 60,100 / 60,200 (twice). Buy stops at 60,000.01
	// and 60,100: a trade at 60,000 reaches neither; one at 60,100
	// reaches both, which trigger together in OrderID order and take the
	// two 60,200 asks. (A stop reached only by another stop's fill is
	// TestStopTriggeredByTriggeredStop.)
	h.limit(20, Sell, usdPx(60_000), 10_000)
	h.limit(20, Sell, usdPx(60_100), 10_000)
	h.limit(20, Sell, usdPx(60_200), 10_000)
	h.limit(20, Sell, usdPx(60_200), 10_000)
	s1 := h.do(Command{Kind: CmdNewOrder, Session: 10, Account: 10, Symbol: symUSD, Side: Buy, Type: Stop, TIF: GTC, StopPx: usdPx(60_000) + 1, Qty: 10_000})[0].Order.ID
	s2 := h.do(Command{Kind: CmdNewOrder, Session: 11, Account: 11, Symbol: symUSD, Side: Buy, Type: StopLimit, TIF: GTC, StopPx: usdPx(60_100), Px: usdPx(60_200), Qty: 10_000})[0].Order.ID
	// Nothing triggers yet: last is the reference 60,000 and stops are above.
	evs := h.limit(21, Buy, usdPx(60_000), 10_000) // trades at 60,000: below both stops
	if len(find(evs, EvTriggered)) != 0 {
		t.Fatalf("stops triggered below their price: %s", dump(evs))
	}
	evs = h.limit(21, Buy, usdPx(60_100), 10_000) // trades at 60,100: triggers s1 and s2 together
	tr := find(evs, EvTriggered)
	if len(tr) != 2 || tr[0].Order.ID != s1 || tr[1].Order.ID != s2 {
		t.Fatalf("chain: %s", dump(evs))
	}
	trades := find(evs, EvTrade)
	if len(trades) != 3 || trades[1].Order.ID != s1 || trades[2].Order.ID != s2 || trades[2].Px != usdPx(60_200) {
		t.Fatalf("chain trades: %s", dump(evs))
	}
}

func TestStopTriggeredByTriggeredStop(t *testing.T) {
	h := newHarness(t)
	h.limit(20, Sell, usdPx(60_000), 10_000)
	h.limit(20, Sell, usdPx(60_500), 10_000)
	h.limit(20, Sell, usdPx(61_000), 10_000)
	// s1 triggers at 60,000; its fill at 60,500 reaches s2 (60,500) in the
	// next round, which fills at 61,000.
	s1 := h.do(Command{Kind: CmdNewOrder, Session: 10, Account: 10, Symbol: symUSD, Side: Buy, Type: Stop, TIF: GTC, StopPx: usdPx(60_000) + 1, Qty: 10_000})[0].Order.ID
	s2 := h.do(Command{Kind: CmdNewOrder, Session: 11, Account: 11, Symbol: symUSD, Side: Buy, Type: Stop, TIF: GTC, StopPx: usdPx(60_500), Qty: 10_000})[0].Order.ID
	h.limit(21, Buy, usdPx(60_000), 1) // below min qty: rejected, nothing trades
	evs := h.do(Command{Kind: CmdNewOrder, Session: 21, Account: 21, Symbol: symUSD, Side: Buy, Type: Limit, TIF: IOC, Px: usdPx(60_000) + 1, Qty: 10_000})
	_ = evs
	// That IOC took 60,000 at 60,000 (below s1). Now move the last price.
	h.limit(20, Sell, usdPx(60_001), 10_000)
	evs = h.do(Command{Kind: CmdNewOrder, Session: 21, Account: 21, Symbol: symUSD, Side: Buy, Type: Limit, TIF: IOC, Px: usdPx(60_001), Qty: 10_000})
	tr := find(evs, EvTriggered)
	if len(tr) != 2 || tr[0].Order.ID != s1 || tr[1].Order.ID != s2 {
		t.Fatalf("second-round trigger: %s", dump(evs))
	}
	if i0, i1 := indexOf(evs, tr[0]), indexOf(evs, tr[1]); i1 < i0+2 {
		t.Fatalf("s2 must trigger after s1 traded: %s", dump(evs))
	}
}

func indexOf(evs []Event, x Event) int {
	for i, ev := range evs {
		if ev == x {
			return i
		}
	}
	return -1
}

func TestPostOnlyWouldTake(t *testing.T) {
	h := newHarness(t)
	h.limit(20, Sell, usdPx(60_000), 10_000)
	evs := h.limit(10, Buy, usdPx(60_000), 10_000, postOnly)
	if len(evs) != 1 || evs[0].Reason != RejPostOnlyTake || evs[0].Reason.OrdRejReason() != 99 {
		t.Fatalf("%s", dump(evs))
	}
	if evs := h.limit(10, Buy, usdPx(59_999), 10_000, postOnly); kinds(evs) != "accepted level" {
		t.Fatalf("passive post-only: %s", dump(evs))
	}
}

func TestMarketBoundedByBand(t *testing.T) {
	h := newHarness(t)
	h.limit(20, Sell, usdPx(60_000), 10_000)
	h.limit(20, Sell, usdPx(72_000), 10_000) // at the band edge
	h.e.symbols[symUSD].status = StatusOpen
	evs := h.do(Command{Kind: CmdNewOrder, Session: 10, Account: 10, Symbol: symUSD, Side: Buy, Type: Market, TIF: IOC, Qty: 30_000})
	// Takes 60,000, then the band moves with the last trade (upper 72,000):
	// the limit was fixed at acceptance (72,000), so it takes that too; the
	// remainder is canceled.
	if kinds(evs) != "accepted trade level trade level canceled" || evs[5].Reason != ReasonIOCRemainder {
		t.Fatalf("%s", dump(evs))
	}
	if evs[5].Order.Cum != 20_000 || evs[5].Order.Px != 0 {
		t.Fatalf("market remainder: %+v", evs[5].Order)
	}
}

func TestGTDExpiresWithCommandTime(t *testing.T) {
	h := newHarness(t)
	at := h.now + 1_000
	evs := h.limit(10, Buy, usdPx(59_000), 10_000, func(c *Command) { c.TIF = GTD; c.ExpireTime = at })
	id := evs[0].Order.ID
	if evs := h.do(Command{Kind: CmdClock, Time: at - 1}); kinds(evs) != "clock" {
		t.Fatalf("early: %s", dump(evs))
	}
	evs = h.do(Command{Kind: CmdClock, Time: at})
	if kinds(evs) != "expired level clock" || evs[0].Order.ID != id || evs[0].Order.Status != StatusExpired || evs[0].Reason != ReasonExpireGTD {
		t.Fatalf("expiry: %s", dump(evs))
	}
}

func TestDayOrdersExpireAtSessionClose(t *testing.T) {
	h := newHarness(t)
	h.limit(10, Buy, usdPx(59_000), 10_000, func(c *Command) { c.TIF = Day })
	h.limit(10, Buy, usdPx(59_000), 10_000) // GTC stays
	evs := h.do(Command{Kind: CmdSessionClose, Symbol: symUSD})
	if kinds(evs) != "expired level" || evs[0].Reason != ReasonExpireDay || evs[1].Qty != 10_000 {
		t.Fatalf("%s", dump(evs))
	}
}

func TestHaltRejectsNewAcceptsCancel(t *testing.T) {
	h := newHarness(t)
	id := h.limit(10, Buy, usdPx(59_000), 10_000)[0].Order.ID
	h.do(Command{Kind: CmdSetStatus, Symbol: symUSD, Status: StatusHalted})
	if evs := h.limit(10, Buy, usdPx(59_000), 10_000); evs[0].Reason != RejHalted || evs[0].Reason.OrdRejReason() != 2 {
		t.Fatalf("new while halted: %s", dump(evs))
	}
	if evs := h.do(Command{Kind: CmdCancel, Session: 10, Account: 10, OrderID: id}); kinds(evs) != "canceled level" {
		t.Fatalf("cancel while halted: %s", dump(evs))
	}
}

func TestKillSwitch(t *testing.T) {
	h := newHarness(t)
	h.limit(10, Buy, usdPx(59_000), 10_000)
	h.limit(10, Sell, usdPx(61_000), 10_000)
	evs := h.do(Command{Kind: CmdKillSwitch, Account: 10, Flag: true})
	if kinds(evs) != "kill canceled level canceled level" {
		t.Fatalf("%s", dump(evs))
	}
	if evs := h.limit(10, Buy, usdPx(59_000), 10_000); evs[0].Reason != RejKillSwitch {
		t.Fatalf("%s", dump(evs))
	}
}

func TestMaxOpenOrders(t *testing.T) {
	h := newHarness(t)
	h.limit(21, Buy, usdPx(59_000), 10_000)
	h.limit(21, Buy, usdPx(59_000), 10_000)
	if evs := h.limit(21, Buy, usdPx(59_000), 10_000); evs[0].Reason != RejMaxOpenOrders {
		t.Fatalf("%s", dump(evs))
	}
}

func TestDuplicateClOrdID(t *testing.T) {
	h := newHarness(t)
	h.limit(10, Buy, usdPx(59_000), 10_000, clord("x"))
	if evs := h.limit(10, Buy, usdPx(59_000), 10_000, clord("x")); evs[0].Reason != RejDuplicateClOrdID || evs[0].Reason.OrdRejReason() != 6 {
		t.Fatalf("%s", dump(evs))
	}
	// Another session may use the same id; a new day forgets it.
	if evs := h.do(Command{Kind: CmdNewOrder, Session: 99, Account: 10, Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC, Px: usdPx(59_000), Qty: 10_000, ClOrdID: "x"}); evs[0].Kind != EvAccepted {
		t.Fatalf("%s", dump(evs))
	}
	h.do(Command{Kind: CmdNewDay})
	if evs := h.limit(10, Buy, usdPx(59_000), 10_000, clord("x")); evs[0].Kind != EvAccepted {
		t.Fatalf("%s", dump(evs))
	}
}

func TestFeesAndPostings(t *testing.T) {
	h := newHarness(t)
	// Account 10 is tier 1 (maker 100 ppm, taker 250 ppm); 20 tier 0.
	h.do(Command{Kind: CmdSetFeeTier, FeeTier: 0, MakerPpm: 0, TakerPpm: 250})
	h.limit(10, Sell, usdPx(60_000), btc1)
	evs := h.do(Command{Kind: CmdNewOrder, Session: 20, Account: 20, Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC, Px: usdPx(60_000), Qty: btc1})
	tr := find(evs, EvTrade)[0]
	n := usdPx(60_000) * btc1 // 60,000 USD in 1e-10 USD
	if tr.MakerFee != n*100/1_000_000 || tr.TakerFee != n*250/1_000_000 {
		t.Fatalf("fees %d %d", tr.MakerFee, tr.TakerFee)
	}
	var sum [MaxAssets]int64
	for _, p := range tr.Postings[:tr.NPostings] {
		sum[p.Asset] += p.Amount
	}
	if sum != [MaxAssets]int64{} {
		t.Fatalf("postings do not sum to zero: %v", tr.Postings)
	}
	if got := h.e.accounts[FeeAccount].bal[usd].total; got != tr.MakerFee+tr.TakerFee {
		t.Fatalf("fee account %d", got)
	}
}

func TestBalanceIdempotency(t *testing.T) {
	h := newHarness(t)
	dep := Command{Kind: CmdDeposit, Account: 10, Asset: btc, Amount: 5, Key: "deposit:tx:0"}
	if evs := h.do(dep); evs[0].Reason != ReasonNone || evs[0].NPostings != 2 {
		t.Fatalf("%s", dump(evs))
	}
	before := h.e.accounts[10].bal[btc]
	if evs := h.do(dep); evs[0].Reason != BalDuplicate || evs[0].NPostings != 0 || h.e.accounts[10].bal[btc] != before {
		t.Fatalf("second deposit changed something: %s", dump(evs))
	}
	hold := Command{Kind: CmdWithdrawHold, Account: 10, Asset: btc, Amount: 3, Key: "wd:1"}
	h.do(hold)
	if evs := h.do(hold); evs[0].Reason != BalDuplicate {
		t.Fatalf("%s", dump(evs))
	}
	settle := Command{Kind: CmdWithdrawSettle, Key: "wd:1"}
	if evs := h.do(settle); evs[0].Reason != ReasonNone || evs[0].Amount != 3 || evs[0].Account != 10 {
		t.Fatalf("%s", dump(evs))
	}
	if evs := h.do(settle); evs[0].Reason != BalDuplicate {
		t.Fatalf("%s", dump(evs))
	}
	if evs := h.do(Command{Kind: CmdWithdrawRelease, Key: "wd:1"}); evs[0].Reason != BalUnknownHold {
		t.Fatalf("%s", dump(evs))
	}
	if got := h.e.accounts[10].bal[btc].total; got != before.total-3 {
		t.Fatalf("total %d", got)
	}
}

func TestCancelOtherFirmLooksUnknown(t *testing.T) {
	h := newHarness(t)
	id := h.limit(10, Buy, usdPx(59_000), 10_000, clord("mine"))[0].Order.ID
	evs := h.do(Command{Kind: CmdCancel, Session: 20, Firm: 2, Account: 20, OrderID: id, ClOrdID: "theirs"})
	if evs[0].Kind != EvCancelRejected || evs[0].Reason != CxlUnknownOrder || evs[0].Order.ID != 0 || evs[0].Reason.CxlRejReason() != 1 {
		t.Fatalf("%s", dump(evs))
	}
	// The same firm's other session may cancel by OrderID.
	if evs := h.do(Command{Kind: CmdCancel, Session: 11, Firm: 1, Account: 11, OrderID: id, ClOrdID: "c"}); kinds(evs) != "canceled level" || evs[0].Order.OrigClOrdID != "mine" {
		t.Fatalf("%s", dump(evs))
	}
}

// TestSnapshotIsCanonical: two histories that reach one state (an order
// placed with ClOrdID a and canceled with b, or placed with b and canceled
// with a) give the same snapshot bytes, although the day's ClOrdID index
// received its keys in opposite orders.
func TestSnapshotIsCanonical(t *testing.T) {
	snap := func(first, second string) []byte {
		h := newHarness(t)
		evs := h.limit(11, Buy, usdPx(59_000), 10_000, clord(first))
		h.do(Command{Kind: CmdCancel, Session: 11, Account: 11, OrderID: evs[0].Order.ID, ClOrdID: second})
		return h.e.MarshalSnapshot()
	}
	if a, b := snap("a", "b"), snap("b", "a"); !bytes.Equal(a, b) {
		t.Fatalf("one state, two snapshots (%d and %d bytes)", len(a), len(b))
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.limit(10, Buy, usdPx(59_000), 10_000, clord("a"))
	h.limit(20, Sell, usdPx(61_000), 20_000, func(c *Command) { c.TIF = GTD; c.ExpireTime = h.now + 5 })
	h.do(Command{Kind: CmdNewOrder, Session: 11, Account: 11, Symbol: symUSD, Side: Buy, Type: Stop, TIF: GTC, StopPx: usdPx(61_000), Qty: 10_000})
	h.do(Command{Kind: CmdWithdrawHold, Account: 10, Asset: btc, Amount: 3, Key: "wd:1"})
	snap := h.e.MarshalSnapshot()
	e2 := New()
	if err := e2.RestoreSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if h.e.StateHash() != e2.StateHash() {
		t.Fatal("restored state hashes differently")
	}
	// Both continue identically, including the GTD expiry.
	c := Command{Kind: CmdClock, Seq: 1000, Time: h.now + 10}
	a := append([]Event(nil), h.e.Apply(&c)...)
	b := e2.Apply(&c)
	if dump(a) != dump(b) || len(a) != 3 {
		t.Fatalf("diverged:\n%s---\n%s", dump(a), dump(b))
	}
	for i := range len(snap) - 1 { // truncated snapshots are refused, never half applied
		if err := New().RestoreSnapshot(snap[:i]); err == nil {
			t.Fatalf("truncated snapshot at %d accepted", i)
		}
	}
}
