package matching

import "testing"

// eurPx is a BTC-EUR price in euro cents.
func eurPx(euros int64) int64 { return euros * 100 }

// order is a new order of any symbol from the account's own session.
func (h *harness) order(acct AccountID, sym SymbolID, sd Side, px, qty int64, opts ...func(*Command)) []Event {
	h.t.Helper()
	c := Command{Kind: CmdNewOrder, Session: SessionID(acct), Account: acct, Symbol: sym, Side: sd, Type: Limit, TIF: GTC, Px: px, Qty: qty}
	for _, o := range opts {
		o(&c)
	}
	return h.do(c)
}

// Two books at once: BTC-USD and BTC-EUR hold in their own quote asset,
// never match each other, have their own band and status, and a trade
// posts in its own quote asset.
func TestSeveralSymbolsAtOnce(t *testing.T) {
	h := newHarness(t)
	acct := func(id AccountID) *account { return h.e.accounts[id] }
	usdHeld, eurHeld := acct(20).bal[usd].held, acct(20).bal[eur].held

	// A BTC-USD ask and a BTC-EUR bid at prices that would cross if they
	// were one book: both rest.
	if evs := h.order(10, symUSD, Sell, usdPx(50_000), 20_000); kinds(evs) != "accepted level" || evs[1].Symbol != symUSD {
		t.Fatalf("USD ask: %s", dump(evs))
	}
	evs := h.order(20, symEUR, Buy, eurPx(55_000), 20_000)
	if kinds(evs) != "accepted level" || evs[1].Symbol != symEUR || evs[1].Side != Buy {
		t.Fatalf("EUR bid: %s", dump(evs))
	}
	// The EUR buy holds EUR (notional + the most fee, tier 0 taker 0 here)
	// and nothing in USD.
	if got := acct(20).bal[eur].held - eurHeld; got != eurPx(55_000)*20_000 {
		t.Fatalf("EUR hold %d, want %d", got, eurPx(55_000)*20_000)
	}
	if acct(20).bal[usd].held != usdHeld {
		t.Fatal("a BTC-EUR buy held USD")
	}

	// The band is per symbol: 70,000 is inside BTC-USD's (48,000 to
	// 72,000 around 60,000) and above BTC-EUR's (44,000 to 66,000 around
	// 55,000).
	if evs := h.order(20, symEUR, Buy, eurPx(70_000), 10_000); evs[0].Reason != RejPriceBand {
		t.Fatalf("EUR band: %s", dump(evs))
	}
	if evs := h.order(20, symUSD, Sell, usdPx(70_000), 10_000); kinds(evs) != "accepted level" {
		t.Fatalf("USD inside its band: %s", dump(evs))
	}

	// A BTC-EUR sell trades with the EUR bid only; its postings are BTC
	// and EUR and sum to zero per asset.
	eurTotal10, eurTotal20 := acct(10).bal[eur].total, acct(20).bal[eur].total
	evs = h.order(10, symEUR, Sell, eurPx(55_000), 20_000)
	trades := find(evs, EvTrade)
	if len(trades) != 1 || trades[0].Symbol != symEUR || trades[0].Px != eurPx(55_000) || trades[0].Qty != 20_000 {
		t.Fatalf("EUR trade: %s", dump(evs))
	}
	var sum [MaxAssets]int64
	for _, p := range trades[0].Postings[:trades[0].NPostings] {
		if p.Asset != btc && p.Asset != eur {
			t.Fatalf("BTC-EUR trade posts asset %d: %+v", p.Asset, trades[0].Postings)
		}
		sum[p.Asset] += p.Amount
	}
	if sum != [MaxAssets]int64{} {
		t.Fatalf("postings do not sum to zero: %+v", trades[0].Postings)
	}
	n := eurPx(55_000) * 20_000
	if got := acct(20).bal[eur].total - eurTotal20; got != -n {
		t.Fatalf("EUR buyer paid %d, want %d", -got, n)
	}
	if got := acct(10).bal[eur].total - eurTotal10; got != n-trades[0].TakerFee {
		t.Fatalf("EUR seller got %d, want %d", got, n-trades[0].TakerFee)
	}
	if acct(20).bal[eur].held != eurHeld {
		t.Fatalf("EUR hold not released: %d", acct(20).bal[eur].held-eurHeld)
	}
	// The BTC-USD book is as it was, and its reference price did not move.
	usdBook := h.e.symbols[symUSD]
	if usdBook.traded || len(usdBook.asks) != 2 || best(usdBook.asks).px != usdPx(50_000) {
		t.Fatalf("BTC-USD book changed by a BTC-EUR trade: traded %v asks %d", usdBook.traded, len(usdBook.asks))
	}

	// Halting BTC-EUR leaves BTC-USD open.
	h.do(Command{Kind: CmdSetStatus, Symbol: symEUR, Status: StatusHalted})
	if evs := h.order(20, symEUR, Buy, eurPx(55_000), 10_000); evs[0].Reason != RejHalted {
		t.Fatalf("halted EUR: %s", dump(evs))
	}
	if evs := h.order(20, symUSD, Buy, usdPx(49_000), 10_000); evs[0].Kind != EvAccepted {
		t.Fatalf("USD while EUR halted: %s", dump(evs))
	}
}

// A price off the tick or a quantity off the step is rejected with its
// reason, never rounded: new orders and replaces, on BTC-EUR (tick 5,
// step 100).
func TestOffTickAndOffStepRejected(t *testing.T) {
	tests := []struct {
		name string
		cmd  func(*Command)
		want Reason
		fix  int
	}{
		{"limit off the tick", func(c *Command) { c.Px = eurPx(55_000) + 1 }, RejBadPrice, 99},
		{"limit one tick off", func(c *Command) { c.Px = eurPx(55_000) + 4 }, RejBadPrice, 99},
		{"stop-limit stop off the tick", func(c *Command) { c.Type = StopLimit; c.StopPx = eurPx(56_000) + 2; c.Px = eurPx(56_000) + 5 }, RejBadPrice, 99},
		{"stop-market stop off the tick", func(c *Command) { c.Type = Stop; c.Px = 0; c.StopPx = eurPx(56_000) + 3 }, RejBadPrice, 99},
		{"qty off the step", func(c *Command) { c.Qty = 20_050 }, RejBadQty, 13},
		{"qty one sat off", func(c *Command) { c.Qty = 20_001 }, RejBadQty, 13},
		{"on the tick and step", func(c *Command) { c.Px = eurPx(55_000) + 5; c.Qty = 20_100 }, ReasonNone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := Command{Kind: CmdNewOrder, Session: 10, Account: 10, Symbol: symEUR, Side: Buy, Type: Limit, TIF: GTC,
				Px: eurPx(55_000), Qty: 20_000}
			tt.cmd(&c)
			evs := h.do(c)
			if tt.want == ReasonNone {
				if evs[0].Kind != EvAccepted || evs[0].Order.Px != c.Px || evs[0].Order.Qty != c.Qty {
					t.Fatalf("want accepted as sent: %s", dump(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Kind != EvRejected || evs[0].Reason != tt.want || evs[0].Reason.OrdRejReason() != tt.fix {
				t.Fatalf("want reject %d (103=%d), got:\n%s", tt.want, tt.fix, dump(evs))
			}
			if evs[0].Order.Px != c.Px || evs[0].Order.Qty != c.Qty || evs[0].Order.StopPx != c.StopPx {
				t.Fatalf("reject reports a changed request: %+v", evs[0].Order)
			}
		})
	}
	t.Run("replace", func(t *testing.T) {
		h := newHarness(t)
		id := h.order(10, symEUR, Buy, eurPx(55_000), 20_000)[0].Order.ID
		repl := func(px, qty int64) []Event {
			return h.do(Command{Kind: CmdReplace, Session: 10, Account: 10, OrderID: id, Symbol: symEUR, Side: Buy, Type: Limit, TIF: GTC, Px: px, Qty: qty})
		}
		if evs := repl(eurPx(55_000)+3, 20_000); evs[0].Kind != EvCancelRejected || evs[0].Reason != RejBadPrice {
			t.Fatalf("replace off the tick: %s", dump(evs))
		}
		if evs := repl(eurPx(55_000), 20_070); evs[0].Kind != EvCancelRejected || evs[0].Reason != RejBadQty {
			t.Fatalf("replace off the step: %s", dump(evs))
		}
		o := h.e.orders.get(id).v
		if o.Px != eurPx(55_000) || o.Qty != 20_000 {
			t.Fatalf("a refused replace changed the order: %+v", o)
		}
	})
}

// Mass cancel by account, symbol and side, by firm, by the venue, and of
// one session only (cancel on disconnect).
func TestMassCancel(t *testing.T) {
	type placed struct {
		acct AccountID
		sess SessionID
		sym  SymbolID
		side Side
		px   int64
	}
	// Orders 1..6 in OrderID order.
	book := []placed{
		{10, 10, symUSD, Buy, usdPx(59_000)},
		{10, 10, symUSD, Sell, usdPx(61_000)},
		{10, 10, symEUR, Buy, eurPx(54_000)},
		{10, 12, symUSD, Buy, usdPx(59_500)}, // account 10 from a second session
		{11, 11, symUSD, Sell, usdPx(61_500)},
		{20, 20, symUSD, Buy, usdPx(58_000)}, // firm 2
	}
	tests := []struct {
		name   string
		cmd    Command
		want   []int // indexes into book, canceled in this order
		reason Reason
	}{
		{name: "account", cmd: Command{Session: 10, Firm: 1, Account: 10}, want: []int{0, 1, 2, 3}, reason: ReasonMassCancel},
		{name: "account and symbol", cmd: Command{Session: 10, Firm: 1, Account: 10, Symbol: symUSD}, want: []int{0, 1, 3}, reason: ReasonMassCancel},
		{name: "account, symbol and side", cmd: Command{Session: 10, Firm: 1, Account: 10, Symbol: symUSD, Side: Buy}, want: []int{0, 3}, reason: ReasonMassCancel},
		{name: "other symbol", cmd: Command{Session: 10, Firm: 1, Account: 10, Symbol: symEUR}, want: []int{2}, reason: ReasonMassCancel},
		{name: "every account of the firm", cmd: Command{Session: 10, Firm: 1}, want: []int{0, 1, 2, 3, 4}, reason: ReasonMassCancel},
		{name: "firm and side", cmd: Command{Session: 10, Firm: 1, Side: Sell}, want: []int{1, 4}, reason: ReasonMassCancel},
		{name: "the venue, everything", cmd: Command{Session: 1, Reason: ReasonAdmin}, want: []int{0, 1, 2, 3, 4, 5}, reason: ReasonAdmin},
		{name: "one session on disconnect", cmd: Command{Session: 10, Firm: 1, OnlySession: true, Reason: ReasonDisconnect}, want: []int{0, 1, 2}, reason: ReasonDisconnect},
		{name: "the other session of the account", cmd: Command{Session: 12, Firm: 1, OnlySession: true, Reason: ReasonDisconnect}, want: []int{3}, reason: ReasonDisconnect},
		{name: "session and symbol", cmd: Command{Session: 10, Firm: 1, OnlySession: true, Symbol: symEUR}, want: []int{2}, reason: ReasonMassCancel},
		{name: "nothing matches", cmd: Command{Session: 20, Firm: 2, Account: 20, Side: Sell}, want: nil, reason: ReasonMassCancel},
		{name: "another firm's account", cmd: Command{Session: 20, Firm: 2, Account: 10}, want: nil, reason: RejUnknownAccount},
		{name: "unknown account", cmd: Command{Session: 10, Firm: 1, Account: 77}, want: nil, reason: RejUnknownAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ids := make([]OrderID, len(book))
			for i, p := range book {
				evs := h.do(Command{Kind: CmdNewOrder, Session: p.sess, Account: p.acct, Symbol: p.sym, Side: p.side,
					Type: Limit, TIF: GTC, Px: p.px, Qty: 10_000})
				if evs[0].Kind != EvAccepted {
					t.Fatalf("setup %d: %s", i, dump(evs))
				}
				ids[i] = evs[0].Order.ID
			}
			c := tt.cmd
			c.Kind = CmdMassCancel
			evs := h.do(c)
			canceled := find(evs, EvCanceled)
			if len(canceled) != len(tt.want) {
				t.Fatalf("canceled %d, want %d:\n%s", len(canceled), len(tt.want), dump(evs))
			}
			for i, w := range tt.want {
				if canceled[i].Order.ID != ids[w] || canceled[i].Reason != tt.reason || canceled[i].Order.Status != StatusCanceled {
					t.Fatalf("cancel %d: %s, want order %d reason %d", i, brief(canceled[i]), ids[w], tt.reason)
				}
			}
			// Every canceled resting order's level is emitted; the summary
			// comes last.
			if got := len(find(evs, EvLevel)); got != len(tt.want) {
				t.Fatalf("%d level events for %d cancels:\n%s", got, len(tt.want), dump(evs))
			}
			last := evs[len(evs)-1]
			if last.Kind != EvMassCanceled || last.Count != int64(len(tt.want)) || last.Reason != tt.reason {
				t.Fatalf("summary: %s", brief(last))
			}
			// The others still rest.
			gone := map[OrderID]bool{}
			for _, ev := range canceled {
				gone[ev.Order.ID] = true
			}
			for _, id := range ids {
				if live := h.e.orders.get(id) != nil; live == gone[id] {
					t.Fatalf("order %d: live %v after mass cancel, canceled %v", id, live, gone[id])
				}
			}
		})
	}
}
