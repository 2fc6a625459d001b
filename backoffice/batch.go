package backoffice

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// Columns of the tables the projector copies into, in the order of the
// rows a batch builds.
var (
	orderCols = []string{"order_id", "cl_ord_id", "orig_cl_ord_id", "session_id", "account_id", "symbol_id",
		"side", "ord_type", "tif", "stp", "post_only", "price", "stop_px", "qty", "cum_qty", "leaves_qty",
		"notional", "avg_px", "fees", "status", "expire_time", "triggered",
		"created_seq", "updated_seq", "created_at", "updated_at"}
	execCols = []string{"exec_id", "seq", "event_index", "exec_type", "ord_status", "order_id", "cl_ord_id",
		"orig_cl_ord_id", "session_id", "account_id", "symbol_id", "side", "ord_type", "tif", "price", "qty",
		"cum_qty", "leaves_qty", "avg_px", "last_px", "last_qty", "commission", "liquidity", "trade_id",
		"reason", "ord_rej_reason", "text", "transact_time"}
	tradeCols = []string{"trade_id", "seq", "event_index", "symbol_id", "price", "qty", "notional", "aggressor",
		"maker_order_id", "maker_account_id", "maker_fee", "taker_order_id", "taker_account_id", "taker_fee",
		"traded_at"}
	postingCols = []string{"seq", "event_index", "posting_index", "account_id", "asset_id", "amount", "kind",
		"ref", "posted_at"}
	movementCols = []string{"seq", "event_index", "kind", "account_id", "asset_id", "amount", "key", "reason", "at"}
)

// units are one symbol's scales.
type units struct {
	sym          *refdata.Symbol
	px, qty, quo scale
}

// converter turns engine integers into the decimals of the reference data.
// A symbol or asset listed after it was made (`venue admin symbol add`)
// is looked up in the universe when its first event arrives. One
// goroutine uses a converter.
type converter struct {
	uni     *refdata.Universe
	symbols map[matching.SymbolID]*units
	assets  [matching.MaxAssets]*scale
}

func newConverter(uni *refdata.Universe) *converter {
	return &converter{uni: uni, symbols: map[matching.SymbolID]*units{}}
}

// batch is the rows of consecutive commands, converted as they arrive (the
// events they come from are not kept), written by one transaction.
type batch struct {
	first, last uint64 // seqs; first 0: empty
	lastTime    int64
	originTime  int64 // time of seq 1, when the batch holds it
	commands    int
	events      int

	orders     []orderState
	orderIdx   map[matching.OrderID]int
	execs      rowText
	trades     rowText
	postings   rowText
	movements  rowText
	symStates  map[matching.SymbolID][]any
	acctStates map[matching.AccountID][]any
}

// orderState is an order's last state in the batch, formatted at write
// time.
type orderState struct {
	u                 *units
	v                 matching.OrderView
	createdSeq, seq   uint64
	createdTime, time int64
}

func newBatch() *batch {
	return &batch{
		orderIdx:   map[matching.OrderID]int{},
		symStates:  map[matching.SymbolID][]any{},
		acctStates: map[matching.AccountID][]any{},
	}
}

func (b *batch) reset() {
	b.first, b.last, b.lastTime, b.originTime, b.commands, b.events = 0, 0, 0, 0, 0, 0
	b.orders = b.orders[:0]
	b.execs.reset()
	b.trades.reset()
	b.postings.reset()
	b.movements.reset()
	clear(b.orderIdx)
	clear(b.symStates)
	clear(b.acctStates)
}

func (b *batch) empty() bool { return b.first == 0 }

// rows is how many rows the batch will write.
func (b *batch) rows() int {
	return len(b.orders) + b.execs.rows + b.trades.rows + b.postings.rows + b.movements.rows
}

func ts(nanos int64) time.Time { return time.Unix(0, nanos).UTC() }

// execType is FIX ExecType (150) of the events that are ExecutionReports.
func execType(k matching.EventKind) byte {
	switch k {
	case matching.EvAccepted:
		return '0'
	case matching.EvRejected:
		return '8'
	case matching.EvTrade:
		return 'F'
	case matching.EvCanceled:
		return '4'
	case matching.EvReplaced:
		return '5'
	case matching.EvRestated:
		return 'D'
	case matching.EvExpired:
		return 'C'
	case matching.EvTriggered:
		return 'L'
	}
	return 0
}

// balanceKind names a balance command in the ledger.
func balanceKind(k matching.CmdKind) string {
	switch k {
	case matching.CmdDeposit:
		return "deposit"
	case matching.CmdWithdrawHold:
		return "withdraw-hold"
	case matching.CmdWithdrawRelease:
		return "withdraw-release"
	case matching.CmdWithdrawSettle:
		return "withdraw-settle"
	}
	return "balance-" + strconv.Itoa(int(k))
}

// add converts one command's events into rows. Commands must come in seq
// order without gaps; the caller checks against the database.
func (b *batch) add(c *converter, p *sequencer.Published) error {
	if !b.empty() && p.Seq != b.last+1 {
		return fmt.Errorf("backoffice: seq %d follows %d in a batch", p.Seq, b.last)
	}
	if b.empty() {
		b.first = p.Seq
	}
	b.last, b.lastTime = p.Seq, p.Time
	if p.Seq == 1 {
		b.originTime = p.Time
	}
	b.commands++
	b.events += len(p.Events)
	for i := range p.Events {
		ev := &p.Events[i]
		if err := b.addEvent(c, ev, i); err != nil {
			return fmt.Errorf("backoffice: seq %d event %d: %w", p.Seq, i, err)
		}
	}
	return nil
}

func (b *batch) addEvent(c *converter, ev *matching.Event, i int) error {
	switch ev.Kind {
	case matching.EvAccepted, matching.EvRejected, matching.EvCanceled, matching.EvReplaced,
		matching.EvRestated, matching.EvExpired, matching.EvTriggered:
		u, err := c.symbol(ev.Order.Symbol)
		if err != nil {
			if ev.Kind != matching.EvRejected {
				return err
			}
			// A new order for a symbol the venue does not have: reported
			// with zero amounts, as order entry does.
			u = &unknownSymbol
		}
		b.execRow(u, ev, i, &ev.Order, "", execType(ev.Kind), 0, 0)
		if ev.Order.ID != 0 {
			b.putOrder(u, ev, &ev.Order)
		}
	case matching.EvTrade:
		u, err := c.symbol(ev.Order.Symbol)
		if err != nil {
			return err
		}
		b.execRow(u, ev, i, &ev.Maker, "M", 'F', ev.MakerFee, 1)
		b.execRow(u, ev, i, &ev.Order, "T", 'F', ev.TakerFee, 2)
		b.putOrder(u, ev, &ev.Maker)
		b.putOrder(u, ev, &ev.Order)
		t := &b.trades
		t.int(int64(ev.TradeID)).int(int64(ev.Seq)).int(int64(i)).int(int64(ev.Order.Symbol)).
			dec(&u.px, ev.Px).dec(&u.qty, ev.Qty).dec(&u.quo, ev.Px*ev.Qty).int(int64(ev.Aggressor)).
			int(int64(ev.Maker.ID)).int(int64(ev.Maker.Account)).dec(&u.quo, ev.MakerFee).
			int(int64(ev.Order.ID)).int(int64(ev.Order.Account)).dec(&u.quo, ev.TakerFee).
			ts(ev.Time).end()
		if err := b.addPostings(c, ev, i, "trade", strconv.FormatUint(ev.TradeID, 10)); err != nil {
			return err
		}
	case matching.EvBalance:
		a, err := c.asset(ev.Asset)
		if err != nil {
			if ev.Reason == 0 {
				return err
			}
			a = &scale{digits: 0, pow10: true} // a refused command naming no asset: raw units
		}
		kind := balanceKind(ev.Ref)
		b.movements.int(int64(ev.Seq)).int(int64(i)).str(kind).int(int64(ev.Account)).int(int64(ev.Asset)).
			dec(a, ev.Amount).str(ev.Key).int(int64(ev.Reason)).ts(ev.Time).end()
		if err := b.addPostings(c, ev, i, kind, ev.Key); err != nil {
			return err
		}
	case matching.EvSymbolStatus:
		b.symStates[ev.Symbol] = []any{int64(ev.Symbol), int64(ev.Status), int64(ev.Seq), ts(ev.Time)}
	case matching.EvKillSwitch:
		b.acctStates[ev.Account] = []any{int64(ev.Account), ev.Flag, int64(ev.Seq), ts(ev.Time)}
	default:
		// Levels, cancel rejects, mass-cancel counts, reference data and
		// clock events carry nothing the back office keeps.
		if ev.NPostings > 0 {
			return b.addPostings(c, ev, i, "event-"+strconv.Itoa(int(ev.Kind)), "")
		}
	}
	return nil
}

func (b *batch) addPostings(c *converter, ev *matching.Event, i int, kind, ref string) error {
	for j := 0; j < int(ev.NPostings); j++ {
		pst := &ev.Postings[j]
		a, err := c.asset(pst.Asset)
		if err != nil {
			return err
		}
		b.postings.int(int64(ev.Seq)).int(int64(i)).int(int64(j)).int(int64(pst.Account)).int(int64(pst.Asset)).
			dec(a, pst.Amount).str(kind).str(ref).ts(ev.Time).end()
	}
	return nil
}

func (c *converter) symbol(id matching.SymbolID) (*units, error) {
	if u := c.symbols[id]; u != nil {
		return u, nil
	}
	s, ok := c.uni.SymbolByID(id)
	if !ok {
		return nil, fmt.Errorf("symbol %d is not in the reference data", id)
	}
	u := &units{sym: s, px: newScale(s.Tick), qty: newScale(s.QtyStep), quo: newScale(s.QuoteUnit)}
	c.symbols[id] = u
	return u, nil
}

func (c *converter) asset(id matching.AssetID) (*scale, error) {
	if int(id) >= len(c.assets) {
		return nil, fmt.Errorf("asset %d is not in the reference data", id)
	}
	if c.assets[id] == nil {
		a, ok := c.uni.AssetByID(id)
		if !ok {
			return nil, fmt.Errorf("asset %d is not in the reference data", id)
		}
		sc := newScale(a.Unit)
		c.assets[id] = &sc
	}
	return c.assets[id], nil
}

// execRow is one ExecutionReport, its ExecID exactly as fix/reports.go
// makes it; fee and liq only for fills.
func (b *batch) execRow(u *units, ev *matching.Event, i int, v *matching.OrderView, side string, et byte, fee int64, liq int64) {
	status := v.Status
	if status == 0 {
		status = matching.StatusNew
	}
	leaves := v.Leaves
	if isDone(status) {
		leaves = 0
	}
	r := &b.execs
	r.buf = strconv.AppendUint(r.buf, ev.Seq, 10)
	r.buf = append(r.buf, '-')
	r.buf = strconv.AppendInt(r.buf, int64(i), 10)
	r.text(side)
	r.int(int64(ev.Seq)).int(int64(i)).char(et).char(byte(status)).id(uint64(v.ID)).str(v.ClOrdID).
		str(v.OrigClOrdID).int(int64(v.Session)).int(int64(v.Account)).int(int64(v.Symbol)).int(int64(v.Side)).
		int(int64(v.Type)).int(int64(v.TIF)).optDec(&u.px, v.Px).dec(&u.qty, v.Qty).dec(&u.qty, v.Cum).
		dec(&u.qty, leaves).text(avgPx(u, v))
	if et == 'F' {
		r.dec(&u.px, ev.Px).dec(&u.qty, ev.Qty).dec(&u.quo, fee).int(liq).int(int64(ev.TradeID))
	} else {
		r.null().null().null().null().null()
	}
	r.int(int64(ev.Reason))
	if et == '8' {
		r.int(int64(ev.Reason.OrdRejReason()))
	} else {
		r.null()
	}
	if ev.Reason != 0 {
		r.str(ev.Reason.String())
	} else {
		r.text("")
	}
	r.ts(ev.Time).end()
}

func isDone(s matching.OrdStatus) bool {
	switch s {
	case matching.StatusFilled, matching.StatusCanceled, matching.StatusRejected, matching.StatusExpired:
		return true
	}
	return false
}

// unknownSymbol writes every amount as 0.
var unknownSymbol = units{px: scale{unit: decimal.Zero}, qty: scale{unit: decimal.Zero}, quo: scale{unit: decimal.Zero}}

func avgPx(u *units, v *matching.OrderView) string {
	if v.Cum == 0 || u.sym == nil {
		return "0"
	}
	return u.sym.AvgPx(v.Notional, v.Cum).String()
}

// putOrder records an order's state; the last event of a batch wins, the
// first one's seq and time are its creation if the order is new.
func (b *batch) putOrder(u *units, ev *matching.Event, v *matching.OrderView) {
	st := orderState{u: u, v: *v, createdSeq: ev.Seq, seq: ev.Seq, createdTime: ev.Time, time: ev.Time}
	if k, ok := b.orderIdx[v.ID]; ok {
		old := &b.orders[k]
		st.createdSeq, st.createdTime = old.createdSeq, old.createdTime
		*old = st
		return
	}
	b.orderIdx[v.ID] = len(b.orders)
	b.orders = append(b.orders, st)
}

// orderRows formats the batch's order states for orders_stage.
func (b *batch) orderRows(r *rowText) {
	r.reset()
	for k := range b.orders {
		o := &b.orders[k]
		v, u := &o.v, o.u
		status := v.Status
		if status == 0 {
			status = matching.StatusNew
		}
		leaves := v.Leaves
		if isDone(status) {
			leaves = 0
		}
		stp := byte(v.STP)
		if stp == 0 {
			stp = byte(matching.STPCancelAggressor)
		}
		r.int(int64(v.ID)).str(v.ClOrdID).str(v.OrigClOrdID).int(int64(v.Session)).int(int64(v.Account)).
			int(int64(v.Symbol)).int(int64(v.Side)).int(int64(v.Type)).int(int64(v.TIF)).char(stp).
			bool(v.PostOnly).optDec(&u.px, v.Px).optDec(&u.px, v.StopPx).dec(&u.qty, v.Qty).dec(&u.qty, v.Cum).
			dec(&u.qty, leaves).dec(&u.quo, v.Notional).text(avgPx(u, v)).dec(&u.quo, v.Fees).char(byte(status))
		if v.ExpireTime != 0 {
			r.ts(v.ExpireTime)
		} else {
			r.null()
		}
		r.bool(v.Triggered).int(int64(o.createdSeq)).int(int64(o.seq)).ts(o.createdTime).ts(o.time).end()
	}
}
