package matching

import (
	"fmt"
	"math/big"
)

// CheckInvariants verifies everything that must hold between commands:
// books sorted and not crossed, FIFO within a level, level totals, order
// arithmetic, holds equal to what open orders and withdrawals need,
// balances conserved per asset and never negative. It is O(state): tests
// call it after every command, the venue after recovery.
func (e *Engine) CheckInvariants() error {
	live := make(map[OrderID]bool, e.orders.len())
	var held [][MaxAssets]int64 = make([][MaxAssets]int64, len(e.accounts))
	liveCount := make([]int32, len(e.accounts))
	checkOrder := func(s *symbol, o *order) error {
		if live[o.v.ID] {
			return fmt.Errorf("order %d appears twice", o.v.ID)
		}
		live[o.v.ID] = true
		if e.orders.get(o.v.ID) != o {
			return fmt.Errorf("order %d in book or stops but not in the order map", o.v.ID)
		}
		if o.v.Symbol != s.spec.ID {
			return fmt.Errorf("order %d of symbol %d in book %d", o.v.ID, o.v.Symbol, s.spec.ID)
		}
		if o.v.Leaves <= 0 || o.v.Leaves != o.v.Qty-o.v.Cum || o.v.Cum < 0 {
			return fmt.Errorf("order %d: qty %d cum %d leaves %d", o.v.ID, o.v.Qty, o.v.Cum, o.v.Leaves)
		}
		want := StatusNew
		if o.v.Cum > 0 {
			want = StatusPartiallyFilled
		}
		if o.v.Status != want {
			return fmt.Errorf("order %d: status %c with cum %d", o.v.ID, o.v.Status, o.v.Cum)
		}
		if n := o.needFor(o.v.Leaves); n != o.need {
			return fmt.Errorf("order %d: holds %d, needs %d", o.v.ID, o.need, n)
		}
		held[o.v.Account][e.holdAsset(s, o)] += o.need
		liveCount[o.v.Account]++
		return nil
	}
	for _, s := range e.symList {
		for _, sd := range []Side{Buy, Sell} {
			levels, pxs := *s.side(sd), *s.prices(sd)
			if len(pxs) != len(levels) {
				return fmt.Errorf("symbol %d side %d: %d prices for %d levels", s.spec.ID, sd, len(pxs), len(levels))
			}
			for i, l := range levels {
				if pxs[i] != l.px {
					return fmt.Errorf("symbol %d side %d: price %d at index %d for level %d", s.spec.ID, sd, pxs[i], i, l.px)
				}
				if i > 0 && !better(sd, l.px, levels[i-1].px) {
					return fmt.Errorf("symbol %d side %d: levels out of order at %d", s.spec.ID, sd, l.px)
				}
				if l.head == nil {
					return fmt.Errorf("symbol %d: empty level %d in book", s.spec.ID, l.px)
				}
				var qty int64
				var prio uint64
				var prev *order
				for o := l.head; o != nil; o = o.next {
					if o.level != l || o.prev != prev || o.v.Side != sd || o.stopping {
						return fmt.Errorf("order %d: bad links on level %d", o.v.ID, l.px)
					}
					if o.v.Px != l.px || o.limit != l.px {
						return fmt.Errorf("order %d: price %d on level %d", o.v.ID, o.v.Px, l.px)
					}
					if o.prio <= prio {
						return fmt.Errorf("order %d: not FIFO on level %d", o.v.ID, l.px)
					}
					prio = o.prio
					if err := checkOrder(s, o); err != nil {
						return err
					}
					qty += o.v.Leaves
					prev = o
				}
				if l.tail != prev || qty != l.qty {
					return fmt.Errorf("symbol %d level %d: qty %d, orders sum %d", s.spec.ID, l.px, l.qty, qty)
				}
			}
		}
		if b, a := best(s.bids), best(s.asks); b != nil && a != nil && b.px >= a.px {
			return fmt.Errorf("symbol %d: book crossed: bid %d ask %d", s.spec.ID, b.px, a.px)
		}
		for _, stops := range [][]*order{s.buyStops, s.sellStops} {
			for i, o := range stops {
				if !o.stopping || o.level != nil {
					return fmt.Errorf("stop %d: not a waiting stop", o.v.ID)
				}
				if i > 0 && !stopBefore(stops[i-1], o) {
					return fmt.Errorf("stop %d: out of trigger order", o.v.ID)
				}
				if err := checkOrder(s, o); err != nil {
					return err
				}
			}
		}
	}
	if len(live) != e.orders.len() {
		return fmt.Errorf("%d orders in the map, %d in books and stops", e.orders.len(), len(live))
	}
	for _, k := range e.balKeys {
		if k.kind == balHold && k.state == holdOpen {
			held[k.account][k.asset] += k.amount
		}
	}
	var sum [MaxAssets]big.Int
	for id, a := range e.accounts {
		if a == nil {
			continue
		}
		if a.live != liveCount[id] {
			return fmt.Errorf("account %d: live count %d, counted %d", id, a.live, liveCount[id])
		}
		for as := range MaxAssets {
			b := a.bal[as]
			if b.held != held[id][as] {
				return fmt.Errorf("account %d asset %d: held %d, orders and withdrawals need %d", id, as, b.held, held[id][as])
			}
			if id != int(ExternalAccount) && (b.total < 0 || b.held < 0 || b.held > b.total) {
				return fmt.Errorf("account %d asset %d: total %d held %d", id, as, b.total, b.held)
			}
			sum[as].Add(&sum[as], big.NewInt(b.total))
		}
	}
	for as := range MaxAssets {
		if sum[as].Sign() != 0 {
			return fmt.Errorf("asset %d: balances sum to %s, not 0", as, sum[as].String())
		}
		if e.supply[as] != -e.accounts[ExternalAccount].bal[as].total {
			return fmt.Errorf("asset %d: supply %d, external %d", as, e.supply[as], e.accounts[ExternalAccount].bal[as].total)
		}
	}
	return nil
}
