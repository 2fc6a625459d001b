package matching_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"venue/matching"
)

// genSource is where the generator's choices come from: a seeded PRNG for
// the differential test, the fuzzer's bytes for FuzzCommands.
type genSource interface {
	// IntN returns a number in [0, n); n > 0.
	IntN(n int) int
}

type rngSource struct{ r *rand.Rand }

func newRNGSource(seed uint64) rngSource {
	return rngSource{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s rngSource) IntN(n int) int { return s.r.IntN(n) }

// byteSource reads choices from fuzz input; once the bytes run out every
// choice is 0 and exhausted reports true.
type byteSource struct {
	data []byte
	pos  int
}

func (s *byteSource) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	nb := 1
	if n > 1<<8 {
		nb = 2
	}
	if n > 1<<16 {
		nb = 4
	}
	var v uint32
	for range nb {
		v <<= 8
		if s.pos < len(s.data) {
			v |= uint32(s.data[s.pos])
			s.pos++
		}
	}
	return int(v % uint32(n))
}

func (s *byteSource) exhausted() bool { return s.pos >= len(s.data) }

// Reference data of the simulated venue.
const (
	symUSD matching.SymbolID = 1 // BTC-USD
	symEUR matching.SymbolID = 2 // BTC-EUR

	assetBTC matching.AssetID = 0
	assetUSD matching.AssetID = 1
	assetEUR matching.AssetID = 2

	operatorSession matching.SessionID = 1
	startTime       int64              = 1_700_000_000_000_000_000
)

func genSymbols() []matching.SymbolSpec {
	return []matching.SymbolSpec{
		{ID: symUSD, Name: "BTC-USD", Base: assetBTC, Quote: assetUSD, TickSize: 1, QtyStep: 1,
			MinQty: 10_000, MaxQty: 100_000_000_000, MaxNotional: 1_000_000_000_000_000_000,
			RefPx: 6_000_000, BandBps: 2000, Status: matching.StatusOpen},
		{ID: symEUR, Name: "BTC-EUR", Base: assetBTC, Quote: assetEUR, TickSize: 5, QtyStep: 100,
			MinQty: 10_000, MaxQty: 100_000_000_000, MaxNotional: 200_000_000_000_000_000,
			RefPx: 5_500_000, BandBps: 50, Status: matching.StatusOpen},
	}
}

func genAccounts() []matching.AccountSpec {
	return []matching.AccountSpec{
		{ID: 10, Firm: 1, FeeTier: 0, STP: matching.STPCancelAggressor},
		{ID: 11, Firm: 1, FeeTier: 1, STP: matching.STPCancelResting, STPFirm: true},
		{ID: 12, Firm: 1, FeeTier: 2, STP: matching.STPDecrement, MaxOpenOrders: 6},
		{ID: 13, Firm: 2, FeeTier: 3, STP: matching.STPCancelBoth},
		{ID: 14, Firm: 2, FeeTier: 1, STP: matching.STPCancelResting, STPFirm: true},
		{ID: 15, Firm: 2, FeeTier: 4, STP: matching.STPCancelAggressor},
		{ID: 16, Firm: 3, FeeTier: 2, STP: matching.STPDecrement, MaxOpenOrders: 12},
		{ID: 17, Firm: 3, FeeTier: 0, STP: matching.STPCancelResting, STPFirm: true},
	}
}

// isPoor says whether an account gets little money, so that its funds run
// short at acceptance, on replace and when its stops trigger.
func isPoor(a matching.AccountID) bool { return a == 15 || a == 17 }

// genTiers are (tier, maker ppm, taker ppm).
var genTiers = [][3]int64{{0, 0, 0}, {1, 10, 20}, {2, 50, 100}, {3, 0, 100}, {4, 100, 40}}

// session of an account's own FIX session.
func sessionOf(a matching.AccountID) matching.SessionID { return matching.SessionID(1000 + a) }

type levelKey struct {
	sym  matching.SymbolID
	side matching.Side
	px   int64
}

// generator produces a realistic command stream. It learns what it can
// from the events it is shown (observe): live orders, the book's levels,
// the last trade price, halts and kill switches.
type generator struct {
	src     genSource
	seq     uint64
	now     int64
	boot    []matching.Command // reference data and deposits, sent first
	pending []matching.Command // the rest of a scenario

	syms  []matching.SymbolSpec
	accts []matching.AccountSpec

	live    map[matching.OrderID]matching.OrderView
	liveIDs []matching.OrderID // live order IDs in a deterministic order
	livePos map[matching.OrderID]int
	done    []matching.OrderView // recently ended, a ring
	doneAt  int
	levels  map[levelKey]int64
	lastPx  map[matching.SymbolID]int64
	halted  map[matching.SymbolID]bool
	killed  map[matching.AccountID]bool
	maxID   matching.OrderID

	clSeq    int
	recentCl []clRef // for duplicate ClOrdIDs
	keySeq   int
	depKeys  []string
	holdKeys []string
	drains   [][]string // the hold keys of each drain not yet undone
}

type clRef struct {
	session matching.SessionID
	id      string
}

func newGenerator(src genSource) *generator {
	g := &generator{
		src:     src,
		now:     startTime,
		syms:    genSymbols(),
		accts:   genAccounts(),
		live:    make(map[matching.OrderID]matching.OrderView),
		livePos: make(map[matching.OrderID]int),
		done:    make([]matching.OrderView, 0, 64),
		levels:  make(map[levelKey]int64),
		lastPx:  make(map[matching.SymbolID]int64),
		halted:  make(map[matching.SymbolID]bool),
		killed:  make(map[matching.AccountID]bool),
	}
	for i := range g.syms {
		sp := g.syms[i]
		g.lastPx[sp.ID] = sp.RefPx
		g.boot = append(g.boot, matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &sp})
	}
	for _, t := range genTiers {
		g.boot = append(g.boot, matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: uint8(t[0]), MakerPpm: t[1], TakerPpm: t[2]})
	}
	for i := range g.accts {
		sp := g.accts[i]
		g.boot = append(g.boot, matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &sp})
	}
	for _, a := range g.accts {
		deposits := []struct {
			asset  matching.AssetID
			amount int64
		}{{assetBTC, 1_000_000_000_000}, {assetUSD, 400_000_000_000_000_000}, {assetEUR, 300_000_000_000_000_000}}
		if isPoor(a.ID) {
			deposits[0].amount = 1_000_000_000
			deposits[1].amount = 200_000_000_000_000
			deposits[2].amount = 200_000_000_000_000
		}
		for _, d := range deposits {
			g.boot = append(g.boot, matching.Command{Kind: matching.CmdDeposit, Account: a.ID, Asset: d.asset,
				Amount: d.amount, Key: g.newKey("d")})
		}
	}
	return g
}

// ---- choices ----

func (g *generator) n(n int) int { return g.src.IntN(n) }

// chance is true with probability p/1000.
func (g *generator) chance(pPerMille int) bool { return g.n(1000) < pPerMille }

func (g *generator) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	span := hi - lo + 1
	if span <= 1<<30 {
		return lo + int64(g.n(int(span)))
	}
	// Two draws for wide spans; the bias does not matter here.
	v := int64(g.n(1<<30))<<30 | int64(g.n(1<<30))
	return lo + v%span
}

// weighted returns an index chosen with the given weights.
func (g *generator) weighted(w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	r := g.n(total)
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

func (g *generator) newKey(prefix string) string {
	g.keySeq++
	k := fmt.Sprintf("%s%d", prefix, g.keySeq)
	if prefix == "d" {
		g.depKeys = append(g.depKeys, k)
	} else {
		g.holdKeys = append(g.holdKeys, k)
	}
	return k
}

// clOrdID returns a fresh id, an empty one, or now and then one the session
// used before.
func (g *generator) clOrdID(session matching.SessionID) string {
	switch g.weighted(90, 5, 5) {
	case 1:
		return ""
	case 2:
		if len(g.recentCl) > 0 {
			r := g.recentCl[g.n(len(g.recentCl))]
			if g.chance(700) || r.session == session {
				return r.id
			}
		}
	}
	g.clSeq++
	id := fmt.Sprintf("c%d", g.clSeq)
	if len(g.recentCl) < 64 {
		g.recentCl = append(g.recentCl, clRef{session, id})
	} else {
		g.recentCl[g.n(64)] = clRef{session, id}
	}
	return id
}

func (g *generator) symbol(id matching.SymbolID) *matching.SymbolSpec {
	for i := range g.syms {
		if g.syms[i].ID == id {
			return &g.syms[i]
		}
	}
	return nil
}

func (g *generator) pickAccount() matching.AccountSpec { return g.accts[g.n(len(g.accts))] }

// firmFor is the firm a command claims: usually the account's, sometimes
// the venue's (0), rarely someone else's.
func (g *generator) firmFor(a matching.AccountSpec) matching.FirmID {
	switch g.weighted(88, 9, 3) {
	case 1:
		return 0
	case 2:
		return matching.FirmID(1 + g.n(4))
	}
	return a.Firm
}

func (g *generator) sessionFor(a matching.AccountID) matching.SessionID {
	if g.chance(50) {
		return operatorSession
	}
	return sessionOf(a)
}

// touch returns the best bid and ask the generator knows of.
func (g *generator) touch(sym matching.SymbolID) (bid, ask int64) {
	for k, q := range g.levels {
		if k.sym != sym || q == 0 {
			continue
		}
		if k.side == matching.Buy && k.px > bid {
			bid = k.px
		}
		if k.side == matching.Sell && (ask == 0 || k.px < ask) {
			ask = k.px
		}
	}
	return bid, ask
}

// grid is the price step the generator mostly thinks in: a few ticks for
// BTC-USD; for BTC-EUR, whose band is narrow, a fiftieth of the band so
// that market orders, stops and replaces run into it.
func grid(sp *matching.SymbolSpec) int64 {
	if sp.BandBps < 100 {
		return sp.TickSize * 100
	}
	return sp.TickSize * 10
}

func roundTick(px, tick int64) int64 { return px / tick * tick }

// price picks a limit price near the touch: buys mostly a little below the
// mid, sells above, and a share of each crossing.
func (g *generator) price(sp *matching.SymbolSpec, side matching.Side) int64 {
	bid, ask := g.touch(sp.ID)
	mid := g.lastPx[sp.ID]
	if bid > 0 && ask > 0 {
		mid = (bid + ask) / 2
	}
	off := g.between(-12, 6) * grid(sp)
	if side == matching.Sell {
		off = -off
	}
	px := roundTick(mid+off, sp.TickSize)
	switch g.weighted(970, 10, 10, 5, 5) {
	case 1: // off tick, where the tick allows it
		px += sp.TickSize / 2
	case 2: // outside the band
		if side == matching.Buy {
			px = roundTick(mid*13/10, sp.TickSize)
		} else {
			px = roundTick(mid*7/10, sp.TickSize)
		}
	case 3:
		px = 0
	case 4:
		px = -sp.TickSize
	}
	return px
}

// qty picks a quantity, log-uniform between the minimum and 10 BTC, now and
// then bad or huge.
func (g *generator) qty(sp *matching.SymbolSpec) int64 {
	switch g.weighted(960, 8, 8, 8, 8, 8) {
	case 1:
		return 0
	case 2:
		return sp.MinQty - sp.QtyStep
	case 3:
		return sp.MinQty + sp.QtyStep/2 + 1 // off step where the step allows
	case 4:
		return sp.MaxQty + sp.QtyStep
	case 5:
		return roundTick(g.between(sp.MaxQty/100, sp.MaxQty), sp.QtyStep)
	}
	exp := g.between(0, 5) // 10^4 .. 10^9
	q := sp.MinQty
	for range exp {
		q *= 10
	}
	return roundTick(g.between(sp.MinQty, q), sp.QtyStep)
}

// ---- tracking ----

// observe learns from the events one command produced.
func (g *generator) observe(evs []matching.Event) {
	for i := range evs {
		ev := &evs[i]
		switch ev.Kind {
		case matching.EvTrade:
			g.lastPx[ev.Symbol] = ev.Px
			g.track(ev.Order)
			g.track(ev.Maker)
		case matching.EvAccepted, matching.EvCanceled, matching.EvExpired, matching.EvReplaced,
			matching.EvRestated, matching.EvTriggered:
			g.track(ev.Order)
		case matching.EvLevel:
			k := levelKey{ev.Symbol, ev.Side, ev.Px}
			if ev.Qty == 0 {
				delete(g.levels, k)
			} else {
				g.levels[k] = ev.Qty
			}
		case matching.EvSymbolStatus:
			g.halted[ev.Symbol] = ev.Status != matching.StatusOpen
		case matching.EvKillSwitch:
			if ev.Reason == 0 {
				g.killed[ev.Account] = ev.Flag
			}
		}
	}
}

func (g *generator) track(v matching.OrderView) {
	if v.ID == 0 {
		return
	}
	g.maxID = max(g.maxID, v.ID)
	switch v.Status {
	case matching.StatusFilled, matching.StatusCanceled, matching.StatusExpired:
		if i, ok := g.livePos[v.ID]; ok {
			last := len(g.liveIDs) - 1
			g.liveIDs[i] = g.liveIDs[last]
			g.livePos[g.liveIDs[i]] = i
			g.liveIDs = g.liveIDs[:last]
			delete(g.livePos, v.ID)
			delete(g.live, v.ID)
		}
		if len(g.done) < cap(g.done) {
			g.done = append(g.done, v)
		} else {
			g.done[g.doneAt] = v
			g.doneAt = (g.doneAt + 1) % len(g.done)
		}
	default:
		if _, ok := g.livePos[v.ID]; !ok {
			g.livePos[v.ID] = len(g.liveIDs)
			g.liveIDs = append(g.liveIDs, v.ID)
		}
		g.live[v.ID] = v
	}
}

// ---- commands ----

// next returns the next command, stamped with Seq and Time.
func (g *generator) next() matching.Command {
	var c matching.Command
	if len(g.boot) > 0 {
		c = g.boot[0]
		g.boot = g.boot[1:]
	} else if len(g.pending) > 0 {
		c = g.pending[0]
		g.pending = g.pending[1:]
	} else {
		c = g.command()
	}
	g.seq++
	c.Seq = g.seq
	if g.chance(300) {
		g.now += g.between(1, 2_000_000)
	}
	c.Time = g.now
	return c
}

func (g *generator) command() matching.Command {
	// Let halts and kill switches end soon after they start.
	for _, sp := range g.syms {
		if g.halted[sp.ID] && g.chance(100) {
			return matching.Command{Kind: matching.CmdSetStatus, Symbol: sp.ID, Status: matching.StatusOpen}
		}
	}
	for _, a := range g.accts {
		if g.killed[a.ID] && g.chance(50) {
			return matching.Command{Kind: matching.CmdKillSwitch, Session: operatorSession, Account: a.ID}
		}
	}
	cancels := 1000
	if len(g.liveIDs) > 300 {
		cancels = 5000 // keep the book at a few hundred orders
	}
	switch g.weighted(5600, cancels, 1200, 10, 5, 15, 10, 100, 300, 20, 400, 60, 5, 4, 15, 6) {
	case 0:
		return g.newOrder()
	case 1:
		return g.cancel()
	case 2:
		return g.replace()
	case 3:
		return g.massCancel()
	case 4:
		return matching.Command{Kind: matching.CmdSessionClose, Session: operatorSession, Symbol: g.someSymbol()}
	case 5:
		return g.setStatus()
	case 6:
		a := g.pickAccount()
		if g.chance(100) {
			a.ID = matching.AccountID(g.n(3)) // reserved or unknown
		}
		return matching.Command{Kind: matching.CmdKillSwitch, Session: sessionOf(a.ID), Firm: g.firmFor(a),
			Account: a.ID, Flag: g.chance(800)}
	case 7:
		return g.deposit()
	case 8:
		return g.withdrawal()
	case 9:
		return matching.Command{Kind: matching.CmdNewDay}
	case 10:
		g.now += g.between(1, 5_000_000_000)
		return matching.Command{Kind: matching.CmdClock}
	case 11:
		return g.refData()
	case 13:
		return g.drain()
	case 14:
		return g.stopCluster()
	case 15:
		return g.undrain()
	}
	return matching.Command{Kind: matching.CmdKind(17 + g.n(200))} // not a command
}

// drain withdraws an account's available quote almost to the last unit with
// halving holds, so that what it does next runs short of funds (a stop
// that triggers, a replace that grows). Later releases give it back.
func (g *generator) drain() matching.Command {
	account := g.pickAccount().ID
	asset := []matching.AssetID{assetUSD, assetEUR}[g.n(2)]
	// Mostly the account of a waiting buy stop, in the asset it holds.
	for range 20 {
		if len(g.liveIDs) == 0 {
			break
		}
		v := g.live[g.liveIDs[g.n(len(g.liveIDs))]]
		if v.Type == matching.Stop && v.Side == matching.Buy && !v.Triggered {
			account = v.Account
			asset = g.symbol(v.Symbol).Quote
			break
		}
	}
	g.pending = append(g.pending, g.drainHolds(account, asset)...)
	return g.next1()
}

func (g *generator) drainHolds(account matching.AccountID, asset matching.AssetID) []matching.Command {
	var cs []matching.Command
	var keys []string
	for k := 58; k >= 0; k-- {
		cs = append(cs, matching.Command{Kind: matching.CmdWithdrawHold, Session: operatorSession,
			Account: account, Asset: asset, Amount: 1 << k, Key: g.newKey("w")})
		keys = append(keys, cs[len(cs)-1].Key)
	}
	g.drains = append(g.drains, keys)
	return cs
}

// undrain releases (or settles) the holds of the oldest drain, so that
// open holds stay few and drained accounts trade again.
func (g *generator) undrain() matching.Command {
	if len(g.drains) == 0 {
		return matching.Command{Kind: matching.CmdClock}
	}
	keys := g.drains[0]
	g.drains = g.drains[1:]
	for _, k := range keys {
		kind := matching.CmdWithdrawRelease
		if g.chance(200) {
			kind = matching.CmdWithdrawSettle
		}
		g.pending = append(g.pending, matching.Command{Kind: kind, Session: operatorSession, Key: k})
	}
	return g.next1()
}

// stopCluster places a few stops just beyond the last price on one side and
// then a market order that runs through them: triggers in one loop, each
// moving the band for the next (ReasonTriggerBand). Now and then the owner
// of a buy stop is drained first (ReasonTriggerFunds).
func (g *generator) stopCluster() matching.Command {
	sp := &g.syms[g.n(len(g.syms))]
	side := matching.Side(1 + g.n(2))
	last := g.lastPx[sp.ID]
	dir := int64(1)
	if side == matching.Sell {
		dir = -1
	}
	stop := roundTick(last+dir*grid(sp), sp.TickSize)
	var drain []matching.Command
	for range 2 + g.n(3) {
		a := g.pickAccount()
		c := matching.Command{Kind: matching.CmdNewOrder, Session: sessionOf(a.ID), Firm: a.Firm, Account: a.ID,
			Symbol: sp.ID, Side: side, Type: matching.Stop, TIF: matching.IOC, StopPx: stop, Qty: g.qty(sp)}
		c.ClOrdID = g.clOrdID(c.Session)
		if g.chance(500) {
			c.Type = matching.StopLimit
			c.TIF = []matching.TIF{matching.Day, matching.GTC, matching.IOC}[g.n(3)]
			c.Px = stop + dir*g.between(0, 1)*grid(sp)
		} else if side == matching.Buy && drain == nil && g.chance(300) {
			drain = g.drainHolds(a.ID, sp.Quote)
		}
		g.pending = append(g.pending, c)
	}
	g.pending = append(g.pending, drain...)
	a := g.pickAccount()
	c := matching.Command{Kind: matching.CmdNewOrder, Session: sessionOf(a.ID), Firm: a.Firm, Account: a.ID,
		Symbol: sp.ID, Side: side, Type: matching.Market, TIF: matching.IOC, Qty: roundTick(sp.MinQty*100_000, sp.QtyStep)}
	c.ClOrdID = g.clOrdID(c.Session)
	g.pending = append(g.pending, c)
	return g.next1()
}

// next1 takes the first pending command of a scenario.
func (g *generator) next1() matching.Command {
	c := g.pending[0]
	g.pending = g.pending[1:]
	return c
}

func (g *generator) someSymbol() matching.SymbolID {
	if g.chance(30) {
		return 7 // unknown
	}
	return g.syms[g.n(len(g.syms))].ID
}

func (g *generator) newOrder() matching.Command {
	a := g.pickAccount()
	c := matching.Command{Kind: matching.CmdNewOrder, Account: a.ID, Firm: g.firmFor(a), Session: g.sessionFor(a.ID)}
	if g.chance(15) {
		c.Account = matching.AccountID(g.n(4)) * 33 % 34 // 0, 1 (reserved), 33, 32 (unknown)
	}
	c.Symbol = g.someSymbol()
	sp := g.symbol(c.Symbol)
	if sp == nil {
		sp = &g.syms[0]
	}
	c.Side = matching.Side(1 + g.n(2))
	if g.chance(5) {
		c.Side = matching.Side(g.n(2) * 3) // 0 or 3
	}
	c.Type = []matching.OrdType{matching.Limit, matching.Market, matching.Stop, matching.StopLimit, 0, 5}[g.weighted(600, 120, 120, 150, 3, 2)]
	c.TIF = []matching.TIF{matching.Day, matching.GTC, matching.IOC, matching.FOK, matching.GTD, 2, 5}[g.weighted(330, 300, 150, 80, 130, 2, 2)]
	c.STP = []matching.STPMode{0, 'O', 'N', 'B', 'D', 'X'}[g.weighted(600, 100, 100, 100, 100, 3)]
	c.PostOnly = g.chance(80)
	c.ClOrdID = g.clOrdID(c.Session)
	c.Qty = g.qty(sp)
	if c.TIF == matching.GTD || g.chance(20) {
		c.ExpireTime = g.now + g.between(1, 300_000_000_000)
		if g.chance(40) {
			c.ExpireTime = g.now - g.between(0, 1_000_000)
		}
	}
	last := g.lastPx[sp.ID]
	switch c.Type {
	case matching.Limit:
		c.Px = g.price(sp, c.Side)
	case matching.Stop, matching.StopLimit:
		// Stops a few grid steps beyond the last price, sometimes already
		// reached.
		d := g.between(1, 15) * grid(sp)
		if g.chance(40) {
			d = -g.between(0, 3) * grid(sp)
		}
		if c.Side == matching.Sell {
			d = -d
		}
		c.StopPx = roundTick(last+d, sp.TickSize)
		if c.Type == matching.StopLimit {
			lim := g.between(0, 8) * grid(sp)
			if g.chance(30) {
				lim = -grid(sp) // stop on the wrong side of the limit
			}
			if c.Side == matching.Sell {
				lim = -lim
			}
			c.Px = c.StopPx + lim
		}
		if g.chance(10) {
			c.StopPx += sp.TickSize / 2
		}
	}
	if g.chance(8) {
		c.Px = g.price(sp, c.Side) // a price where there should be none
	}
	if g.chance(8) {
		c.StopPx = g.price(sp, c.Side)
	}
	return c
}

// target picks an order for a cancel or replace: usually a live one,
// sometimes one that is done, sometimes one that never was.
func (g *generator) target() (matching.OrderView, bool) {
	switch g.weighted(85, 10, 5) {
	case 0:
		if len(g.liveIDs) > 0 {
			return g.live[g.liveIDs[g.n(len(g.liveIDs))]], true
		}
	case 1:
		if len(g.done) > 0 {
			return g.done[g.n(len(g.done))], false
		}
	}
	a := g.pickAccount()
	return matching.OrderView{ID: g.maxID + 1 + matching.OrderID(g.n(3)), ClOrdID: fmt.Sprintf("x%d", g.n(100)),
		Session: sessionOf(a.ID), Account: a.ID, Symbol: symUSD, Side: matching.Buy, Type: matching.Limit,
		Px: 6_000_000, Qty: 100_000}, false
}

// address fills how a cancel or replace names its order.
func (g *generator) address(c *matching.Command, v matching.OrderView) {
	a := g.accountSpec(v.Account)
	c.Firm = g.firmFor(a)
	c.Session = v.Session
	switch g.weighted(45, 20, 35) {
	case 0:
		c.OrderID = v.ID
		if g.chance(200) {
			c.Session = operatorSession
		}
	case 1:
		c.OrderID = v.ID
		c.OrigClOrdID = v.ClOrdID
		if g.chance(100) {
			c.OrigClOrdID = "wrong"
		}
	default:
		c.OrigClOrdID = v.ClOrdID
	}
	c.ClOrdID = g.clOrdID(c.Session)
}

func (g *generator) accountSpec(id matching.AccountID) matching.AccountSpec {
	for _, a := range g.accts {
		if a.ID == id {
			return a
		}
	}
	return matching.AccountSpec{ID: id}
}

func (g *generator) cancel() matching.Command {
	v, _ := g.target()
	c := matching.Command{Kind: matching.CmdCancel, Account: v.Account, Symbol: v.Symbol, Side: v.Side}
	g.address(&c, v)
	return c
}

func (g *generator) replace() matching.Command {
	v, _ := g.target()
	c := matching.Command{Kind: matching.CmdReplace, Account: v.Account, Symbol: v.Symbol, Side: v.Side,
		Type: v.Type, TIF: v.TIF, STP: v.STP, PostOnly: v.PostOnly, ExpireTime: v.ExpireTime, Px: v.Px, StopPx: v.StopPx}
	g.address(&c, v)
	sp := g.symbol(v.Symbol)
	if sp == nil {
		sp = &g.syms[0]
	}
	switch g.weighted(970, 10, 10, 10) {
	case 1:
		c.Side = 3 - c.Side
	case 2:
		c.Type = matching.Limit + matching.StopLimit - c.Type
	case 3:
		c.TIF = matching.GTC + matching.Day - c.TIF
	}
	// Quantity: mostly around the old one, sometimes at or below what is
	// filled, sometimes bad.
	switch g.weighted(800, 80, 120) {
	case 0:
		c.Qty = roundTick(max(v.Cum+sp.QtyStep, v.Qty*int64(50+g.n(100))/100), sp.QtyStep)
	case 1:
		c.Qty = roundTick(g.between(0, v.Cum), sp.QtyStep)
	default:
		c.Qty = g.qty(sp)
	}
	// Price: keep it, or move it a few grid steps.
	if c.Px != 0 && g.chance(600) {
		c.Px = roundTick(c.Px+g.between(-4, 4)*grid(sp), sp.TickSize)
		if c.Type == matching.StopLimit && !v.Triggered && c.StopPx != 0 {
			// keep the stop on the right side of the limit, mostly
			if c.Side == matching.Buy {
				c.Px = max(c.Px, c.StopPx)
			} else {
				c.Px = min(c.Px, c.StopPx)
			}
		}
	}
	if c.StopPx != 0 && !v.Triggered && g.chance(300) {
		d := g.between(-3, 3) * grid(sp)
		c.StopPx = roundTick(c.StopPx+d, sp.TickSize)
		if c.Type == matching.StopLimit {
			if c.Side == matching.Buy {
				c.Px = max(c.Px, c.StopPx)
			} else {
				c.Px = min(c.Px, c.StopPx)
			}
		}
	}
	if g.chance(20) {
		c.Px = g.price(sp, c.Side)
	}
	if g.chance(10) {
		c.StopPx = g.price(sp, c.Side)
	}
	return c
}

func (g *generator) massCancel() matching.Command {
	a := g.pickAccount()
	c := matching.Command{Kind: matching.CmdMassCancel, Session: sessionOf(a.ID), Firm: a.Firm}
	switch g.weighted(30, 30, 30, 10) {
	case 0:
		c.Account = a.ID
	case 1:
		c.Firm = 0
		c.Session = operatorSession
	case 2:
		c.OnlySession = true
	default:
		c.Account = matching.AccountID(g.n(40)) // often unknown, sometimes another firm's
	}
	if g.chance(400) {
		c.Symbol = g.someSymbol()
	}
	if g.chance(300) {
		c.Side = matching.Side(1 + g.n(2))
	}
	c.Reason = []matching.Reason{0, matching.ReasonMassCancel, matching.ReasonDisconnect, matching.ReasonAdmin}[g.n(4)]
	return c
}

func (g *generator) setStatus() matching.Command {
	c := matching.Command{Kind: matching.CmdSetStatus, Session: operatorSession, Symbol: g.someSymbol()}
	c.Status = []matching.SymbolStatus{matching.StatusHalted, matching.StatusClosed, matching.StatusOpen, 0, 4}[g.weighted(50, 20, 20, 5, 5)]
	c.Flag = g.chance(100)
	return c
}

func (g *generator) deposit() matching.Command {
	a := g.pickAccount()
	c := matching.Command{Kind: matching.CmdDeposit, Session: operatorSession, Account: a.ID,
		Asset: matching.AssetID(g.n(3))}
	if c.Asset == assetBTC {
		c.Amount = g.between(1, 10_000_000_000)
	} else {
		c.Amount = g.between(1, 50_000_000_000_000_000)
	}
	if isPoor(a.ID) {
		c.Amount /= 1000
	}
	c.Key = g.newKey("d")
	switch g.weighted(900, 15, 15, 15, 15, 15, 15, 10) {
	case 1:
		c.Key = g.depKeys[g.n(len(g.depKeys))]
	case 2:
		c.Key = ""
	case 3:
		c.Account = matching.AccountID(g.n(2)) // External or Fee
	case 4:
		c.Account = 99
	case 5:
		c.Amount = -g.between(0, 5)
	case 6:
		c.Asset = matching.AssetID(matching.MaxAssets + g.n(3))
	case 7:
		c.Amount = math.MaxInt64 - g.between(0, 1000)
	}
	return c
}

func (g *generator) withdrawal() matching.Command {
	c := matching.Command{Session: operatorSession}
	switch g.weighted(40, 30, 30) {
	case 0:
		a := g.pickAccount()
		c.Kind = matching.CmdWithdrawHold
		c.Account = a.ID
		c.Asset = matching.AssetID(g.n(3))
		if c.Asset == assetBTC {
			c.Amount = g.between(1, 5_000_000_000)
		} else {
			c.Amount = g.between(1, 20_000_000_000_000_000)
		}
		if g.chance(50) {
			c.Amount *= 100 // more than is available, often
		}
		if isPoor(a.ID) {
			c.Amount /= 1000
		}
		c.Key = g.newKey("w")
		if g.chance(50) && len(g.depKeys) > 0 {
			c.Key = g.depKeys[g.n(len(g.depKeys))]
		}
		if g.chance(30) && len(g.holdKeys) > 1 {
			c.Key = g.holdKeys[g.n(len(g.holdKeys)-1)]
		}
		if g.chance(10) {
			c.Asset = matching.MaxAssets
		}
		return c
	case 1:
		c.Kind = matching.CmdWithdrawRelease
	default:
		c.Kind = matching.CmdWithdrawSettle
	}
	switch g.weighted(85, 5, 5, 5) {
	case 0:
		if len(g.holdKeys) > 0 {
			// recent keys mostly, so each is released or settled more than
			// once; sometimes any key, so drained accounts recover
			lo := max(0, len(g.holdKeys)-10)
			if g.chance(500) {
				lo = max(0, len(g.holdKeys)-300)
			}
			c.Key = g.holdKeys[lo+g.n(len(g.holdKeys)-lo)]
		}
	case 1:
		c.Key = g.depKeys[g.n(len(g.depKeys))]
	case 2:
		c.Key = "nohold"
	}
	c.Account = g.pickAccount().ID
	c.Amount = g.between(0, 100)
	return c
}

// refData sends mostly invalid reference data, and now and then a valid
// change of an account or a fee tier.
func (g *generator) refData() matching.Command {
	switch g.n(6) {
	case 0: // a symbol that is bad in one field
		sp := g.syms[g.n(len(g.syms))]
		sp.ID = matching.SymbolID(3 + g.n(3))
		switch g.n(9) {
		case 0:
			sp.ID = symUSD // exists
		case 1:
			sp.Quote = sp.Base
		case 2:
			sp.TickSize = 0
		case 3:
			sp.MinQty = sp.QtyStep*3 + 1
		case 4:
			sp.MaxQty = sp.MinQty - 1
		case 5:
			sp.RefPx = sp.RefPx + 1 // off tick when tick > 1
			if sp.TickSize == 1 {
				sp.RefPx = math.MaxInt64/20000 + 1
			}
		case 6:
			sp.BandBps = 10000
		case 7:
			sp.Status = 4
		default:
			sp.ID = 0
		}
		return matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &sp}
	case 1:
		return matching.Command{Kind: matching.CmdAddSymbol}
	case 2: // an account update: valid, or the firm changed, or bad
		i := g.n(len(g.accts))
		sp := g.accts[i]
		switch g.n(6) {
		case 0:
			sp.Firm++
		case 1:
			sp.FeeTier = matching.MaxFeeTiers
		case 2:
			sp.STP = 0
		case 3:
			sp.ID = 1
		default:
			sp.STP = []matching.STPMode{'O', 'N', 'B', 'D'}[g.n(4)]
			sp.FeeTier = uint8(g.n(len(genTiers)))
			sp.STPFirm = g.chance(400)
			sp.MaxOpenOrders = int32(g.n(3) * 20)
			g.accts[i] = sp
		}
		return matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &sp}
	case 3:
		return matching.Command{Kind: matching.CmdAddAccount}
	default: // a fee tier change, sometimes invalid
		c := matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: uint8(g.n(len(genTiers))),
			MakerPpm: g.between(0, 100), TakerPpm: g.between(0, 100)}
		switch g.n(8) {
		case 0:
			c.FeeTier = matching.MaxFeeTiers
		case 1:
			c.MakerPpm = -1
		case 2:
			c.TakerPpm = 1_000_001
		}
		return c
	}
}
