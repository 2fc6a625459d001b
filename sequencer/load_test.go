package sequencer

import (
	"fmt"

	"venue/matching"
)

// load generates a deterministic command stream: command i (1-based)
// depends only on the seed and i, so a process that recovers at seq L can
// go on with command L+1 and a checker can tell what seq L must hold.
// First reference data and deposits, then limit orders around 60,000 USD
// on BTC-USD (some crossing, so trades happen) and cancels of recent
// orders by ClOrdID.
type load struct {
	seed     uint64
	accounts int
}

const (
	loadSymbol = matching.SymbolID(1)
	loadBTC    = matching.AssetID(0)
	loadUSD    = matching.AssetID(1)
	loadRefPx  = 6_000_000 // 60,000.00 USD in cents
	loadFirst  = matching.AccountID(10)
)

// setupLen is how many commands set the venue up before trading starts.
func (l load) setupLen() uint64 { return 2 + 3*uint64(l.accounts) }

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (l load) rand(i, k uint64) uint64 { return splitmix(l.seed ^ splitmix(i*8+k)) }

func (l load) command(i uint64) matching.Command {
	switch {
	case i == 1:
		return matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &matching.SymbolSpec{
			ID: loadSymbol, Name: "BTC-USD", Base: loadBTC, Quote: loadUSD, TickSize: 1, QtyStep: 1,
			MinQty: 10_000, MaxQty: 100_000_000_000, MaxNotional: 1_000_000_000_000_000_000,
			RefPx: loadRefPx, BandBps: 2000, Status: matching.StatusOpen}}
	case i == 2:
		return matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: 0, MakerPpm: 100, TakerPpm: 250}
	case i <= l.setupLen():
		k := i - 3
		acct := loadFirst + matching.AccountID(k/3)
		switch k % 3 {
		case 0:
			return matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &matching.AccountSpec{
				ID: acct, Firm: matching.FirmID(1 + k/3%4), STP: matching.STPCancelResting}}
		case 1:
			return matching.Command{Kind: matching.CmdDeposit, Account: acct, Asset: loadBTC,
				Amount: 1_000 * 100_000_000, Key: fmt.Sprintf("deposit:btc:%d", acct)}
		default:
			// As much USD as the asset's supply limit (int64) leaves
			// room for, shared by the accounts.
			return matching.Command{Kind: matching.CmdDeposit, Account: acct, Asset: loadUSD,
				Amount: 8_000_000_000_000_000_000 / int64(l.accounts), Key: fmt.Sprintf("deposit:usd:%d", acct)}
		}
	}
	r := l.rand(i, 0)
	acct := loadFirst + matching.AccountID(l.rand(i, 1)%uint64(l.accounts))
	if r%100 < 25 && i > l.setupLen()+10 {
		// Cancel one of the last 200 orders of this account's session,
		// found by the ClOrdID the generator gave it.
		j := i - 1 - l.rand(i, 2)%min(200, i-l.setupLen()-1)
		old := l.command(j)
		if old.Kind == matching.CmdNewOrder {
			return matching.Command{Kind: matching.CmdCancel, Session: matching.SessionID(old.Account),
				Account: old.Account, ClOrdID: fmt.Sprintf("x%d", i), OrigClOrdID: old.ClOrdID}
		}
	}
	side := matching.Buy
	px := int64(loadRefPx - 2_000 + int64(l.rand(i, 3)%2_500))
	if r&1 == 1 {
		side = matching.Sell
		px = loadRefPx - 500 + int64(l.rand(i, 3)%2_500)
	}
	return matching.Command{Kind: matching.CmdNewOrder, Session: matching.SessionID(acct), Account: acct,
		Symbol: loadSymbol, Side: side, Type: matching.Limit, TIF: matching.GTC, Px: px,
		Qty: 10_000 + int64(l.rand(i, 4)%100)*10_000, ClOrdID: fmt.Sprintf("o%d", i)}
}
