package matching

import "testing"

// Holds, exactly: a buy holds price × quantity plus the most fee it can
// pay (the larger of its maker and taker rate), a sell its quantity; a
// fill releases what the filled part held, a cancel the rest; a market
// buy is checked against the band's upper edge, not the last price.
func TestHoldsAndRelease(t *testing.T) {
	h := newHarness(t)
	a := h.e.accounts[10] // fee tier 1: maker 100 ppm, taker 250 ppm
	buyNeed := func(px, qty int64) int64 { n := px * qty; return n + n*250/1_000_000 }
	usd0, btc0 := a.bal[usd].held, a.bal[btc].held

	bid := h.limit(10, Buy, usdPx(60_000), 100_000)[0].Order.ID
	if got, want := a.bal[usd].held-usd0, buyNeed(usdPx(60_000), 100_000); got != want {
		t.Fatalf("buy holds %d, want %d", got, want)
	}
	h.limit(10, Sell, usdPx(61_000), 30_000)
	if got := a.bal[btc].held - btc0; got != 30_000 {
		t.Fatalf("sell holds %d sat, want 30000", got)
	}
	// Another firm sells 40,000 into the bid: the bid holds for 60,000 now.
	h.limit(20, Sell, usdPx(60_000), 40_000)
	if got, want := a.bal[usd].held-usd0, buyNeed(usdPx(60_000), 60_000); got != want {
		t.Fatalf("after a partial fill the buy holds %d, want %d", got, want)
	}
	h.do(Command{Kind: CmdCancel, Session: 10, Account: 10, OrderID: bid})
	if got := a.bal[usd].held - usd0; got != 0 {
		t.Fatalf("after cancel the buy still holds %d", got)
	}

	// A market buy is checked against the band's upper edge (72,000):
	// leave account 21 (fees 0) exactly what 60 BTC cost at 66,000.
	b := h.e.accounts[21]
	qty := int64(60 * btc1)
	keep := usdPx(66_000) * qty
	h.must(h.do(Command{Kind: CmdWithdrawHold, Account: 21, Asset: usd, Amount: b.bal[usd].total - b.bal[usd].held - keep, Key: "wd:21"}))
	h.limit(20, Sell, usdPx(60_000), qty)
	if evs := h.do(Command{Kind: CmdNewOrder, Session: 21, Account: 21, Symbol: symUSD, Side: Buy, Type: Market, TIF: IOC, Qty: qty}); evs[0].Reason != RejInsufficientFund {
		t.Fatalf("market buy checked below the band edge: %s", dump(evs))
	}
	// The same quantity as a limit at 66,000 fits, and fills at 60,000.
	evs := h.do(Command{Kind: CmdNewOrder, Session: 21, Account: 21, Symbol: symUSD, Side: Buy, Type: Limit, TIF: GTC, Px: usdPx(66_000), Qty: qty})
	if tr := find(evs, EvTrade); len(tr) != 1 || tr[0].Px != usdPx(60_000) || tr[0].Order.Status != StatusFilled {
		t.Fatalf("limit buy: %s", dump(evs))
	}
	if got := b.bal[usd].held; got != h.e.balKeys["wd:21"].amount {
		t.Fatalf("after the fill account 21 holds %d, want only its withdrawal", got)
	}
}
