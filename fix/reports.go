package fix

import (
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"

	"venue/matching"
	"venue/refdata"
)

func newMsg(msgType string) *quickfix.Message {
	m := quickfix.NewMessage()
	m.Header.SetString(tagMsgType, msgType)
	return m
}

func setDec(m *quickfix.Message, tag quickfix.Tag, s string) {
	m.Body.SetField(tag, quickfix.FIXString(s))
}

func utc(nanos int64) quickfix.FIXUTCTimestamp {
	return quickfix.FIXUTCTimestamp{Time: time.Unix(0, nanos).UTC(), Precision: quickfix.Micros}
}

func orderIDString(id matching.OrderID) string {
	if id == 0 {
		return "NONE"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// renderer turns engine state into FIX messages; order entry and drop copy
// share it, so both render one event identically (the same ExecID).
type renderer struct {
	dir *refdata.Directory
	uni *refdata.Universe
	// b is orderReports' scratch body: only the router goroutine that owns
	// this renderer (order entry's, drop copy's) calls orderReports.
	b body
}

// report renders the fields every ExecutionReport carries (FIX.md) into
// b, for ExecType et: the caller adds its own fields and finishes it (the
// routers' reports with done, on their scratch g.b; a session's status
// answer with b.message("8"), on a body of its own).
func (g *renderer) report(b *body, v *matching.OrderView, execID string, et byte, t int64) *refdata.Symbol {
	b.reset()
	if v.ID == 0 {
		b.str(tagOrderID, "NONE")
	} else {
		b.uint(tagOrderID, uint64(v.ID))
	}
	b.str(tagExecID, execID)
	b.str(tagClOrdID, v.ClOrdID)
	b.byteVal(tagExecType, et)
	status := v.Status
	if status == 0 {
		status = matching.StatusNew
	}
	b.byteVal(tagOrdStatus, byte(status))
	b.int(tagSide, int64(v.Side))
	b.utc(tagTransactTime, t)
	if a, ok := g.dir.Account(v.Account); ok {
		b.str(tagAccount, a.Name)
	}
	sym, ok := g.uni.SymbolByID(v.Symbol)
	if !ok {
		b.str(tagSymbol, "")
		for _, tag := range []quickfix.Tag{tagOrderQty, tagCumQty, tagLeavesQty, tagAvgPx} {
			b.str(tag, "0")
		}
		return nil
	}
	b.str(tagSymbol, sym.Name)
	if v.Type != 0 {
		b.int(tagOrdType, int64(v.Type))
		b.int(tagTimeInForce, int64(v.TIF))
	}
	if (v.Type == matching.Limit || v.Type == matching.StopLimit) && v.Px > 0 {
		b.appendFn(tagPrice, sym.AppendPx, v.Px)
	}
	if (v.Type == matching.Stop || v.Type == matching.StopLimit) && v.StopPx > 0 {
		b.appendFn(tagStopPx, sym.AppendPx, v.StopPx)
	}
	if v.TIF == matching.GTD && v.ExpireTime > 0 {
		b.utc(tagExpireTime, v.ExpireTime)
	}
	leaves := v.Leaves
	if isDone(status) {
		leaves = 0
	}
	b.appendFn(tagOrderQty, sym.AppendQty, v.Qty)
	b.appendFn(tagCumQty, sym.AppendQty, v.Cum)
	b.appendFn(tagLeavesQty, sym.AppendQty, leaves)
	i := b.begin(tagAvgPx)
	b.vals = sym.AppendAvgPx(b.vals, v.Notional, v.Cum)
	b.end(i)
	return sym
}

// execID is the ExecID of the i-th event of the command seq; side tells the
// maker's copy of a trade from the taker's. The same event has the same
// ExecID wherever it is reported (order entry, drop copy, after restart).
func execID(seq uint64, i int, side string) string {
	b := make([]byte, 0, 32)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, side...)
	return string(b)
}

// render returns the messages one event sends to order-entry sessions,
// each with the session it is for. cmd is the command that caused it.
func (g *OrderEntry) render(ev *matching.Event, i int, cmd *matching.Command, out []addressed) []addressed {
	if ev.Kind == matching.EvCancelRejected {
		return append(out, addressed{cmd.Session, outMsg{msg: g.cancelReject(ev, cmd)}})
	}
	var reps [2]orderReport
	for _, r := range g.orderReports(ev, i, reps[:0]) {
		out = append(out, addressed{r.v.Session, rawReport(r)})
	}
	return out
}

// orderReport is an ExecutionReport with the order it reports on: its
// body (the fields after the header) and the body's byte sum. The senders
// queue bodies with quickfix.SendRawBatchToTarget (outmsg.go), which
// writes only the header around them; the drop copy sends one body to
// many sessions.
type orderReport struct {
	v    *matching.OrderView
	body []byte
	sum  int
}

// done finishes the report on v rendered into g.b.
func (g *renderer) done(v *matching.OrderView) orderReport {
	body, sum := g.b.bytes()
	return orderReport{v: v, body: body, sum: sum}
}

// orderReports renders the ExecutionReports of one event: one per order it
// concerns (a trade concerns two), none for events that are not about an
// order's execution (cancel rejects, levels, balances, reference data).
func (g *renderer) orderReports(ev *matching.Event, i int, out []orderReport) []orderReport {
	b := &g.b
	switch ev.Kind {
	case matching.EvAccepted:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), '0', ev.Time)
	case matching.EvRejected:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), '8', ev.Time)
		b.int(tagOrdRejReason, int64(ev.Reason.OrdRejReason()))
		b.str(tagText, ev.Reason.String())
	case matching.EvTrade:
		for _, side := range [...]tradeSide{{&ev.Maker, ev.MakerFee, 1, "M"}, {&ev.Order, ev.TakerFee, 2, "T"}} {
			out = append(out, g.fill(ev, i, side))
		}
		return out
	case matching.EvCanceled:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), '4', ev.Time)
		if ev.Reason == matching.ReasonClient && ev.Order.OrigClOrdID != "" {
			b.str(tagOrigClOrdID, ev.Order.OrigClOrdID)
		}
		b.str(tagText, ev.Reason.String())
	case matching.EvReplaced:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), '5', ev.Time)
		if ev.Order.OrigClOrdID != "" {
			b.str(tagOrigClOrdID, ev.Order.OrigClOrdID)
		}
	case matching.EvRestated:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), 'D', ev.Time)
		b.str(tagText, matching.ReasonSelfTrade.String()+": quantity decremented")
	case matching.EvExpired:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), 'C', ev.Time)
		b.str(tagText, ev.Reason.String())
	case matching.EvTriggered:
		g.report(b, &ev.Order, execID(ev.Seq, i, ""), 'L', ev.Time)
	default:
		return out
	}
	return append(out, g.done(&ev.Order))
}

// tradeSide is one order's side of a trade: maker (liq 1, "M") or taker.
type tradeSide struct {
	v   *matching.OrderView
	fee int64
	liq int
	tag string
}

// fill renders one side of a trade as a 150=F ExecutionReport.
func (g *renderer) fill(ev *matching.Event, i int, side tradeSide) orderReport {
	b := &g.b
	if sym := g.report(b, side.v, execID(ev.Seq, i, side.tag), 'F', ev.Time); sym != nil {
		b.appendFn(tagLastPx, sym.AppendPx, ev.Px)
		b.appendFn(tagLastQty, sym.AppendQty, ev.Qty)
		b.appendFn(tagCommission, sym.AppendQuote, side.fee)
		b.str(tagCommType, "3")
		b.str(tagCommCurrency, sym.Quote)
	}
	b.int(tagLastLiquidityInd, int64(side.liq))
	b.uint(tagTrdMatchID, ev.TradeID)
	return g.done(side.v)
}

type addressed struct {
	session matching.SessionID
	m       outMsg
}

// cancelReject renders EvCancelRejected as an OrderCancelReject.
func (g *OrderEntry) cancelReject(ev *matching.Event, cmd *matching.Command) *quickfix.Message {
	status := ev.Order.Status
	if status == 0 {
		status = matching.StatusRejected
		if ev.Order.ID != 0 {
			if v, _, ok := g.orders.byOrderID(ev.Order.ID); ok {
				status = v.Status
			}
		}
	}
	to := 1
	if cmd.Kind == matching.CmdReplace {
		to = 2
	}
	return cancelRejectMsg(ev.Order.ID, ev.Order.ClOrdID, ev.Order.OrigClOrdID, status, to, ev.Reason.CxlRejReason(), ev.Reason.String())
}

func cancelRejectMsg(id matching.OrderID, cl, orig string, status matching.OrdStatus, to, reason int, text string) *quickfix.Message {
	m := newMsg("9")
	b := &m.Body
	b.SetString(tagOrderID, orderIDString(id))
	b.SetString(tagClOrdID, cl)
	b.SetString(tagOrigClOrdID, orig)
	b.SetString(tagOrdStatus, string(rune(status)))
	b.SetInt(tagCxlRejResponseTo, to)
	b.SetInt(tagCxlRejReason, reason)
	b.SetString(tagText, text)
	return m
}

// massCancelReport renders the answer to an OrderMassCancelRequest.
// refused is the engine's reason when it refused the request (an unknown
// account), else ReasonNone.
func massCancelReport(cmd *matching.Command, seq uint64, count int64, t int64, sym *refdata.Symbol, refused matching.Reason) *quickfix.Message {
	m := newMsg("r")
	b := &m.Body
	reqType := "7"
	if cmd.Symbol != 0 {
		reqType = "1"
	}
	b.SetString(tagClOrdID, cmd.ClOrdID)
	b.SetString(tagOrderID, "MC-"+strconv.FormatUint(seq, 10))
	b.SetString(tagMassCancelReqType, reqType)
	b.SetString(tagMassCancelResponse, reqType)
	b.SetField(tagTotalAffected, quickfix.FIXInt(count))
	if refused != matching.ReasonNone {
		b.SetString(tagMassCancelResponse, "0")
		b.SetInt(tagMassCancelRejRsn, 99)
		b.SetString(tagText, refused.String())
	}
	if sym != nil {
		b.SetString(tagSymbol, sym.Name)
	}
	if cmd.Side != 0 {
		b.SetString(tagSide, strconv.Itoa(int(cmd.Side)))
	}
	b.SetField(tagTransactTime, utc(t))
	return m
}
