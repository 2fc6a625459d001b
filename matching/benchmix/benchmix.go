// Package benchmix generates the engine benchmark's order flow: the mix
// of issue 3, shared by matching's benchmarks and the paired A/B tool
// (internal/engineab) so both time exactly the same commands.
package benchmix

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"venue/matching"
)

// Mix is the realistic order flow of issue 3: about 50 % new limit
// orders near the touch, 35 % cancels, 10 % replaces, 5 % market and IOC,
// over 1,000 accounts and about 1,000 price levels per side, with ClOrdIDs
// as a FIX gateway sends them and a trading-day roll every 250,000
// commands. The stream is generated once by driving an engine (so cancels
// and replaces name live orders), then replayed into fresh engines: the
// timed loop does nothing but Apply.
type Mix struct {
	Setup []matching.Command // symbol, fee tier, accounts and their deposits
	Flow  []matching.Command // the orders, cancels and replaces
}

// The flow's shape.
const (
	Accounts = 1000   // accounts, in 50 firms
	Levels   = 1000   // price levels per side new orders spread over
	Live     = 20_000 // resting orders the flow hovers around
)

var (
	mu    sync.Mutex
	cache = map[int]*Mix{}
)

// Make returns the first n commands of the flow, generated once per n.
// Callers must not change them.
func Make(n int) *Mix {
	mu.Lock()
	defer mu.Unlock()
	if m := cache[n]; m != nil {
		return m
	}
	r := rand.New(rand.NewPCG(1, 2))
	m := &Mix{}
	m.Setup = append(m.Setup,
		matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &matching.SymbolSpec{ID: 1, Name: "BTC-USD", Base: 0, Quote: 1, TickSize: 1, QtyStep: 1,
			MinQty: 10_000, MaxQty: 1e11, MaxNotional: 4e18, RefPx: 6_000_000, BandBps: 2000, Status: matching.StatusOpen}},
		matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: 0, MakerPpm: 100, TakerPpm: 250},
	)
	for i := range Accounts {
		id := matching.AccountID(10 + i)
		m.Setup = append(m.Setup,
			matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &matching.AccountSpec{ID: id, Firm: matching.FirmID(1 + i%50), STP: matching.STPCancelResting}},
			matching.Command{Kind: matching.CmdDeposit, Account: id, Asset: 0, Amount: 1e15, Key: fmt.Sprintf("b%d", id)},
			matching.Command{Kind: matching.CmdDeposit, Account: id, Asset: 1, Amount: 5e15, Key: fmt.Sprintf("q%d", id)},
		)
	}
	e := matching.New()
	var seq uint64
	now := int64(1_700_000_000_000_000_000)
	apply := func(c *matching.Command) []matching.Event {
		seq++
		now += 1000
		c.Seq, c.Time = seq, now
		return e.Apply(c)
	}
	for i := range m.Setup {
		apply(&m.Setup[i])
	}
	type liveOrder struct {
		id      matching.OrderID
		session matching.SessionID
		clOrdID string
		side    matching.Side
		px, qty int64
	}
	live := []liveOrder{}
	pos := map[matching.OrderID]int{}
	drop := func(id matching.OrderID) {
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
	for len(m.Flow) < n {
		if len(m.Flow)%250_000 == 249_999 {
			c := matching.Command{Kind: matching.CmdNewDay}
			apply(&c)
			m.Flow = append(m.Flow, c)
			continue
		}
		acct := matching.AccountID(10 + r.IntN(Accounts))
		sess := matching.SessionID(acct)
		var c matching.Command
		x := r.IntN(100)
		if len(live) > Live && x < 50 {
			x = 50 // convert an add into a cancel to hold the book steady
		}
		switch {
		case x < 50 || len(live) < 100: // new limit near the touch
			sd := matching.Side(1 + r.IntN(2))
			off := int64(r.IntN(Levels))
			if r.IntN(10) == 0 {
				off = -int64(r.IntN(5)) // marketable
			}
			px := mid - 1 - off
			if sd == matching.Sell {
				px = mid + 1 + off
			}
			c = matching.Command{Kind: matching.CmdNewOrder, Session: sess, Account: acct, Symbol: 1, Side: sd, Type: matching.Limit, TIF: matching.GTC,
				Px: px, Qty: int64(1+r.IntN(100)) * 10_000, ClOrdID: nextClOrdID()}
		case x < 85: // cancel
			o := live[r.IntN(len(live))]
			c = matching.Command{Kind: matching.CmdCancel, Session: o.session, Account: matching.AccountID(o.session), OrderID: o.id, ClOrdID: nextClOrdID()}
		case x < 95: // replace: mostly a size change, sometimes a price move
			o := live[r.IntN(len(live))]
			px, qty := o.px, o.qty
			if r.IntN(3) == 0 {
				if o.side == matching.Buy {
					px -= int64(1 + r.IntN(5))
				} else {
					px += int64(1 + r.IntN(5))
				}
			} else {
				qty = int64(1+r.IntN(100)) * 10_000
			}
			c = matching.Command{Kind: matching.CmdReplace, Session: o.session, Account: matching.AccountID(o.session), OrderID: o.id, ClOrdID: nextClOrdID(),
				Symbol: 1, Side: o.side, Type: matching.Limit, TIF: matching.GTC, Px: px, Qty: qty}
		default: // market or matching.IOC
			sd := matching.Side(1 + r.IntN(2))
			c = matching.Command{Kind: matching.CmdNewOrder, Session: sess, Account: acct, Symbol: 1, Side: sd, Type: matching.Market, TIF: matching.IOC,
				Qty: int64(1+r.IntN(50)) * 10_000, ClOrdID: nextClOrdID()}
			if r.IntN(2) == 0 {
				c.Type = matching.Limit
				c.Px = mid + 3
				if sd == matching.Sell {
					c.Px = mid - 3
				}
			}
		}
		evs := apply(&c)
		m.Flow = append(m.Flow, c)
		for _, ev := range evs {
			switch ev.Kind {
			case matching.EvAccepted:
				if ev.Order.Type == matching.Limit && ev.Order.TIF == matching.GTC {
					pos[ev.Order.ID] = len(live)
					live = append(live, liveOrder{ev.Order.ID, ev.Order.Session, ev.Order.ClOrdID, ev.Order.Side, ev.Order.Px, ev.Order.Qty})
				}
			case matching.EvReplaced:
				if i, ok := pos[ev.Order.ID]; ok {
					live[i].px, live[i].qty, live[i].clOrdID = ev.Order.Px, ev.Order.Qty, ev.Order.ClOrdID
				}
				if ev.Order.Leaves == 0 {
					drop(ev.Order.ID)
				}
			case matching.EvTrade:
				if ev.Maker.Leaves == 0 {
					drop(ev.Maker.ID)
				}
				if ev.Order.Leaves == 0 {
					drop(ev.Order.ID)
				}
				mid = ev.Px
			case matching.EvCanceled, matching.EvExpired:
				drop(ev.Order.ID)
			}
		}
	}
	cache[n] = m
	return m
}

// Fresh returns an engine with the setup applied.
func (m *Mix) Fresh() *matching.Engine {
	e := matching.New()
	for i := range m.Setup {
		e.Apply(&m.Setup[i])
	}
	return e
}

// WithoutClOrdIDs is the same flow with no ClOrdID on any command:
// orders named by OrderID only, as exchange-core's benchmark does.
func (m *Mix) WithoutClOrdIDs() *Mix {
	out := &Mix{Setup: m.Setup, Flow: slices.Clone(m.Flow)}
	for i := range out.Flow {
		out.Flow[i].ClOrdID = ""
	}
	return out
}

// Warm applies the setup and the first half of the flow with apply, and
// returns the second half: the part to time. Replaying the flow on an
// engine that saw it already would reject most of it (duplicate ids), so
// each timed pass starts from a fresh engine warmed this way.
func (m *Mix) Warm(apply func(*matching.Command)) []matching.Command {
	for i := range m.Setup {
		apply(&m.Setup[i])
	}
	half := len(m.Flow) / 2
	for i := range m.Flow[:half] {
		apply(&m.Flow[i])
	}
	return m.Flow[half:]
}

// Replay applies cmds in order; with prefetch it announces each one's
// successor first, and with ahead also the one PrefetchClOrdIDAhead after
// (matching.PrefetchClOrdID), as the sequencer does across a batch.
func Replay(cmds []matching.Command, apply, prefetch, ahead func(*matching.Command)) {
	for i := range cmds {
		if prefetch != nil && i+1 < len(cmds) {
			if j := i + matching.PrefetchClOrdIDAhead; ahead != nil && j < len(cmds) {
				ahead(&cmds[j])
			}
			prefetch(&cmds[i+1])
		}
		apply(&cmds[i])
	}
}
