// Package refmodel is the slow, obviously right matching engine that the
// differential test holds matching.Engine against. It keeps every live order
// in one plain slice, finds the book's best level by scanning it, and does
// all price × quantity arithmetic with a 128-bit intermediate. Nothing here is
// meant to be fast; everything here is meant to be read next to SPEC.md.
//
// Where SPEC.md leaves a choice open, the choice is marked with a comment
// starting "SPEC:".
package refmodel

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"

	"venue/matching"
)

// Model is the whole trading state of the reference engine.
type Model struct {
	symbols  map[matching.SymbolID]*symbol
	accounts map[matching.AccountID]*account
	tiers    [matching.MaxFeeTiers]tier
	live     []*order // every live order, ascending OrderID
	index    map[clKey]matching.OrderID
	balKeys  map[string]*balKey
	holds    map[string]*balKey // the open withdrawal holds among balKeys

	nextOrderID matching.OrderID
	nextTradeID uint64
	nextPrio    uint64 // time priority: an order resting later gets a larger one

	cmd    *matching.Command
	events []matching.Event
}

type symbol struct {
	spec   matching.SymbolSpec
	status matching.SymbolStatus
	traded bool
	last   int64 // last trade price, valid when traded
}

type account struct {
	spec  matching.AccountSpec
	total [matching.MaxAssets]int64
	held  [matching.MaxAssets]int64
	kill  bool

	checkHeld [matching.MaxAssets]int64 // Check's recomputation of held
}

type tier struct{ makerPpm, takerPpm int64 }

type clKey struct {
	session matching.SessionID
	clOrdID string
}

type balKey struct {
	hold    bool // a withdrawal hold; else a deposit
	state   int  // holds: open, released or settled
	account matching.AccountID
	asset   matching.AssetID
	amount  int64
}

const (
	holdOpen = iota
	holdReleased
	holdSettled
)

type order struct {
	v        matching.OrderView // what clients see
	sym      *symbol
	acct     *account
	makerPpm int64
	takerPpm int64
	holdPx   int64  // buys: the price the hold is computed at
	need     int64  // what is held for it now
	resting  bool   // in the book; a live order not resting is an untriggered stop
	prio     uint64 // time priority within its level, smaller is older
}

// New returns a model with no symbols and only the reserved accounts.
func New() *Model {
	m := &Model{
		symbols:     make(map[matching.SymbolID]*symbol),
		accounts:    make(map[matching.AccountID]*account),
		index:       make(map[clKey]matching.OrderID),
		balKeys:     make(map[string]*balKey),
		holds:       make(map[string]*balKey),
		nextOrderID: 1,
		nextTradeID: 1,
	}
	m.accounts[matching.ExternalAccount] = &account{spec: matching.AccountSpec{ID: matching.ExternalAccount}}
	m.accounts[matching.FeeAccount] = &account{spec: matching.AccountSpec{ID: matching.FeeAccount}}
	return m
}

// Apply executes one command and returns a fresh slice of what happened.
func (m *Model) Apply(cmd *matching.Command) []matching.Event {
	m.cmd = cmd
	m.events = nil
	m.expireGTD()
	switch cmd.Kind {
	case matching.CmdNewOrder:
		m.newOrder()
	case matching.CmdCancel:
		m.cancel()
	case matching.CmdReplace:
		m.replace()
	case matching.CmdMassCancel:
		m.massCancel()
	case matching.CmdSessionClose:
		m.sessionClose()
	case matching.CmdSetStatus:
		m.setStatus()
	case matching.CmdKillSwitch:
		m.killSwitch()
	case matching.CmdDeposit, matching.CmdWithdrawHold:
		m.depositOrHold()
	case matching.CmdWithdrawRelease, matching.CmdWithdrawSettle:
		m.releaseOrSettle()
	case matching.CmdAddSymbol:
		m.addSymbol()
	case matching.CmdAddAccount:
		m.addAccount()
	case matching.CmdSetFeeTier:
		m.setFeeTier()
	case matching.CmdNewDay:
		clear(m.index)
		m.emit(matching.Event{Kind: matching.EvClock})
	case matching.CmdClock:
		m.emit(matching.Event{Kind: matching.EvClock})
	default:
		// SPEC: silent on an unknown command kind; like any malformed
		// reference data it answers EvRefData RefInvalid and changes nothing.
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RefInvalid})
	}
	m.cmd = nil
	return m.events
}

// emit stamps ev with the command and appends it.
func (m *Model) emit(ev matching.Event) {
	ev.Seq = m.cmd.Seq
	ev.Time = m.cmd.Time
	ev.Ref = m.cmd.Kind
	m.events = append(m.events, ev)
}

// ---- arithmetic ----

// mul returns a × b for a, b >= 0 and whether it fits in int64.
func mul(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		panic(fmt.Sprintf("refmodel: mul of negative %d × %d", a, b))
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// add returns a + b and whether it fits in int64.
func add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// mustAdd is add for sums the rules guarantee to fit.
func mustAdd(a, b int64) int64 {
	s, ok := add(a, b)
	if !ok {
		panic(fmt.Sprintf("refmodel: overflow in %d + %d", a, b))
	}
	return s
}

func mustMul(a, b int64) int64 {
	p, ok := mul(a, b)
	if !ok {
		panic(fmt.Sprintf("refmodel: overflow in %d × %d", a, b))
	}
	return p
}

// fee is floor(n × ppm / 1e6) with a 128-bit intermediate.
func fee(n, ppm int64) int64 {
	if n < 0 || ppm < 0 || ppm > 1_000_000 {
		panic(fmt.Sprintf("refmodel: fee(%d, %d)", n, ppm))
	}
	hi, lo := bits.Mul64(uint64(n), uint64(ppm))
	q, _ := bits.Div64(hi, lo, 1_000_000)
	return int64(q)
}

// needAt is what a buy of leaves at holdPx holds: notional plus the most fee
// it can be charged. ok is false when it does not fit in int64.
func needAt(holdPx, leaves, holdPpm int64) (int64, bool) {
	n, ok := mul(holdPx, leaves)
	if !ok {
		return 0, false
	}
	return add(n, fee(n, holdPpm))
}

// band returns the symbol's price band around its reference price.
func (s *symbol) band() (lower, upper int64) {
	ref := big.NewInt(s.ref())
	b := s.spec.BandBps
	t := big.NewInt(s.spec.TickSize)
	tenK := big.NewInt(10000)

	up := new(big.Int).Mul(ref, big.NewInt(10000+b))
	up.Quo(up, tenK) // floor: everything is positive
	up.Quo(up, t)
	up.Mul(up, t)

	lo := new(big.Int).Mul(ref, big.NewInt(10000-b))
	lo = ceilDiv(lo, tenK)
	lo = ceilDiv(lo, t)
	lo.Mul(lo, t)

	if !up.IsInt64() {
		// SPEC: silent on a band edge beyond int64 (a reference price
		// near MaxInt64/2); the model saturates at the largest tick.
		return lo.Int64(), math.MaxInt64 / s.spec.TickSize * s.spec.TickSize
	}
	return lo.Int64(), up.Int64()
}

func ceilDiv(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// ref is the band reference and the stop reference ("last").
func (s *symbol) ref() int64 {
	if s.traded {
		return s.last
	}
	return s.spec.RefPx
}

// ---- orders, holds and the book ----

func opposite(side matching.Side) matching.Side {
	if side == matching.Buy {
		return matching.Sell
	}
	return matching.Buy
}

// crosses says whether a level at px is within an aggressor's limit.
func crosses(side matching.Side, px, limit int64) bool {
	if side == matching.Buy {
		return px <= limit
	}
	return px >= limit
}

func isStopType(t matching.OrdType) bool { return t == matching.Stop || t == matching.StopLimit }

func (o *order) untriggeredStop() bool { return isStopType(o.v.Type) && !o.v.Triggered }

func (o *order) holdPpm() int64 { return max(o.makerPpm, o.takerPpm) }

func (m *Model) symbolOf(o *order) *symbol { return o.sym }

func (m *Model) accountOf(o *order) *account { return o.acct }

// holdAsset is the asset an order's need is held in.
func (m *Model) holdAsset(o *order) matching.AssetID {
	s := m.symbolOf(o)
	if o.v.Side == matching.Buy {
		return s.spec.Quote
	}
	return s.spec.Base
}

func (m *Model) isLive(o *order) bool { return slices.Contains(m.live, o) }

// needOf computes a live order's need from its state.
func (m *Model) needOf(o *order) int64 {
	if o.v.Side == matching.Sell {
		return o.v.Leaves
	}
	n, ok := needAt(o.holdPx, o.v.Leaves, o.holdPpm())
	if !ok {
		panic(fmt.Sprintf("refmodel: need of order %d overflows", o.v.ID))
	}
	return n
}

// rehold makes the account's hold for o equal to what its state needs now
// (nothing once it is no longer live).
func (m *Model) rehold(o *order) {
	want := int64(0)
	if m.isLive(o) {
		want = m.needOf(o)
	}
	a := m.accountOf(o)
	asset := m.holdAsset(o)
	a.held[asset] = mustAdd(a.held[asset], want-o.need)
	o.need = want
}

func (m *Model) liveCount(id matching.AccountID) int64 {
	n := int64(0)
	for _, o := range m.live {
		if o.v.Account == id {
			n++
		}
	}
	return n
}

func (m *Model) findLive(id matching.OrderID) *order {
	for _, o := range m.live {
		if o.v.ID == id {
			return o
		}
	}
	return nil
}

// levelQty is the aggregate of a level: the Leaves of its resting orders.
func (m *Model) levelQty(sym matching.SymbolID, side matching.Side, px int64) int64 {
	q := int64(0)
	for _, o := range m.live {
		if o.resting && o.v.Symbol == sym && o.v.Side == side && o.v.Px == px {
			q = mustAdd(q, o.v.Leaves)
		}
	}
	return q
}

func (m *Model) emitLevel(sym matching.SymbolID, side matching.Side, px int64) {
	m.emit(matching.Event{Kind: matching.EvLevel, Symbol: sym, Side: side, Px: px, Qty: m.levelQty(sym, side, px)})
}

// bookSide returns the resting orders of one side of a book, best price
// first and oldest first within a price.
func (m *Model) bookSide(sym matching.SymbolID, side matching.Side) []*order {
	var os []*order
	for _, o := range m.live {
		if o.resting && o.v.Symbol == sym && o.v.Side == side {
			os = append(os, o)
		}
	}
	slices.SortFunc(os, func(a, b *order) int {
		if a.v.Px != b.v.Px {
			if side == matching.Buy {
				return cmp.Compare(b.v.Px, a.v.Px)
			}
			return cmp.Compare(a.v.Px, b.v.Px)
		}
		return cmp.Compare(a.prio, b.prio)
	})
	return os
}

// best returns the best price of one side of a book.
func (m *Model) best(sym matching.SymbolID, side matching.Side) (int64, bool) {
	os := m.bookSide(sym, side)
	if len(os) == 0 {
		return 0, false
	}
	return os[0].v.Px, true
}

// rest puts a live order at the back of its level.
func (m *Model) rest(o *order) {
	o.resting = true
	o.prio = m.nextPrio
	m.nextPrio++
}

// end takes o out of the live set with a final status and reports it with
// an event of kind (EvCanceled, EvExpired or EvReplaced), then the level it
// left if it was resting.
func (m *Model) end(o *order, status matching.OrdStatus, kind matching.EventKind, reason matching.Reason) {
	wasResting := o.resting
	o.resting = false
	o.v.Leaves = 0
	o.v.Status = status
	m.removeLive(o)
	m.rehold(o)
	m.emit(matching.Event{Kind: kind, Reason: reason, Order: o.v})
	if wasResting {
		m.emitLevel(o.v.Symbol, o.v.Side, o.v.Px)
	}
}

func (m *Model) removeLive(o *order) {
	i := slices.Index(m.live, o)
	if i < 0 {
		panic(fmt.Sprintf("refmodel: order %d is not live", o.v.ID))
	}
	m.live = slices.Delete(m.live, i, i+1)
}

// isSelf says whether a maker would be a self-trade for aggressor a.
func (m *Model) isSelf(a, maker *order) bool {
	if a.v.Account == maker.v.Account {
		return true
	}
	// SPEC: STPFirm is read from the aggressor's account as it is now, not
	// fixed at acceptance (only the STP mode and fee rates are fixed).
	aa, ma := m.accountOf(a), m.accountOf(maker)
	return aa.spec.STPFirm && aa.spec.Firm == ma.spec.Firm
}

// ---- before every command: time ----

func (m *Model) expireGTD() {
	var due []*order
	for _, o := range m.live {
		if o.v.TIF == matching.GTD && o.v.ExpireTime <= m.cmd.Time {
			due = append(due, o)
		}
	}
	slices.SortFunc(due, func(a, b *order) int {
		if c := cmp.Compare(a.v.ExpireTime, b.v.ExpireTime); c != 0 {
			return c
		}
		return cmp.Compare(a.v.ID, b.v.ID)
	})
	for _, o := range due {
		m.end(o, matching.StatusExpired, matching.EvExpired, matching.ReasonExpireGTD)
	}
}

// ---- new orders ----

func validSide(s matching.Side) bool { return s == matching.Buy || s == matching.Sell }

func validType(t matching.OrdType) bool {
	return t == matching.Market || t == matching.Limit || t == matching.Stop || t == matching.StopLimit
}

func validTIF(t matching.TIF) bool {
	switch t {
	case matching.Day, matching.GTC, matching.IOC, matching.FOK, matching.GTD:
		return true
	}
	return false
}

func validSTPMode(s matching.STPMode) bool {
	switch s {
	case matching.STPCancelResting, matching.STPCancelAggressor, matching.STPCancelBoth, matching.STPDecrement:
		return true
	}
	return false
}

// tradingAccount is the account a new order names, if it may trade and the
// command's firm may act for it.
func (m *Model) tradingAccount(id matching.AccountID, firm matching.FirmID) *account {
	if id == matching.ExternalAccount || id == matching.FeeAccount {
		return nil
	}
	a := m.accounts[id]
	if a == nil || (firm != 0 && a.spec.Firm != firm) {
		return nil
	}
	return a
}

// pricesReason is NewOrder step 8 for an order of type t; checkStop says
// whether the stop price takes part (not for a triggered order's replace).
func pricesReason(t matching.OrdType, side matching.Side, px, stopPx, tick int64, checkStop bool) matching.Reason {
	onTick := func(p int64) bool { return p > 0 && p%tick == 0 }
	if (t == matching.Limit || t == matching.StopLimit) && !onTick(px) {
		return matching.RejBadPrice
	}
	if checkStop && isStopType(t) && !onTick(stopPx) {
		return matching.RejBadPrice
	}
	if (t == matching.Market || t == matching.Stop) && px != 0 {
		return matching.RejBadPrice
	}
	if (t == matching.Market || t == matching.Limit) && stopPx != 0 {
		return matching.RejBadPrice
	}
	if checkStop && t == matching.StopLimit {
		if side == matching.Buy && stopPx > px || side == matching.Sell && stopPx < px {
			return matching.RejBadStopPx
		}
	}
	return 0
}

// stopReached is NewOrder step 11: a stop that would trigger at once.
func stopReached(side matching.Side, stopPx, last int64) bool {
	if side == matching.Buy {
		return stopPx <= last
	}
	return stopPx >= last
}

// wouldTake is NewOrder step 12 for a post-only order.
func (m *Model) wouldTake(sym matching.SymbolID, side matching.Side, px int64) bool {
	if side == matching.Buy {
		ask, ok := m.best(sym, matching.Sell)
		return ok && px >= ask
	}
	bid, ok := m.best(sym, matching.Buy)
	return ok && px <= bid
}

func (m *Model) reject(r matching.Reason) {
	c := m.cmd
	m.emit(matching.Event{Kind: matching.EvRejected, Reason: r, Order: matching.OrderView{
		ClOrdID:    c.ClOrdID,
		Session:    c.Session,
		Account:    c.Account,
		Symbol:     c.Symbol,
		Side:       c.Side,
		Type:       c.Type,
		TIF:        c.TIF,
		STP:        c.STP,
		PostOnly:   c.PostOnly,
		Px:         c.Px,
		StopPx:     c.StopPx,
		Qty:        c.Qty,
		Status:     matching.StatusRejected,
		ExpireTime: c.ExpireTime,
	}})
}

func (m *Model) newOrder() {
	c := m.cmd
	// 1.
	a := m.tradingAccount(c.Account, c.Firm)
	if a == nil {
		m.reject(matching.RejUnknownAccount)
		return
	}
	// 2.
	s := m.symbols[c.Symbol]
	if s == nil {
		m.reject(matching.RejUnknownSymbol)
		return
	}
	// 3.
	if !validSide(c.Side) || !validType(c.Type) || !validTIF(c.TIF) ||
		!(c.STP == matching.STPDefault || validSTPMode(c.STP)) ||
		c.PostOnly && !(c.Type == matching.Limit && (c.TIF == matching.Day || c.TIF == matching.GTC || c.TIF == matching.GTD)) {
		m.reject(matching.RejUnsupported)
		return
	}
	// 4.
	if c.ClOrdID != "" {
		if _, dup := m.index[clKey{c.Session, c.ClOrdID}]; dup {
			m.reject(matching.RejDuplicateClOrdID)
			return
		}
	}
	// 5.
	if a.kill {
		m.reject(matching.RejKillSwitch)
		return
	}
	// 6.
	if s.status != matching.StatusOpen {
		m.reject(matching.RejHalted)
		return
	}
	// 7.
	if c.Qty <= 0 || c.Qty%s.spec.QtyStep != 0 || c.Qty < s.spec.MinQty {
		m.reject(matching.RejBadQty)
		return
	}
	if c.Qty > s.spec.MaxQty {
		m.reject(matching.RejMaxQty)
		return
	}
	// 8.
	if r := pricesReason(c.Type, c.Side, c.Px, c.StopPx, s.spec.TickSize, true); r != 0 {
		m.reject(r)
		return
	}
	// 9.
	if c.TIF == matching.GTD && c.ExpireTime <= c.Time {
		m.reject(matching.RejExpireInPast)
		return
	}
	// 10.
	lower, upper := s.band()
	if (c.Type == matching.Limit || c.Type == matching.StopLimit) && (c.Px < lower || c.Px > upper) {
		m.reject(matching.RejPriceBand)
		return
	}
	// 11.
	if isStopType(c.Type) && stopReached(c.Side, c.StopPx, s.ref()) {
		m.reject(matching.RejStopWouldTrigger)
		return
	}
	// 12.
	if c.PostOnly && m.wouldTake(c.Symbol, c.Side, c.Px) {
		m.reject(matching.RejPostOnlyTake)
		return
	}
	// 13.
	p := c.Px
	if c.Type == matching.Market || c.Type == matching.Stop {
		p = upper
	}
	notional, ok := mul(p, c.Qty)
	if !ok || notional > s.spec.MaxNotional {
		m.reject(matching.RejMaxNotional)
		return
	}
	t := m.tiers[a.spec.FeeTier]
	holdPpm := max(t.makerPpm, t.takerPpm)
	// The working limit and the hold price.
	limit := c.Px
	switch {
	case c.Type == matching.Market && c.Side == matching.Buy:
		limit = upper
	case c.Type == matching.Market && c.Side == matching.Sell:
		limit = lower
	case c.Type == matching.Stop:
		limit = upper // the hold price until it triggers; buys only
	}
	if c.Side == matching.Buy {
		need, ok := needAt(limit, c.Qty, holdPpm)
		if !ok {
			m.reject(matching.RejMaxNotional)
			return
		}
		if need > a.total[s.spec.Quote]-a.held[s.spec.Quote] {
			m.reject(matching.RejInsufficientFund)
			return
		}
	} else if c.Qty > a.total[s.spec.Base]-a.held[s.spec.Base] {
		m.reject(matching.RejInsufficientFund)
		return
	}
	// 14.
	if a.spec.MaxOpenOrders > 0 && m.liveCount(c.Account) >= int64(a.spec.MaxOpenOrders) {
		m.reject(matching.RejMaxOpenOrders)
		return
	}

	// Accept.
	stp := c.STP
	if stp == matching.STPDefault {
		stp = a.spec.STP
	}
	expire := int64(0)
	if c.TIF == matching.GTD {
		expire = c.ExpireTime
	}
	px := c.Px
	if c.Type == matching.Market || c.Type == matching.Stop {
		px = 0 // already so: step 8
	}
	o := &order{
		v: matching.OrderView{
			ID:         m.nextOrderID,
			ClOrdID:    c.ClOrdID,
			Session:    c.Session,
			Account:    c.Account,
			Symbol:     c.Symbol,
			Side:       c.Side,
			Type:       c.Type,
			TIF:        c.TIF,
			STP:        stp,
			PostOnly:   c.PostOnly,
			Px:         px,
			StopPx:     c.StopPx,
			Qty:        c.Qty,
			Leaves:     c.Qty,
			Status:     matching.StatusNew,
			ExpireTime: expire,
		},
		sym:      s,
		acct:     a,
		makerPpm: t.makerPpm,
		takerPpm: t.takerPpm,
		holdPx:   limit,
	}
	m.nextOrderID++
	if c.ClOrdID != "" {
		m.index[clKey{c.Session, c.ClOrdID}] = o.v.ID
	}
	m.live = append(m.live, o)
	m.rehold(o)
	m.emit(matching.Event{Kind: matching.EvAccepted, Order: o.v})
	if isStopType(o.v.Type) {
		return
	}
	m.work(o, limit)
	m.triggerStops(s)
}

// work runs a freshly accepted or triggered order: the FOK walk, matching,
// then its remainder is canceled or rests.
func (m *Model) work(o *order, limit int64) {
	if o.v.TIF == matching.FOK && !m.fokFeasible(o, limit) {
		m.end(o, matching.StatusCanceled, matching.EvCanceled, matching.ReasonFOKUnfilled)
		return
	}
	m.match(o, limit)
	if !m.isLive(o) {
		return
	}
	if o.v.Type == matching.Market || o.v.Type == matching.Stop || o.v.TIF == matching.IOC || o.v.TIF == matching.FOK {
		m.end(o, matching.StatusCanceled, matching.EvCanceled, matching.ReasonIOCRemainder)
		return
	}
	m.rest(o)
	m.emitLevel(o.v.Symbol, o.v.Side, o.v.Px)
}

// fokFeasible walks the opposite side from the best while it crosses limit.
func (m *Model) fokFeasible(o *order, limit int64) bool {
	sum := int64(0)
	for _, mk := range m.bookSide(o.v.Symbol, opposite(o.v.Side)) {
		if !crosses(o.v.Side, mk.v.Px, limit) {
			break
		}
		if m.isSelf(o, mk) {
			if o.v.STP != matching.STPCancelResting {
				return false
			}
			continue
		}
		sum = mustAdd(sum, mk.v.Leaves)
		// SPEC: the walk stops as soon as the sum reaches Qty, so a self
		// order behind enough liquidity does not make the order infeasible
		// (matching would fill before reaching it).
		if sum >= o.v.Qty {
			return true
		}
	}
	return false
}

// ---- matching ----

// match runs aggressor a against the opposite side of its book while the
// best level crosses limit.
func (m *Model) match(a *order, limit int64) {
	sym := a.v.Symbol
	side := opposite(a.v.Side)
	for m.isLive(a) {
		makers := m.bookSide(sym, side)
		if len(makers) == 0 || !crosses(a.v.Side, makers[0].v.Px, limit) {
			return
		}
		px := makers[0].v.Px
		touched := false // a maker at this level was filled, canceled or reduced
		for _, mk := range makers {
			if mk.v.Px != px || !m.isLive(a) {
				break
			}
			if !m.isSelf(a, mk) {
				m.trade(a, mk, px)
				touched = true
				continue
			}
			switch a.v.STP {
			case matching.STPCancelResting:
				m.cancelSelf(mk)
				touched = true
			case matching.STPCancelAggressor:
				m.cancelSelf(a)
			case matching.STPCancelBoth:
				m.cancelSelf(mk)
				m.cancelSelf(a)
				touched = true
			case matching.STPDecrement:
				touched = true
				d := min(a.v.Leaves, mk.v.Leaves)
				m.decrement(mk, d)
				m.decrement(a, d)
			default:
				panic(fmt.Sprintf("refmodel: order %d has STP %d", a.v.ID, a.v.STP))
			}
		}
		if touched {
			m.emitLevel(sym, side, px)
		}
	}
}

// cancelSelf ends an order by self-trade prevention. The level event, if
// any, is the matcher's to send.
func (m *Model) cancelSelf(o *order) {
	o.resting = false
	o.v.Leaves = 0
	o.v.Status = matching.StatusCanceled
	m.removeLive(o)
	m.rehold(o)
	m.emit(matching.Event{Kind: matching.EvCanceled, Reason: matching.ReasonSelfTrade, Order: o.v})
}

// decrement is STP mode D for one side of the pair.
func (m *Model) decrement(o *order, d int64) {
	if o.v.Leaves == d {
		m.cancelSelf(o)
		return
	}
	o.v.Qty -= d
	o.v.Leaves -= d
	m.rehold(o)
	m.emit(matching.Event{Kind: matching.EvRestated, Reason: matching.ReasonSelfTrade, Order: o.v})
}

func (m *Model) trade(a, mk *order, px int64) {
	s := m.symbolOf(a)
	q := min(a.v.Leaves, mk.v.Leaves)
	n := mustMul(px, q)
	makerFee := fee(n, mk.makerPpm)
	takerFee := fee(n, a.takerPpm)
	fill(a, q, n, takerFee)
	fill(mk, q, n, makerFee)

	buyer, seller := a, mk
	buyerFee, sellerFee := takerFee, makerFee
	if a.v.Side == matching.Sell {
		buyer, seller = mk, a
		buyerFee, sellerFee = makerFee, takerFee
	}
	postings := [matching.MaxPostings]matching.Posting{
		{Account: buyer.v.Account, Asset: s.spec.Base, Amount: q},
		{Account: seller.v.Account, Asset: s.spec.Base, Amount: -q},
		{Account: buyer.v.Account, Asset: s.spec.Quote, Amount: -mustAdd(n, buyerFee)},
		{Account: seller.v.Account, Asset: s.spec.Quote, Amount: n - sellerFee},
		{Account: matching.FeeAccount, Asset: s.spec.Quote, Amount: mustAdd(makerFee, takerFee)},
	}
	for _, p := range postings {
		acct := m.accounts[p.Account]
		acct.total[p.Asset] = mustAdd(acct.total[p.Asset], p.Amount)
	}
	for _, o := range []*order{a, mk} {
		if o.v.Leaves == 0 {
			o.resting = false
			m.removeLive(o)
		}
		m.rehold(o)
	}
	s.traded = true
	s.last = px
	m.emit(matching.Event{
		Kind:      matching.EvTrade,
		Order:     a.v,
		Maker:     mk.v,
		TradeID:   m.nextTradeID,
		Symbol:    a.v.Symbol,
		Px:        px,
		Qty:       q,
		MakerFee:  makerFee,
		TakerFee:  takerFee,
		Aggressor: a.v.Side,
		NPostings: matching.MaxPostings,
		Postings:  postings,
	})
	m.nextTradeID++
}

func fill(o *order, q, n, f int64) {
	o.v.Cum += q
	o.v.Leaves -= q
	o.v.Notional = mustAdd(o.v.Notional, n)
	o.v.Fees = mustAdd(o.v.Fees, f)
	if o.v.Leaves == 0 {
		o.v.Status = matching.StatusFilled
	} else {
		o.v.Status = matching.StatusPartiallyFilled
	}
}

// ---- stops ----

// triggerStops runs after a command matched on s.
func (m *Model) triggerStops(s *symbol) {
	if !s.traded {
		return
	}
	for {
		var due []*order // m.live is in ascending OrderID
		for _, o := range m.live {
			if o.v.Symbol == s.spec.ID && o.untriggeredStop() && stopReached(o.v.Side, o.v.StopPx, s.last) {
				due = append(due, o)
			}
		}
		if len(due) == 0 {
			return
		}
		// Nothing can reach an order that is out of the stop set but not yet
		// triggered: it is not in the book. So taking them all out first is
		// the same as taking each out when its turn comes.
		for _, o := range due {
			m.trigger(s, o)
		}
	}
}

func (m *Model) trigger(s *symbol, o *order) {
	lower, upper := s.band()
	limit := o.v.Px
	switch o.v.Type {
	case matching.Stop:
		limit = lower
		if o.v.Side == matching.Buy {
			limit = upper
			a := m.accountOf(o)
			asset := s.spec.Quote
			need, ok := needAt(upper, o.v.Leaves, o.holdPpm())
			if !ok || need > o.need+(a.total[asset]-a.held[asset]) {
				m.end(o, matching.StatusCanceled, matching.EvCanceled, matching.ReasonTriggerFunds)
				return
			}
			o.holdPx = upper
			m.rehold(o)
		}
	case matching.StopLimit:
		if o.v.Px < lower || o.v.Px > upper {
			m.end(o, matching.StatusCanceled, matching.EvCanceled, matching.ReasonTriggerBand)
			return
		}
	}
	o.v.Triggered = true
	m.emit(matching.Event{Kind: matching.EvTriggered, Order: o.v})
	m.work(o, limit)
}

// ---- cancel and replace ----

// lookup finds the order a cancel or replace names. It returns the live
// order when found; the ID alone when the order is known but done.
func (m *Model) lookup() (o *order, doneID matching.OrderID) {
	c := m.cmd
	if c.OrderID != 0 {
		if o := m.findLive(c.OrderID); o != nil {
			if (c.OrigClOrdID == "" || o.v.ClOrdID == c.OrigClOrdID) &&
				(c.Firm == 0 || m.accountOf(o).spec.Firm == c.Firm) {
				return o, 0
			}
			return nil, 0
		}
		if c.OrigClOrdID != "" && c.OrderID < m.nextOrderID {
			if id, ok := m.index[clKey{c.Session, c.OrigClOrdID}]; ok && id == c.OrderID {
				return nil, id
			}
		}
		return nil, 0
	}
	id, ok := m.index[clKey{c.Session, c.OrigClOrdID}]
	if !ok {
		return nil, 0
	}
	o = m.findLive(id)
	if o == nil {
		return nil, id
	}
	if c.Firm != 0 && m.accountOf(o).spec.Firm != c.Firm {
		return nil, 0
	}
	return o, 0
}

// cxlReject refuses a cancel or replace of a found (live) order.
func (m *Model) cxlReject(o *order, r matching.Reason) {
	v := o.v
	v.ClOrdID = m.cmd.ClOrdID
	v.OrigClOrdID = o.v.ClOrdID
	m.emit(matching.Event{Kind: matching.EvCancelRejected, Reason: r, Order: v})
}

// find is steps 1-3 of cancel and replace; nil means it has answered.
func (m *Model) find() *order {
	c := m.cmd
	o, doneID := m.lookup()
	if o == nil {
		v := matching.OrderView{ClOrdID: c.ClOrdID, OrigClOrdID: c.OrigClOrdID}
		r := matching.CxlUnknownOrder
		if doneID != 0 {
			v.ID = doneID
			r = matching.CxlTooLate
		}
		m.emit(matching.Event{Kind: matching.EvCancelRejected, Reason: r, Order: v})
		return nil
	}
	if c.ClOrdID != "" {
		if _, dup := m.index[clKey{c.Session, c.ClOrdID}]; dup {
			m.cxlReject(o, matching.CxlDuplicateClOrd)
			return nil
		}
	}
	return o
}

// renameFor records the request's ClOrdID and moves the order's ids along.
func (m *Model) renameFor(o *order) {
	c := m.cmd
	if c.ClOrdID != "" {
		// SPEC: the request's own Session keys the new ClOrdID, which
		// may differ from the session that entered the order.
		m.index[clKey{c.Session, c.ClOrdID}] = o.v.ID
	}
	o.v.OrigClOrdID = o.v.ClOrdID
	if c.ClOrdID != "" {
		o.v.ClOrdID = c.ClOrdID
	}
}

func (m *Model) cancel() {
	o := m.find()
	if o == nil {
		return
	}
	m.renameFor(o)
	m.end(o, matching.StatusCanceled, matching.EvCanceled, matching.ReasonClient)
}

func (m *Model) replace() {
	c := m.cmd
	o := m.find()
	if o == nil {
		return
	}
	s := m.symbolOf(o)
	// 4.
	// SPEC: PostOnly, STP, ExpireTime and Account on a replace are
	// ignored: only Px, StopPx and Qty can change.
	if c.Side != o.v.Side || c.Symbol != o.v.Symbol || c.Type != o.v.Type || c.TIF != o.v.TIF {
		m.cxlReject(o, matching.CxlImmutable)
		return
	}
	// 5.
	if s.status != matching.StatusOpen {
		m.cxlReject(o, matching.RejHalted)
		return
	}
	// 6.
	if c.Qty <= 0 || c.Qty%s.spec.QtyStep != 0 {
		m.cxlReject(o, matching.RejBadQty)
		return
	}
	if c.Qty <= o.v.Cum {
		m.renameFor(o)
		o.v.Qty = o.v.Cum
		m.end(o, matching.StatusFilled, matching.EvReplaced, matching.ReasonReplacedAway)
		return
	}
	if c.Qty < s.spec.MinQty {
		m.cxlReject(o, matching.RejBadQty)
		return
	}
	if c.Qty > s.spec.MaxQty {
		m.cxlReject(o, matching.RejMaxQty)
		return
	}
	// 7.
	untriggered := o.untriggeredStop()
	// SPEC: for a triggered stop-limit neither the StopPx tick check nor
	// the StopPx/Px relation (RejBadStopPx) applies.
	if r := pricesReason(o.v.Type, o.v.Side, c.Px, c.StopPx, s.spec.TickSize, untriggered); r != 0 {
		m.cxlReject(o, r)
		return
	}
	// 8.
	lower, upper := s.band()
	if (o.v.Type == matching.Limit || o.v.Type == matching.StopLimit) && (c.Px < lower || c.Px > upper) {
		m.cxlReject(o, matching.RejPriceBand)
		return
	}
	if untriggered && stopReached(o.v.Side, c.StopPx, s.ref()) {
		m.cxlReject(o, matching.RejStopWouldTrigger)
		return
	}
	// 9.
	if o.v.PostOnly && m.wouldTake(o.v.Symbol, o.v.Side, c.Px) {
		m.cxlReject(o, matching.RejPostOnlyTake)
		return
	}
	// 10.
	p := c.Px
	if o.v.Type == matching.Stop {
		p = upper
	}
	notional, ok := mul(p, c.Qty)
	if !ok || notional > s.spec.MaxNotional {
		m.cxlReject(o, matching.RejMaxNotional)
		return
	}
	leaves := c.Qty - o.v.Cum
	holdPx := p // buys only; for a triggered order this is its Px too
	newNeed := leaves
	if o.v.Side == matching.Buy {
		newNeed, ok = needAt(holdPx, leaves, o.holdPpm())
		if !ok {
			m.cxlReject(o, matching.RejMaxNotional)
			return
		}
	}
	a := m.accountOf(o)
	asset := m.holdAsset(o)
	if newNeed-o.need > a.total[asset]-a.held[asset] {
		m.cxlReject(o, matching.RejInsufficientFund)
		return
	}

	// Success.
	oldPx, oldQty := o.v.Px, o.v.Qty
	m.renameFor(o)
	o.v.Px = c.Px
	if untriggered {
		o.v.StopPx = c.StopPx
	}
	o.v.Qty = c.Qty
	o.v.Leaves = leaves
	o.holdPx = holdPx
	m.rehold(o)
	m.emit(matching.Event{Kind: matching.EvReplaced, Order: o.v})
	if untriggered {
		return
	}
	if o.v.Px == oldPx && o.v.Qty <= oldQty {
		m.emitLevel(o.v.Symbol, o.v.Side, o.v.Px)
		return
	}
	o.resting = false
	m.emitLevel(o.v.Symbol, o.v.Side, oldPx)
	m.match(o, o.v.Px)
	if m.isLive(o) {
		m.rest(o)
		m.emitLevel(o.v.Symbol, o.v.Side, o.v.Px)
	}
	m.triggerStops(s)
}

// ---- other commands ----

// endAll ends the given orders, ascending OrderID, with one reason.
func (m *Model) endAll(which func(o *order) bool, status matching.OrdStatus, kind matching.EventKind, r matching.Reason) int64 {
	var os []*order
	for _, o := range m.live {
		if which(o) {
			os = append(os, o)
		}
	}
	for _, o := range os {
		m.end(o, status, kind, r)
	}
	return int64(len(os))
}

func (m *Model) massCancel() {
	c := m.cmd
	r := c.Reason
	if r == 0 {
		r = matching.ReasonMassCancel
	}
	if c.Account != 0 {
		// SPEC: a reserved account (FeeAccount) counts as unknown here, as
		// RejUnknownAccount's definition says ("unknown, reserved, or
		// another firm's account").
		if m.tradingAccount(c.Account, c.Firm) == nil {
			m.emit(matching.Event{Kind: matching.EvMassCanceled, Reason: matching.RejUnknownAccount})
			return
		}
	}
	n := m.endAll(func(o *order) bool {
		return (c.Firm == 0 || m.accountOf(o).spec.Firm == c.Firm) &&
			(c.Account == 0 || o.v.Account == c.Account) &&
			(c.Symbol == 0 || o.v.Symbol == c.Symbol) &&
			(c.Side == 0 || o.v.Side == c.Side) &&
			(!c.OnlySession || o.v.Session == c.Session)
	}, matching.StatusCanceled, matching.EvCanceled, r)
	m.emit(matching.Event{Kind: matching.EvMassCanceled, Count: n, Reason: r})
}

func (m *Model) sessionClose() {
	c := m.cmd
	if m.symbols[c.Symbol] == nil {
		// SPEC: the refusal names the symbol it refuses (Symbol =
		// cmd.Symbol), as AddSymbol's EvRefData does.
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RejUnknownSymbol, Symbol: c.Symbol})
		return
	}
	m.endAll(func(o *order) bool {
		return o.v.Symbol == c.Symbol && o.v.TIF == matching.Day
	}, matching.StatusExpired, matching.EvExpired, matching.ReasonExpireDay)
}

func (m *Model) setStatus() {
	c := m.cmd
	s := m.symbols[c.Symbol]
	if s == nil {
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RejUnknownSymbol, Symbol: c.Symbol})
		return
	}
	if c.Status < matching.StatusOpen || c.Status > matching.StatusClosed {
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RefInvalid, Symbol: c.Symbol})
		return
	}
	s.status = c.Status
	m.emit(matching.Event{Kind: matching.EvSymbolStatus, Symbol: c.Symbol, Status: c.Status, Flag: c.Flag})
	if c.Flag {
		m.endAll(func(o *order) bool { return o.v.Symbol == c.Symbol },
			matching.StatusCanceled, matching.EvCanceled, matching.ReasonHalt)
	}
}

func (m *Model) killSwitch() {
	c := m.cmd
	a := m.tradingAccount(c.Account, c.Firm)
	if a == nil {
		// SPEC: the refusal echoes Account and Flag, like the success.
		m.emit(matching.Event{Kind: matching.EvKillSwitch, Reason: matching.RejUnknownAccount, Account: c.Account, Flag: c.Flag})
		return
	}
	a.kill = c.Flag
	m.emit(matching.Event{Kind: matching.EvKillSwitch, Account: c.Account, Flag: c.Flag})
	if c.Flag {
		m.endAll(func(o *order) bool { return o.v.Account == c.Account },
			matching.StatusCanceled, matching.EvCanceled, matching.ReasonKillSwitch)
	}
}

// ---- balances ----

// clientTotal is what the venue owes its clients in one asset.
func (m *Model) clientTotal(asset matching.AssetID) int64 {
	sum := int64(0)
	for id, a := range m.accounts {
		if id != matching.ExternalAccount {
			sum = mustAdd(sum, a.total[asset])
		}
	}
	return sum
}

func (m *Model) depositOrHold() {
	c := m.cmd
	ev := matching.Event{Kind: matching.EvBalance, Account: c.Account, Asset: c.Asset, Amount: c.Amount, Key: c.Key}
	defer func() { m.emit(ev) }()
	if c.Key == "" {
		ev.Reason = matching.RefInvalid
		return
	}
	if _, used := m.balKeys[c.Key]; used {
		ev.Reason = matching.BalDuplicate
		return
	}
	a := m.accounts[c.Account]
	if a == nil || c.Account == matching.ExternalAccount {
		ev.Reason = matching.BalUnknownAcct
		return
	}
	if c.Amount <= 0 || c.Asset >= matching.MaxAssets {
		ev.Reason = matching.BalBadAmount
		return
	}
	if c.Kind == matching.CmdDeposit {
		if c.Amount > math.MaxInt64-m.clientTotal(c.Asset) {
			ev.Reason = matching.BalSupplyLimit
			return
		}
		ext := m.accounts[matching.ExternalAccount]
		a.total[c.Asset] += c.Amount
		ext.total[c.Asset] -= c.Amount
		ev.NPostings = 2
		ev.Postings[0] = matching.Posting{Account: c.Account, Asset: c.Asset, Amount: c.Amount}
		ev.Postings[1] = matching.Posting{Account: matching.ExternalAccount, Asset: c.Asset, Amount: -c.Amount}
		m.balKeys[c.Key] = &balKey{account: c.Account, asset: c.Asset, amount: c.Amount}
		return
	}
	if a.total[c.Asset]-a.held[c.Asset] < c.Amount {
		ev.Reason = matching.BalInsufficent
		return
	}
	a.held[c.Asset] += c.Amount
	k := &balKey{hold: true, state: holdOpen, account: c.Account, asset: c.Asset, amount: c.Amount}
	m.balKeys[c.Key] = k
	m.holds[c.Key] = k
}

func (m *Model) releaseOrSettle() {
	c := m.cmd
	ev := matching.Event{Kind: matching.EvBalance, Account: c.Account, Asset: c.Asset, Amount: c.Amount, Key: c.Key}
	defer func() { m.emit(ev) }()
	if c.Key == "" {
		ev.Reason = matching.RefInvalid
		return
	}
	k := m.balKeys[c.Key]
	if k == nil || !k.hold {
		// SPEC: a key that names a deposit holds nothing: BalUnknownHold,
		// echoing the command.
		ev.Reason = matching.BalUnknownHold
		return
	}
	// SPEC: once the key names a hold, the event carries the hold's
	// account, asset and amount even when the command is refused.
	ev.Account, ev.Asset, ev.Amount = k.account, k.asset, k.amount
	a := m.accounts[k.account]
	if c.Kind == matching.CmdWithdrawRelease {
		switch k.state {
		case holdReleased:
			ev.Reason = matching.BalDuplicate
		case holdSettled:
			ev.Reason = matching.BalUnknownHold
		default:
			a.held[k.asset] -= k.amount
			k.state = holdReleased
			delete(m.holds, c.Key)
		}
		return
	}
	switch k.state {
	case holdReleased:
		ev.Reason = matching.BalUnknownHold
	case holdSettled:
		ev.Reason = matching.BalDuplicate
	default:
		ext := m.accounts[matching.ExternalAccount]
		a.held[k.asset] -= k.amount
		a.total[k.asset] -= k.amount
		ext.total[k.asset] += k.amount
		k.state = holdSettled
		delete(m.holds, c.Key)
		ev.NPostings = 2
		ev.Postings[0] = matching.Posting{Account: k.account, Asset: k.asset, Amount: -k.amount}
		ev.Postings[1] = matching.Posting{Account: matching.ExternalAccount, Asset: k.asset, Amount: k.amount}
	}
}

// ---- reference data ----

func (m *Model) addSymbol() {
	c := m.cmd
	sp := c.SymbolSpec
	if sp == nil {
		// SPEC: a missing spec is invalid and names Symbol 0.
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RefInvalid})
		return
	}
	ok := sp.ID != 0 && m.symbols[sp.ID] == nil &&
		sp.Base != sp.Quote && sp.Base < matching.MaxAssets && sp.Quote < matching.MaxAssets &&
		sp.TickSize > 0 && sp.QtyStep > 0 && sp.MinQty > 0 &&
		sp.MinQty%sp.QtyStep == 0 && sp.MaxQty >= sp.MinQty && sp.MaxNotional > 0 &&
		sp.RefPx > 0 && sp.RefPx%sp.TickSize == 0 && sp.RefPx <= math.MaxInt64/20000 &&
		sp.BandBps > 0 && sp.BandBps < 10000 &&
		sp.Status >= matching.StatusOpen && sp.Status <= matching.StatusClosed
	ev := matching.Event{Kind: matching.EvRefData, Symbol: sp.ID}
	if !ok {
		ev.Reason = matching.RefInvalid
	} else {
		m.symbols[sp.ID] = &symbol{spec: *sp, status: sp.Status}
	}
	m.emit(ev)
}

func (m *Model) addAccount() {
	c := m.cmd
	sp := c.AccountSpec
	if sp == nil {
		m.emit(matching.Event{Kind: matching.EvRefData, Reason: matching.RefInvalid})
		return
	}
	// SPEC: a refused AddAccount also carries Account = ID.
	ev := matching.Event{Kind: matching.EvRefData, Account: sp.ID}
	old := m.accounts[sp.ID]
	ok := sp.ID >= 2 && sp.ID < 1<<24 && sp.FeeTier < matching.MaxFeeTiers &&
		validSTPMode(sp.STP) && sp.MaxOpenOrders >= 0 &&
		(old == nil || old.spec.Firm == sp.Firm)
	switch {
	case !ok:
		ev.Reason = matching.RefInvalid
	case old == nil:
		m.accounts[sp.ID] = &account{spec: *sp}
	default:
		old.spec = *sp
	}
	m.emit(ev)
}

func (m *Model) setFeeTier() {
	c := m.cmd
	ev := matching.Event{Kind: matching.EvRefData}
	if c.FeeTier >= matching.MaxFeeTiers || c.MakerPpm < 0 || c.MakerPpm > 1_000_000 ||
		c.TakerPpm < 0 || c.TakerPpm > 1_000_000 {
		ev.Reason = matching.RefInvalid
	} else {
		m.tiers[c.FeeTier] = tier{makerPpm: c.MakerPpm, takerPpm: c.TakerPpm}
	}
	m.emit(ev)
}
