package matching

import (
	"fmt"
	"runtime"
	"testing"
)

// The shape of the resting book BenchmarkRestingOrderMemory builds: the
// accounts and levels of benchmix's flow.
const (
	memAccounts = 1000
	memLevels   = 1000
)

// BenchmarkRestingOrderMemory rests 1,000,000 orders and reports the heap
// they take, per order and in total: the order structs, the book, the
// order and ClOrdID indexes and the ClOrdID strings themselves (made
// inside the measured window, as a gateway's decoder would hand them
// over).
func BenchmarkRestingOrderMemory(b *testing.B) {
	for range b.N {
		e := New()
		var seq uint64
		ap := func(c Command) { seq++; c.Seq = seq; e.Apply(&c) }
		ap(Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{ID: 1, Name: "BTC-USD", Base: 0, Quote: 1, TickSize: 1, QtyStep: 1,
			MinQty: 1, MaxQty: 1e11, MaxNotional: 4e18, RefPx: 6_000_000, BandBps: 2000, Status: StatusOpen}})
		for i := range memAccounts {
			id := AccountID(10 + i)
			ap(Command{Kind: CmdAddAccount, AccountSpec: &AccountSpec{ID: id, Firm: 1, STP: STPCancelResting}})
			ap(Command{Kind: CmdDeposit, Account: id, Asset: 0, Amount: 1e15, Key: fmt.Sprintf("b%d", id)})
			ap(Command{Kind: CmdDeposit, Account: id, Asset: 1, Amount: 5e15, Key: fmt.Sprintf("q%d", id)})
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range 1_000_000 {
			sd := Side(1 + i%2)
			px := int64(6_000_000 - 1 - i%memLevels)
			if sd == Sell {
				px = 6_000_000 + 1 + int64(i%memLevels)
			}
			acct := AccountID(10 + i%memAccounts)
			ap(Command{Kind: CmdNewOrder, Session: SessionID(acct), Account: acct, Symbol: 1, Side: sd, Type: Limit, TIF: GTC,
				Px: px, Qty: 10_000, ClOrdID: fmt.Sprintf("C%09d", i)})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/1e6, "bytes/order")
		b.ReportMetric(heap/(1<<20), "MiB/1M-orders")
		if e.orders.len() != 1_000_000 {
			b.Fatalf("%d orders rest, want 1000000", e.orders.len())
		}
	}
}
