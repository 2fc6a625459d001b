package refmodel

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"venue/matching"
)

// Check verifies the model's invariants from scratch: it recomputes every
// hold and every sum rather than trusting the running figures.
func (m *Model) Check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	// Orders.
	prios := make(map[uint64]matching.OrderID)
	for _, a := range m.accounts {
		a.checkHeld = [matching.MaxAssets]int64{}
	}
	for i, o := range m.live {
		v := &o.v
		if i > 0 && m.live[i-1].v.ID >= v.ID {
			fail("live orders out of OrderID order at %d", v.ID)
		}
		if v.ID == 0 || v.ID >= m.nextOrderID {
			fail("order %d: ID outside [1, %d)", v.ID, m.nextOrderID)
		}
		s, a := o.sym, o.acct
		if s.spec.ID != v.Symbol || a.spec.ID != v.Account || v.Account == matching.ExternalAccount || v.Account == matching.FeeAccount {
			fail("order %d: symbol %d or account %d wrong or reserved", v.ID, v.Symbol, v.Account)
			continue
		}
		if v.Leaves != v.Qty-v.Cum || v.Leaves <= 0 || v.Cum < 0 {
			fail("order %d: Qty %d Cum %d Leaves %d", v.ID, v.Qty, v.Cum, v.Leaves)
		}
		wantStatus := matching.StatusNew
		if v.Cum > 0 {
			wantStatus = matching.StatusPartiallyFilled
		}
		if v.Status != wantStatus {
			fail("order %d: live with status %q, Cum %d", v.ID, v.Status, v.Cum)
		}
		if o.resting == o.untriggeredStop() {
			fail("order %d: resting %v but untriggered stop %v", v.ID, o.resting, o.untriggeredStop())
		}
		if o.resting {
			if v.Type == matching.Market || v.Type == matching.Stop || v.TIF == matching.IOC || v.TIF == matching.FOK {
				fail("order %d: type %d TIF %d rests", v.ID, v.Type, v.TIF)
			}
			if other, dup := prios[o.prio]; dup {
				fail("orders %d and %d share time priority %d", other, v.ID, o.prio)
			}
			prios[o.prio] = v.ID
			if o.prio >= m.nextPrio {
				fail("order %d: priority %d from the future", v.ID, o.prio)
			}
		}
		if (v.Type == matching.Market || v.Type == matching.Stop) && v.Px != 0 {
			fail("order %d: market or stop with Px %d", v.ID, v.Px)
		}
		if v.TIF != matching.GTD && v.ExpireTime != 0 {
			fail("order %d: ExpireTime %d without GTD", v.ID, v.ExpireTime)
		}
		if !validSTPMode(v.STP) {
			fail("order %d: STP %d", v.ID, v.STP)
		}
		need := v.Leaves
		if v.Side == matching.Buy {
			n, ok := needAt(o.holdPx, v.Leaves, o.holdPpm())
			if !ok {
				fail("order %d: need overflows", v.ID)
			}
			need = n
		}
		if need != o.need {
			fail("order %d: holds %d, needs %d", v.ID, o.need, need)
		}
		asset := s.spec.Base
		if v.Side == matching.Buy {
			asset = s.spec.Quote
		}
		a.checkHeld[asset] += need
	}

	// Books: never crossed; each level's orders are in strict time priority
	// (bookSide sorts by it, prios are unique, so this is FIFO).
	for _, id := range slices.Sorted(maps.Keys(m.symbols)) {
		bids := m.bookSide(id, matching.Buy)
		asks := m.bookSide(id, matching.Sell)
		if len(bids) > 0 && len(asks) > 0 && bids[0].v.Px >= asks[0].v.Px {
			fail("symbol %d: crossed, bid %d >= ask %d", id, bids[0].v.Px, asks[0].v.Px)
		}
		for _, side := range [][]*order{bids, asks} {
			for i := 1; i < len(side); i++ {
				if side[i-1].v.Px == side[i].v.Px && side[i-1].prio >= side[i].prio {
					fail("symbol %d: level %d out of FIFO order", id, side[i].v.Px)
				}
			}
		}
	}

	// Withdrawal holds.
	for key, k := range m.holds {
		if !k.hold || k.state != holdOpen {
			fail("hold %q: listed open but is %+v", key, *k)
			continue
		}
		a := m.accounts[k.account]
		if a == nil {
			fail("hold %q: unknown account %d", key, k.account)
			continue
		}
		a.checkHeld[k.asset] += k.amount
	}

	// Balances. Every asset's sum starts at External's (minus what the
	// venue owes) and adds the clients' non-negative totals, so while the
	// books balance no partial sum can overflow.
	ext := m.accounts[matching.ExternalAccount]
	sums := ext.total
	for id, a := range m.accounts {
		for asset := range matching.AssetID(matching.MaxAssets) {
			if a.held[asset] != a.checkHeld[asset] {
				fail("account %d asset %d: Held %d, orders and withdrawals need %d", id, asset, a.held[asset], a.checkHeld[asset])
			}
			if id == matching.ExternalAccount {
				if a.held[asset] != 0 {
					fail("account %d asset %d: Held %d", id, asset, a.held[asset])
				}
				continue
			}
			if a.total[asset] < 0 {
				fail("account %d asset %d: Total %d < 0", id, asset, a.total[asset])
			}
			if a.held[asset] < 0 || a.held[asset] > a.total[asset] {
				fail("account %d asset %d: Held %d outside [0, Total %d]", id, asset, a.held[asset], a.total[asset])
			}
			sum, ok := add(sums[asset], a.total[asset])
			if !ok {
				fail("asset %d: balances overflow when summed", asset)
			}
			sums[asset] = sum
		}
	}
	for asset, sum := range sums {
		if sum != 0 {
			fail("asset %d: balances sum to %d, not 0", asset, sum)
		}
	}

	return errors.Join(errs...)
}
