package matching

import "slices"

// triggerStops runs SPEC.md's stop triggering on s until no stop is reached.
func (e *Engine) triggerStops(s *symbol) {
	for s.traded {
		last := s.lastPx
		batch := e.scratch[:0]
		n := 0
		for n < len(s.buyStops) && s.buyStops[n].v.StopPx <= last {
			n++
		}
		batch = append(batch, s.buyStops[:n]...)
		s.buyStops = cutPrefix(s.buyStops, n)
		n = 0
		for n < len(s.sellStops) && s.sellStops[n].v.StopPx >= last {
			n++
		}
		batch = append(batch, s.sellStops[:n]...)
		s.sellStops = cutPrefix(s.sellStops, n)
		if len(batch) == 0 {
			e.scratch = batch
			return
		}
		slices.SortFunc(batch, func(a, b *order) int { return cmpID(a.v.ID, b.v.ID) })
		// The batch is ours until it is done: copy it out of scratch, which
		// the orders' own work does not use but a later round will.
		for _, o := range batch {
			o.stopping = false
		}
		todo := append([]*order(nil), batch...)
		e.scratch = batch[:0]
		for _, o := range todo {
			e.activate(s, o)
		}
	}
}

func cmpID(a, b OrderID) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func cutPrefix(a []*order, n int) []*order {
	if n == 0 {
		return a
	}
	m := copy(a, a[n:])
	clear(a[m:])
	return a[:m]
}

// activate turns a triggered stop into a working order.
func (e *Engine) activate(s *symbol, o *order) {
	lower, upper := s.band()
	if o.v.Type == Stop {
		if o.v.Side == Buy {
			n, ok := buyNeed(upper, o.v.Leaves, o.holdPpm())
			b := e.accounts[o.v.Account].bal[s.spec.Quote]
			if !ok || n > o.need+b.total-b.held {
				e.finish(s, o, EvCanceled, StatusCanceled, ReasonTriggerFunds)
				return
			}
			o.holdPx = upper
			o.limit = upper
			e.rehold(s, o)
		} else {
			o.limit = lower
		}
	} else if o.v.Px < lower || o.v.Px > upper {
		e.finish(s, o, EvCanceled, StatusCanceled, ReasonTriggerBand)
		return
	}
	o.v.Triggered = true
	ev := e.emit(EvTriggered)
	ev.Order = o.v
	e.work(s, o)
}

// expireGTD ends every GTD order whose time has come.
func (e *Engine) expireGTD(now int64) {
	for len(e.gtd) > 0 && e.gtd[0].at <= now {
		x := e.gtd.pop()
		o := e.orders.get(x.id)
		if o == nil {
			continue
		}
		e.finish(e.symbols[o.v.Symbol], o, EvExpired, StatusExpired, ReasonExpireGTD)
	}
}

// find resolves the order a cancel or replace names (SPEC.md, Cancel). It
// returns the live order, or the reason it cannot act and the order id
// when the order is known but done.
func (e *Engine) find(cmd *Command) (*order, OrderID, Reason) {
	if cmd.OrderID != 0 {
		if o := e.orders.get(cmd.OrderID); o != nil {
			if (cmd.OrigClOrdID == "" || cmd.OrigClOrdID == o.v.ClOrdID) && (cmd.Firm == 0 || o.firm == cmd.Firm) {
				return o, o.v.ID, ReasonNone
			}
			return nil, 0, CxlUnknownOrder
		}
		if cmd.OrigClOrdID != "" && cmd.OrderID < e.nextOrderID {
			if id, ok := e.clOrdIDs.get(clKey{cmd.Session, cmd.OrigClOrdID}); ok && id == cmd.OrderID {
				return nil, id, CxlTooLate
			}
		}
		return nil, 0, CxlUnknownOrder
	}
	id, ok := e.clOrdIDs.get(clKey{cmd.Session, cmd.OrigClOrdID})
	if !ok {
		return nil, 0, CxlUnknownOrder
	}
	o := e.orders.get(id)
	if o == nil {
		return nil, id, CxlTooLate
	}
	if cmd.Firm != 0 && o.firm != cmd.Firm {
		return nil, 0, CxlUnknownOrder
	}
	return o, id, ReasonNone
}

// rejectCxl emits EvCancelRejected. For a live order the view is its
// current state with the request's ClOrdID and the order's current ClOrdID
// as OrigClOrdID.
func (e *Engine) rejectCxl(cmd *Command, o *order, id OrderID, r Reason) {
	ev := e.emit(EvCancelRejected)
	ev.Reason = r
	if o != nil {
		ev.Order = o.v
		ev.Order.OrigClOrdID = o.v.ClOrdID
	} else {
		ev.Order.ID = id
		ev.Order.OrigClOrdID = cmd.OrigClOrdID
	}
	ev.Order.ClOrdID = cmd.ClOrdID
}

// renameFor records the request's ClOrdID and moves the order's ids on.
// The ClOrdID goes where dupClOrdID found its slot empty.
func (e *Engine) renameFor(cmd *Command, o *order) {
	o.v.OrigClOrdID = o.v.ClOrdID
	if cmd.ClOrdID != "" {
		k := clKey{cmd.Session, cmd.ClOrdID}
		if p := &e.clFree; p.valid && p.key == k {
			e.clOrdIDs.insertAt(p.hint, k, o.v.ID)
		} else {
			e.clOrdIDs.put(k, o.v.ID)
		}
		o.v.ClOrdID = cmd.ClOrdID
	}
	e.clFree.valid = false
}

// dupClOrdID reports whether the request's ClOrdID is already the day's;
// when it is not, it remembers the empty slot for renameFor, so a cancel
// or replace probes the index once.
func (e *Engine) dupClOrdID(cmd *Command) bool {
	e.clFree.valid = false
	if cmd.ClOrdID == "" {
		return false
	}
	k := clKey{cmd.Session, cmd.ClOrdID}
	hint, dup := e.clOrdIDs.lookup(k)
	if !dup {
		e.clFree = clFree{valid: true, key: k, hint: hint}
	}
	return dup
}

func (e *Engine) cancel(cmd *Command) {
	o, id, r := e.find(cmd)
	if r == ReasonNone && e.dupClOrdID(cmd) {
		r = CxlDuplicateClOrd
	}
	if r != ReasonNone {
		e.rejectCxl(cmd, o, id, r)
		return
	}
	e.renameFor(cmd, o)
	e.finish(e.symbols[o.v.Symbol], o, EvCanceled, StatusCanceled, ReasonClient)
}

func (e *Engine) replace(cmd *Command) {
	o, id, r := e.find(cmd)
	if r == ReasonNone {
		r = e.checkReplace(cmd, o)
	}
	if r != ReasonNone {
		e.rejectCxl(cmd, o, id, r)
		return
	}
	s := e.symbols[o.v.Symbol]
	e.renameFor(cmd, o)
	if cmd.Qty <= o.v.Cum {
		o.v.Qty = o.v.Cum
		e.finish(s, o, EvReplaced, StatusFilled, ReasonReplacedAway)
		return
	}
	resting := o.level != nil
	keep := resting && cmd.Px == o.v.Px && cmd.Qty <= o.v.Qty
	var old *level
	if resting && !keep {
		old = e.unlink(s, o)
	}
	leaves := cmd.Qty - o.v.Cum
	if keep {
		o.level.qty += leaves - o.v.Leaves
	}
	o.v.Qty = cmd.Qty
	o.v.Leaves = leaves
	if o.v.Type != Stop {
		o.v.Px = cmd.Px
		o.limit = cmd.Px
		o.holdPx = cmd.Px
	}
	if o.stopping {
		// The stop set is sorted by StopPx: take it out and put it back.
		s.removeStop(o)
		o.v.StopPx = cmd.StopPx
		s.addStop(o)
		if o.v.Type == Stop {
			_, upper := s.band()
			o.holdPx = upper
		}
	}
	e.rehold(s, o)
	ev := e.emit(EvReplaced)
	ev.Order = o.v
	switch {
	case o.stopping:
	case keep:
		e.emitLevel(s, o.v.Side, o.level)
	default:
		e.emitLevel(s, o.v.Side, old)
		if e.work(s, o) {
			e.triggerStops(s)
		}
	}
}

// checkReplace is Replace steps 3-10 of SPEC.md.
func (e *Engine) checkReplace(cmd *Command, o *order) Reason {
	if e.dupClOrdID(cmd) {
		return CxlDuplicateClOrd
	}
	if cmd.Side != o.v.Side || cmd.Symbol != o.v.Symbol || cmd.Type != o.v.Type || cmd.TIF != o.v.TIF {
		return CxlImmutable
	}
	s := e.symbols[o.v.Symbol]
	sp := &s.spec
	if s.status != StatusOpen {
		return RejHalted
	}
	if cmd.Qty <= 0 || cmd.Qty%sp.QtyStep != 0 {
		return RejBadQty
	}
	if cmd.Qty <= o.v.Cum {
		return ReasonNone
	}
	if r := checkQty(sp, cmd.Qty); r != ReasonNone {
		return r
	}
	stopPx := cmd.StopPx
	if o.v.Triggered {
		stopPx = o.v.StopPx
		if cmd.Px <= 0 || cmd.Px%sp.TickSize != 0 {
			return RejBadPrice
		}
	} else if r := checkPrices(sp, o.v.Type, o.v.Side, cmd.Px, stopPx); r != ReasonNone {
		return r
	}
	lower, upper := s.band()
	if o.v.Type != Stop && (cmd.Px < lower || cmd.Px > upper) {
		return RejPriceBand
	}
	if o.stopping && stopReached(o.v.Side, stopPx, s.ref()) {
		return RejStopWouldTrigger
	}
	if o.v.PostOnly && wouldTake(s, o.v.Side, cmd.Px) {
		return RejPostOnlyTake
	}
	p := cmd.Px
	if o.v.Type == Stop {
		p = upper
	}
	if n, ok := mul(p, cmd.Qty); !ok || n > sp.MaxNotional {
		return RejMaxNotional
	}
	leaves := cmd.Qty - o.v.Cum
	b := e.accounts[o.v.Account].bal[e.holdAsset(s, o)]
	need := leaves
	if o.v.Side == Buy {
		n, ok := buyNeed(p, leaves, o.holdPpm())
		if !ok {
			return RejMaxNotional
		}
		need = n
	}
	if need-o.need > b.total-b.held {
		return RejInsufficientFund
	}
	return ReasonNone
}

// liveOrders collects the live orders that keep returns true for, in
// ascending OrderID, into the engine's scratch buffer.
func (e *Engine) liveOrders(keep func(*order) bool) []*order {
	e.scratch = appendLive(e.scratch[:0], &e.orders, keep)
	return e.scratch
}

// appendLive appends to out the orders of x that keep returns true for,
// in ascending OrderID.
func appendLive(out []*order, x *orderIndex, keep func(*order) bool) []*order {
	start := len(out)
	x.each(func(o *order) {
		if keep(o) {
			out = append(out, o)
		}
	})
	slices.SortFunc(out[start:], func(a, b *order) int { return cmpID(a.v.ID, b.v.ID) })
	return out
}

// endAll ends each order with the same event and reason.
func (e *Engine) endAll(orders []*order, kind EventKind, st OrdStatus, r Reason) int64 {
	for _, o := range orders {
		e.finish(e.symbols[o.v.Symbol], o, kind, st, r)
	}
	e.scratch = orders[:0]
	return int64(len(orders))
}

func (e *Engine) massCancel(cmd *Command) {
	r := cmd.Reason
	if r == ReasonNone {
		r = ReasonMassCancel
	}
	if cmd.Account != 0 && e.tradingAccount(cmd.Account, cmd.Firm) == nil {
		ev := e.emit(EvMassCanceled)
		ev.Reason = RejUnknownAccount
		return
	}
	orders := e.liveOrders(func(o *order) bool {
		return (cmd.Firm == 0 || o.firm == cmd.Firm) &&
			(cmd.Account == 0 || o.v.Account == cmd.Account) &&
			(cmd.Symbol == 0 || o.v.Symbol == cmd.Symbol) &&
			(cmd.Side == 0 || o.v.Side == cmd.Side) &&
			(!cmd.OnlySession || o.v.Session == cmd.Session)
	})
	n := e.endAll(orders, EvCanceled, StatusCanceled, r)
	ev := e.emit(EvMassCanceled)
	ev.Count = n
	ev.Reason = r
}

func (e *Engine) sessionClose(cmd *Command) {
	if e.symbols[cmd.Symbol] == nil {
		ev := e.emit(EvRefData)
		ev.Reason = RejUnknownSymbol
		ev.Symbol = cmd.Symbol
		return
	}
	orders := e.liveOrders(func(o *order) bool { return o.v.Symbol == cmd.Symbol && o.v.TIF == Day })
	e.endAll(orders, EvExpired, StatusExpired, ReasonExpireDay)
}

func (e *Engine) setStatus(cmd *Command) {
	s := e.symbols[cmd.Symbol]
	if s == nil || cmd.Status < StatusOpen || cmd.Status > StatusClosed {
		ev := e.emit(EvRefData)
		ev.Reason = RefInvalid
		if s == nil {
			ev.Reason = RejUnknownSymbol
		}
		ev.Symbol = cmd.Symbol
		return
	}
	s.status = cmd.Status
	ev := e.emit(EvSymbolStatus)
	ev.Symbol = cmd.Symbol
	ev.Status = cmd.Status
	ev.Flag = cmd.Flag
	if cmd.Flag {
		orders := e.liveOrders(func(o *order) bool { return o.v.Symbol == cmd.Symbol })
		e.endAll(orders, EvCanceled, StatusCanceled, ReasonHalt)
	}
}

func (e *Engine) killSwitch(cmd *Command) {
	a := e.tradingAccount(cmd.Account, cmd.Firm)
	ev := e.emit(EvKillSwitch)
	ev.Account = cmd.Account
	ev.Flag = cmd.Flag
	if a == nil {
		ev.Reason = RejUnknownAccount
		return
	}
	a.kill = cmd.Flag
	if cmd.Flag {
		orders := e.liveOrders(func(o *order) bool { return o.v.Account == cmd.Account })
		e.endAll(orders, EvCanceled, StatusCanceled, ReasonKillSwitch)
	}
}
