package matching

import (
	"math"
	"math/bits"
)

const maxInt64 = math.MaxInt64

// order is a live order. v is exactly what events report.
//
// Its fields are laid out without padding (OrderView in 128 bytes, the
// whole in 208, a size class of its own): the engine is bound by memory
// latency, and every event copies v out of the order's cache lines.
type order struct {
	v        OrderView
	firm     FirmID
	stopping bool  // untriggered stop
	limit    int64 // working limit while it matches or rests
	holdPx   int64 // buys: the price the hold is computed at
	makerPpm int64
	takerPpm int64
	need     int64  // what it holds now, in the asset of holdAsset
	prio     uint64 // time priority on its level: smaller is earlier

	level      *level
	prev, next *order
}

// mul returns a×b for non-negative a and b, and false if it overflows.
func mul(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > maxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// fee is floor(n × ppm / 1e6) with a 128-bit intermediate; ppm <= 1e6.
func fee(n, ppm int64) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(ppm))
	q, _ := bits.Div64(hi, lo, 1_000_000)
	return int64(q)
}

// buyNeed is what a buy of qty at px holds: notional plus the most fee.
func buyNeed(px, qty, ppm int64) (int64, bool) {
	n, ok := mul(px, qty)
	if !ok {
		return 0, false
	}
	t := n + fee(n, ppm)
	if t < n {
		return 0, false
	}
	return t, true
}

func (o *order) holdPpm() int64 { return max(o.makerPpm, o.takerPpm) }

// needFor computes the hold of o at leaves; it cannot overflow once the
// order was accepted with larger or equal leaves at this hold price.
func (o *order) needFor(leaves int64) int64 {
	if o.v.Side == Sell {
		return leaves
	}
	n, _ := buyNeed(o.holdPx, leaves, o.holdPpm())
	return n
}

func (e *Engine) holdAsset(s *symbol, o *order) AssetID {
	if o.v.Side == Buy {
		return s.spec.Quote
	}
	return s.spec.Base
}

// rehold sets o's hold to what its current leaves need.
func (e *Engine) rehold(s *symbol, o *order) {
	n := o.needFor(o.v.Leaves)
	b := &e.accounts[o.v.Account].bal[e.holdAsset(s, o)]
	b.held += n - o.need
	o.need = n
}

func (e *Engine) allocOrder() *order {
	o := e.free
	if o != nil {
		e.free = o.next
		*o = order{}
		return o
	}
	return &order{}
}

func (e *Engine) freeOrder(o *order) {
	*o = order{}
	o.next = e.free
	e.free = o
}

// newOrder validates, accepts and works a NewOrderSingle.
func (e *Engine) newOrder(cmd *Command) {
	a := e.tradingAccount(cmd.Account, cmd.Firm)
	if a == nil {
		e.rejectNew(cmd, RejUnknownAccount)
		return
	}
	s := e.symbols[cmd.Symbol]
	if s == nil {
		e.rejectNew(cmd, RejUnknownSymbol)
		return
	}
	if r := checkCharacteristics(cmd); r != ReasonNone {
		e.rejectNew(cmd, r)
		return
	}
	var clAt clHint
	if cmd.ClOrdID != "" {
		var dup bool
		clAt, dup = e.clOrdIDs.lookup(clKey{cmd.Session, cmd.ClOrdID})
		if dup {
			e.rejectNew(cmd, RejDuplicateClOrdID)
			return
		}
	}
	if a.kill {
		e.rejectNew(cmd, RejKillSwitch)
		return
	}
	if s.status != StatusOpen {
		e.rejectNew(cmd, RejHalted)
		return
	}
	if r := checkQty(&s.spec, cmd.Qty); r != ReasonNone {
		e.rejectNew(cmd, r)
		return
	}
	if r := checkPrices(&s.spec, cmd.Type, cmd.Side, cmd.Px, cmd.StopPx); r != ReasonNone {
		e.rejectNew(cmd, r)
		return
	}
	if cmd.TIF == GTD && cmd.ExpireTime <= cmd.Time {
		e.rejectNew(cmd, RejExpireInPast)
		return
	}
	lower, upper := s.band()
	if cmd.Type == Limit || cmd.Type == StopLimit {
		if cmd.Px < lower || cmd.Px > upper {
			e.rejectNew(cmd, RejPriceBand)
			return
		}
	}
	if cmd.Type == Stop || cmd.Type == StopLimit {
		if stopReached(cmd.Side, cmd.StopPx, s.ref()) {
			e.rejectNew(cmd, RejStopWouldTrigger)
			return
		}
	}
	if cmd.PostOnly && wouldTake(s, cmd.Side, cmd.Px) {
		e.rejectNew(cmd, RejPostOnlyTake)
		return
	}
	// Risk: notional, funds, open orders.
	limit, holdPx := cmd.Px, cmd.Px
	if cmd.Type == Market || cmd.Type == Stop {
		holdPx = upper
		limit = upper
		if cmd.Side == Sell {
			limit = lower
		}
	}
	notionalPx := cmd.Px
	if cmd.Type == Market || cmd.Type == Stop {
		notionalPx = upper
	}
	if n, ok := mul(notionalPx, cmd.Qty); !ok || n > s.spec.MaxNotional {
		e.rejectNew(cmd, RejMaxNotional)
		return
	}
	tier := e.feeTiers[a.spec.FeeTier]
	var need int64
	if cmd.Side == Buy {
		n, ok := buyNeed(holdPx, cmd.Qty, max(tier.makerPpm, tier.takerPpm))
		if !ok {
			e.rejectNew(cmd, RejMaxNotional)
			return
		}
		b := a.bal[s.spec.Quote]
		if n > b.total-b.held {
			e.rejectNew(cmd, RejInsufficientFund)
			return
		}
		need = n
	} else {
		b := a.bal[s.spec.Base]
		if cmd.Qty > b.total-b.held {
			e.rejectNew(cmd, RejInsufficientFund)
			return
		}
		need = cmd.Qty
	}
	if a.spec.MaxOpenOrders > 0 && a.live >= a.spec.MaxOpenOrders {
		e.rejectNew(cmd, RejMaxOpenOrders)
		return
	}

	// Accept.
	o := e.allocOrder()
	o.v = OrderView{
		ID:       e.nextOrderID,
		ClOrdID:  cmd.ClOrdID,
		Session:  cmd.Session,
		Account:  cmd.Account,
		Symbol:   cmd.Symbol,
		Side:     cmd.Side,
		Type:     cmd.Type,
		TIF:      cmd.TIF,
		STP:      cmd.STP,
		PostOnly: cmd.PostOnly,
		Px:       cmd.Px,
		StopPx:   cmd.StopPx,
		Qty:      cmd.Qty,
		Leaves:   cmd.Qty,
		Status:   StatusNew,
	}
	if o.v.Type == Market || o.v.Type == Stop {
		o.v.Px = 0
	}
	if o.v.STP == STPDefault {
		o.v.STP = a.spec.STP
	}
	if o.v.TIF == GTD {
		o.v.ExpireTime = cmd.ExpireTime
		e.gtd.push(gtdEntry{at: cmd.ExpireTime, id: o.v.ID})
	}
	e.nextOrderID++
	o.firm = a.spec.Firm
	o.limit = limit
	o.holdPx = holdPx
	o.makerPpm, o.takerPpm = tier.makerPpm, tier.takerPpm
	o.need = need
	a.bal[e.holdAsset(s, o)].held += need
	a.live++
	e.orders.put(o)
	if cmd.ClOrdID != "" {
		e.clOrdIDs.insertAt(clAt, clKey{cmd.Session, cmd.ClOrdID}, o.v.ID)
	}
	ev := e.emit(EvAccepted)
	ev.Order = o.v

	if o.v.Type == Stop || o.v.Type == StopLimit {
		o.stopping = true
		s.addStop(o)
		return
	}
	traded := e.work(s, o)
	if traded {
		e.triggerStops(s)
	}
}

// work runs an order that has just become able to trade: the FOK walk,
// matching, then the remainder per its time in force. It reports whether
// anything traded.
func (e *Engine) work(s *symbol, o *order) bool {
	if o.v.TIF == FOK && !e.fokFeasible(s, o) {
		e.finish(s, o, EvCanceled, StatusCanceled, ReasonFOKUnfilled)
		return false
	}
	traded := e.match(s, o)
	if o.v.ID == 0 { // retired while matching (self-trade prevention)
		return traded
	}
	if o.v.Leaves == 0 {
		e.retire(s, o)
		return traded
	}
	if o.v.Type == Market || o.v.Type == Stop || o.v.TIF == IOC || o.v.TIF == FOK {
		e.finish(s, o, EvCanceled, StatusCanceled, ReasonIOCRemainder)
		return traded
	}
	e.rest(s, o)
	return traded
}

func checkCharacteristics(cmd *Command) Reason {
	if cmd.Side != Buy && cmd.Side != Sell {
		return RejUnsupported
	}
	if cmd.Type < Market || cmd.Type > StopLimit {
		return RejUnsupported
	}
	switch cmd.TIF {
	case Day, GTC, IOC, FOK, GTD:
	default:
		return RejUnsupported
	}
	switch cmd.STP {
	case STPDefault, STPCancelResting, STPCancelAggressor, STPCancelBoth, STPDecrement:
	default:
		return RejUnsupported
	}
	if cmd.PostOnly && (cmd.Type != Limit || cmd.TIF == IOC || cmd.TIF == FOK) {
		return RejUnsupported
	}
	return ReasonNone
}

// checkQty is NewOrder step 7.
func checkQty(sp *SymbolSpec, qty int64) Reason {
	if qty <= 0 || qty%sp.QtyStep != 0 || qty < sp.MinQty {
		return RejBadQty
	}
	if qty > sp.MaxQty {
		return RejMaxQty
	}
	return ReasonNone
}

// checkPrices is NewOrder step 8.
func checkPrices(sp *SymbolSpec, t OrdType, sd Side, px, stopPx int64) Reason {
	onTick := func(p int64) bool { return p > 0 && p%sp.TickSize == 0 }
	if (t == Limit || t == StopLimit) && !onTick(px) {
		return RejBadPrice
	}
	if (t == Stop || t == StopLimit) && !onTick(stopPx) {
		return RejBadPrice
	}
	if (t == Market || t == Stop) && px != 0 {
		return RejBadPrice
	}
	if (t == Market || t == Limit) && stopPx != 0 {
		return RejBadPrice
	}
	if t == StopLimit {
		if (sd == Buy && stopPx > px) || (sd == Sell && stopPx < px) {
			return RejBadStopPx
		}
	}
	return ReasonNone
}

func stopReached(sd Side, stopPx, last int64) bool {
	if sd == Buy {
		return stopPx <= last
	}
	return stopPx >= last
}

// wouldTake reports whether a limit at px would cross the opposite best.
func wouldTake(s *symbol, sd Side, px int64) bool {
	if b := best(*s.side(opposite(sd))); b != nil {
		return crosses(sd, b.px, px)
	}
	return false
}

func (e *Engine) rejectNew(cmd *Command, r Reason) {
	ev := e.emit(EvRejected)
	ev.Reason = r
	ev.Order = OrderView{
		ClOrdID:    cmd.ClOrdID,
		Session:    cmd.Session,
		Account:    cmd.Account,
		Symbol:     cmd.Symbol,
		Side:       cmd.Side,
		Type:       cmd.Type,
		TIF:        cmd.TIF,
		STP:        cmd.STP,
		PostOnly:   cmd.PostOnly,
		Px:         cmd.Px,
		StopPx:     cmd.StopPx,
		Qty:        cmd.Qty,
		ExpireTime: cmd.ExpireTime,
		Status:     StatusRejected,
	}
}

// isSelf reports whether aggressor a and maker m are the same owner for
// self-trade prevention.
func (e *Engine) isSelf(a, m *order) bool {
	if a.v.Account == m.v.Account {
		return true
	}
	return e.accounts[a.v.Account].spec.STPFirm && a.firm == m.firm
}

// fokFeasible is the fill-or-kill walk of SPEC.md.
func (e *Engine) fokFeasible(s *symbol, o *order) bool {
	levels := *s.side(opposite(o.v.Side))
	var sum int64
	for i := len(levels) - 1; i >= 0; i-- {
		l := levels[i]
		if !crosses(o.v.Side, l.px, o.limit) {
			return false
		}
		for m := l.head; m != nil; m = m.next {
			if e.isSelf(o, m) {
				if o.v.STP != STPCancelResting {
					return false
				}
				continue
			}
			sum += m.v.Leaves
			if sum >= o.v.Leaves {
				return true
			}
		}
	}
	return false
}

// match executes aggressor o against the opposite side. It returns whether
// anything traded. o may end inside (self-trade prevention): a retired
// order's struct is zeroed, so the caller checks o.v.ID == 0.
func (e *Engine) match(s *symbol, o *order) bool {
	traded := false
	// o's struct is zeroed if it ends here: keep what the loop needs.
	side, opp := o.v.Side, opposite(o.v.Side)
	levels := s.side(opp)
	for o.v.Leaves > 0 {
		l := best(*levels)
		if l == nil || !crosses(side, l.px, o.limit) {
			break
		}
		changed, stop := false, false
		e.matching = l
		for m := l.head; m != nil && o.v.Leaves > 0; {
			next := m.next
			if e.isSelf(o, m) {
				switch o.v.STP {
				case STPCancelResting:
					e.finish(s, m, EvCanceled, StatusCanceled, ReasonSelfTrade)
					changed = true
				case STPCancelAggressor:
					e.finish(s, o, EvCanceled, StatusCanceled, ReasonSelfTrade)
					stop = true
				case STPCancelBoth:
					e.finish(s, m, EvCanceled, StatusCanceled, ReasonSelfTrade)
					e.finish(s, o, EvCanceled, StatusCanceled, ReasonSelfTrade)
					changed, stop = true, true
				case STPDecrement:
					d := min(o.v.Leaves, m.v.Leaves)
					e.decrement(s, m, d)
					changed = true
					if !e.decrement(s, o, d) {
						stop = true
					}
				}
				if stop {
					break
				}
				m = next
				continue
			}
			e.trade(s, o, m, l)
			traded, changed = true, true
			m = next
		}
		e.matching = nil
		if changed {
			e.emitLevel(s, opp, l)
		}
		if stop {
			break
		}
	}
	return traded
}

// decrement reduces o by d for self-trade prevention, canceling it when
// nothing would be left. It reports whether o is still live.
func (e *Engine) decrement(s *symbol, o *order, d int64) bool {
	if o.v.Leaves == d {
		e.finish(s, o, EvCanceled, StatusCanceled, ReasonSelfTrade)
		return false
	}
	o.v.Qty -= d
	o.v.Leaves -= d
	if o.level != nil {
		o.level.qty -= d
	}
	e.rehold(s, o)
	ev := e.emit(EvRestated)
	ev.Reason = ReasonSelfTrade
	ev.Order = o.v
	return true
}

// trade fills aggressor o against maker m resting at level l.
func (e *Engine) trade(s *symbol, o, m *order, l *level) {
	q := min(o.v.Leaves, m.v.Leaves)
	px := l.px
	n := px * q // bounded by the accepted notional of the buy side
	makerFee := fee(n, m.makerPpm)
	takerFee := fee(n, o.takerPpm)

	fill := func(x *order, f int64) {
		x.v.Cum += q
		x.v.Leaves -= q
		x.v.Notional += n
		x.v.Fees += f
		if x.v.Leaves == 0 {
			x.v.Status = StatusFilled
		} else {
			x.v.Status = StatusPartiallyFilled
		}
	}
	fill(o, takerFee)
	fill(m, makerFee)
	l.qty -= q

	buy, sell := o, m
	buyFee, sellFee := takerFee, makerFee
	if o.v.Side == Sell {
		buy, sell = m, o
		buyFee, sellFee = makerFee, takerFee
	}
	ba, sa := e.accounts[buy.v.Account], e.accounts[sell.v.Account]
	base, quote := s.spec.Base, s.spec.Quote
	ba.bal[base].total += q
	sa.bal[base].total -= q
	ba.bal[quote].total -= n + buyFee
	sa.bal[quote].total += n - sellFee
	e.accounts[FeeAccount].bal[quote].total += makerFee + takerFee
	e.rehold(s, o)
	e.rehold(s, m)

	s.traded = true
	s.lastPx = px

	ev := e.emit(EvTrade)
	ev.Order = o.v
	ev.Maker = m.v
	ev.TradeID = e.nextTradeID
	e.nextTradeID++
	ev.Symbol = s.spec.ID
	ev.Px = px
	ev.Qty = q
	ev.MakerFee = makerFee
	ev.TakerFee = takerFee
	ev.Aggressor = o.v.Side
	ev.NPostings = 5
	ev.Postings = [MaxPostings]Posting{
		{buy.v.Account, base, q},
		{sell.v.Account, base, -q},
		{buy.v.Account, quote, -(n + buyFee)},
		{sell.v.Account, quote, n - sellFee},
		{FeeAccount, quote, makerFee + takerFee},
	}
	if m.v.Leaves == 0 {
		e.unlinkSilently(s, m)
		e.retire(s, m)
	}
}

// unlinkSilently takes a filled maker out of its level during matching:
// the level's emission happens when the aggressor leaves it.
func (e *Engine) unlinkSilently(s *symbol, m *order) {
	l := m.level
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		l.head = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		l.tail = m.prev
	}
	m.prev, m.next, m.level = nil, nil, nil
	l.qty -= m.v.Leaves
	if l.head == nil {
		e.dropLevel(s, m.v.Side, l)
	}
}

// retire forgets a done order: hold released, live count down, the struct
// back to the free list. It emits nothing.
func (e *Engine) retire(s *symbol, o *order) {
	a := e.accounts[o.v.Account]
	a.bal[e.holdAsset(s, o)].held -= o.need
	o.need = 0
	a.live--
	e.orders.del(o.v.ID)
	e.freeOrder(o)
}

// finish ends a live order other than by a fill: it leaves the book or
// the stop set, emits the event, then the level if it rested. Inside
// matching, makers are taken out silently and the level is emitted when
// the aggressor leaves it.
func (e *Engine) finish(s *symbol, o *order, kind EventKind, st OrdStatus, r Reason) {
	var l *level
	if o.level != nil {
		if e.inMatch(o) {
			e.unlinkSilently(s, o)
		} else {
			l = e.unlink(s, o)
		}
	} else if o.stopping {
		s.removeStop(o)
		o.stopping = false
	}
	o.v.Leaves = 0
	o.v.Status = st
	ev := e.emit(kind)
	ev.Reason = r
	ev.Order = o.v
	sd := o.v.Side
	e.retire(s, o)
	if l != nil {
		e.emitLevel(s, sd, l)
	}
}

// inMatch reports whether o rests on the level an aggressor is matching
// against right now; such makers are emitted with their level.
func (e *Engine) inMatch(o *order) bool { return e.matching != nil && o.level == e.matching }
