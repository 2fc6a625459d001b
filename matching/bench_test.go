package matching

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchMix is the realistic order flow of issue 3: about 50 % new limit
// orders near the touch, 35 % cancels, 10 % replaces, 5 % market and IOC,
// over 1,000 accounts and about 1,000 price levels per side, with ClOrdIDs
// as a FIX gateway sends them and a trading-day roll every 250,000
// commands. The stream is generated once by driving an engine (so cancels
// and replaces name live orders), then replayed into fresh engines: the
// timed loop does nothing but Apply.
type benchMix struct {
	setup []Command
	flow  []Command
}

const (
	benchAccounts = 1000
	benchLevels   = 1000
	benchLive     = 20_000 // resting orders the flow hovers around
)

var benchMixCache = map[int]*benchMix{}

func makeBenchMix(n int) *benchMix {
	if m := benchMixCache[n]; m != nil {
		return m
	}
	r := rand.New(rand.NewPCG(1, 2))
	m := &benchMix{}
	m.setup = append(m.setup,
		Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{ID: 1, Name: "BTC-USD", Base: 0, Quote: 1, TickSize: 1, QtyStep: 1,
			MinQty: 10_000, MaxQty: 1e11, MaxNotional: 4e18, RefPx: 6_000_000, BandBps: 2000, Status: StatusOpen}},
		Command{Kind: CmdSetFeeTier, FeeTier: 0, MakerPpm: 100, TakerPpm: 250},
	)
	for i := range benchAccounts {
		id := AccountID(10 + i)
		m.setup = append(m.setup,
			Command{Kind: CmdAddAccount, AccountSpec: &AccountSpec{ID: id, Firm: FirmID(1 + i%50), STP: STPCancelResting}},
			Command{Kind: CmdDeposit, Account: id, Asset: 0, Amount: 1e15, Key: fmt.Sprintf("b%d", id)},
			Command{Kind: CmdDeposit, Account: id, Asset: 1, Amount: 5e15, Key: fmt.Sprintf("q%d", id)},
		)
	}
	e := New()
	var seq uint64
	now := int64(1_700_000_000_000_000_000)
	apply := func(c *Command) []Event {
		seq++
		now += 1000
		c.Seq, c.Time = seq, now
		return e.Apply(c)
	}
	for i := range m.setup {
		apply(&m.setup[i])
	}
	type liveOrder struct {
		id      OrderID
		session SessionID
		clOrdID string
		side    Side
		px, qty int64
	}
	live := []liveOrder{}
	pos := map[OrderID]int{}
	drop := func(id OrderID) {
		i, ok := pos[id]
		if !ok {
			return
		}
		last := live[len(live)-1]
		live[i] = last
		pos[last.id] = i
		live = live[:len(live)-1]
		delete(pos, id)
	}
	mid := int64(6_000_000)
	clID := 0
	nextClOrdID := func() string { clID++; return fmt.Sprintf("C%09d", clID) }
	for len(m.flow) < n {
		if len(m.flow)%250_000 == 249_999 {
			c := Command{Kind: CmdNewDay}
			apply(&c)
			m.flow = append(m.flow, c)
			continue
		}
		acct := AccountID(10 + r.IntN(benchAccounts))
		sess := SessionID(acct)
		var c Command
		x := r.IntN(100)
		if len(live) > benchLive && x < 50 {
			x = 50 // convert an add into a cancel to hold the book steady
		}
		switch {
		case x < 50 || len(live) < 100: // new limit near the touch
			sd := Side(1 + r.IntN(2))
			off := int64(r.IntN(benchLevels))
			if r.IntN(10) == 0 {
				off = -int64(r.IntN(5)) // marketable
			}
			px := mid - 1 - off
			if sd == Sell {
				px = mid + 1 + off
			}
			c = Command{Kind: CmdNewOrder, Session: sess, Account: acct, Symbol: 1, Side: sd, Type: Limit, TIF: GTC,
				Px: px, Qty: int64(1+r.IntN(100)) * 10_000, ClOrdID: nextClOrdID()}
		case x < 85: // cancel
			o := live[r.IntN(len(live))]
			c = Command{Kind: CmdCancel, Session: o.session, Account: AccountID(o.session), OrderID: o.id, ClOrdID: nextClOrdID()}
		case x < 95: // replace: mostly a size change, sometimes a price move
			o := live[r.IntN(len(live))]
			px, qty := o.px, o.qty
			if r.IntN(3) == 0 {
				if o.side == Buy {
					px -= int64(1 + r.IntN(5))
				} else {
					px += int64(1 + r.IntN(5))
				}
			} else {
				qty = int64(1+r.IntN(100)) * 10_000
			}
			c = Command{Kind: CmdReplace, Session: o.session, Account: AccountID(o.session), OrderID: o.id, ClOrdID: nextClOrdID(),
				Symbol: 1, Side: o.side, Type: Limit, TIF: GTC, Px: px, Qty: qty}
		default: // market or IOC
			sd := Side(1 + r.IntN(2))
			c = Command{Kind: CmdNewOrder, Session: sess, Account: acct, Symbol: 1, Side: sd, Type: Market, TIF: IOC,
				Qty: int64(1+r.IntN(50)) * 10_000, ClOrdID: nextClOrdID()}
			if r.IntN(2) == 0 {
				c.Type = Limit
				c.Px = mid + 3
				if sd == Sell {
					c.Px = mid - 3
				}
			}
		}
		evs := apply(&c)
		m.flow = append(m.flow, c)
		for _, ev := range evs {
			switch ev.Kind {
			case EvAccepted:
				if ev.Order.Type == Limit && ev.Order.TIF == GTC {
					pos[ev.Order.ID] = len(live)
					live = append(live, liveOrder{ev.Order.ID, ev.Order.Session, ev.Order.ClOrdID, ev.Order.Side, ev.Order.Px, ev.Order.Qty})
				}
			case EvReplaced:
				if i, ok := pos[ev.Order.ID]; ok {
					live[i].px, live[i].qty, live[i].clOrdID = ev.Order.Px, ev.Order.Qty, ev.Order.ClOrdID
				}
				if ev.Order.Leaves == 0 {
					drop(ev.Order.ID)
				}
			case EvTrade:
				if ev.Maker.Leaves == 0 {
					drop(ev.Maker.ID)
				}
				if ev.Order.Leaves == 0 {
					drop(ev.Order.ID)
				}
				mid = ev.Px
			case EvCanceled, EvExpired:
				drop(ev.Order.ID)
			}
		}
	}
	benchMixCache[n] = m
	return m
}

func (m *benchMix) fresh() *Engine {
	e := New()
	for i := range m.setup {
		e.Apply(&m.setup[i])
	}
	return e
}

// BenchmarkEngineMix reports engine throughput on the realistic mix, one
// core, after a warm-up pass so the book and the free lists are in steady
// state.
func BenchmarkEngineMix(b *testing.B) { benchEngineMix(b, makeBenchMix(1_000_000)) }

// BenchmarkEngineMixNoClOrdID is the same flow without ClOrdIDs: orders are
// named by OrderID only, as exchange-core's benchmark does. The difference
// to BenchmarkEngineMix is the cost of the day's ClOrdID index.
func BenchmarkEngineMixNoClOrdID(b *testing.B) {
	src := makeBenchMix(1_000_000)
	m := &benchMix{setup: src.setup, flow: slices.Clone(src.flow)}
	for i := range m.flow {
		m.flow[i].ClOrdID = ""
	}
	benchEngineMix(b, m)
}

func benchEngineMix(b *testing.B, m *benchMix) {
	e := m.fresh()
	for i := range m.flow { // warm-up: the book fills to its steady size
		e.Apply(&m.flow[i])
	}
	// Replaying the same flow again on the warm engine would reject most
	// of it (duplicate ids); so time full fresh passes, warming each
	// untimed over the first half and timing the second half.
	half := len(m.flow) / 2
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for done < b.N {
		b.StopTimer()
		e = m.fresh()
		for i := range m.flow[:half] {
			e.Apply(&m.flow[i])
		}
		runtime.GC()
		b.StartTimer()
		for i := half; i < len(m.flow) && done < b.N; i++ {
			e.Apply(&m.flow[i])
			done++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkEngineLatency times every Apply of the second half of the mix
// and reports p50/p99/p99.9 in nanoseconds. The two clock reads per op
// add tens of nanoseconds: these are upper bounds.
func BenchmarkEngineLatency(b *testing.B) {
	m := makeBenchMix(1_000_000)
	half := len(m.flow) / 2
	lat := make([]int64, 0, len(m.flow)-half)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := m.fresh()
		for i := range m.flow[:half] {
			e.Apply(&m.flow[i])
		}
		lat = lat[:0]
		runtime.GC()
		b.StartTimer()
		for i := half; i < len(m.flow); i++ {
			t0 := time.Now()
			e.Apply(&m.flow[i])
			lat = append(lat, int64(time.Since(t0)))
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(q(0.999), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
}

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
		for i := range benchAccounts {
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
			px := int64(6_000_000 - 1 - i%benchLevels)
			if sd == Sell {
				px = 6_000_000 + 1 + int64(i%benchLevels)
			}
			acct := AccountID(10 + i%benchAccounts)
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
