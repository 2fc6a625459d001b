package fix

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/datadictionary"
	"github.com/shopspring/decimal"

	"venue/config"
	"venue/matching"
	"venue/refdata"
	"venue/spec"
)

// fieldMapReports is the reference for orderReports: the same reports
// rendered field by field through quickfixgo's field maps (execReport),
// as the routers did before they rendered bytes.
func (g *renderer) fieldMapReports(ev *matching.Event, i int) []*quickfix.Message {
	fill := func(side tradeSide) *quickfix.Message {
		sym, _ := g.uni.SymbolByID(ev.Order.Symbol)
		m := g.execReport(side.v, execID(ev.Seq, i, side.tag), 'F', ev.Time)
		if sym != nil {
			setDec(m, tagLastPx, sym.PxDec(ev.Px).String())
			setDec(m, tagLastQty, sym.QtyDec(ev.Qty).String())
			setDec(m, tagCommission, sym.QuoteDec(side.fee).String())
			m.Body.SetString(tagCommType, "3")
			m.Body.SetString(tagCommCurrency, sym.Quote)
		}
		m.Body.SetInt(tagLastLiquidityInd, side.liq)
		m.Body.SetField(tagTrdMatchID, quickfix.FIXString(uintString(ev.TradeID)))
		return m
	}
	m := func(et byte) *quickfix.Message { return g.execReport(&ev.Order, execID(ev.Seq, i, ""), et, ev.Time) }
	switch ev.Kind {
	case matching.EvAccepted:
		return []*quickfix.Message{m('0')}
	case matching.EvRejected:
		r := m('8')
		r.Body.SetInt(tagOrdRejReason, ev.Reason.OrdRejReason())
		r.Body.SetString(tagText, ev.Reason.String())
		return []*quickfix.Message{r}
	case matching.EvTrade:
		return []*quickfix.Message{fill(tradeSide{&ev.Maker, ev.MakerFee, 1, "M"}), fill(tradeSide{&ev.Order, ev.TakerFee, 2, "T"})}
	case matching.EvCanceled:
		r := m('4')
		if ev.Reason == matching.ReasonClient && ev.Order.OrigClOrdID != "" {
			r.Body.SetString(tagOrigClOrdID, ev.Order.OrigClOrdID)
		}
		r.Body.SetString(tagText, ev.Reason.String())
		return []*quickfix.Message{r}
	case matching.EvReplaced:
		r := m('5')
		if ev.Order.OrigClOrdID != "" {
			r.Body.SetString(tagOrigClOrdID, ev.Order.OrigClOrdID)
		}
		return []*quickfix.Message{r}
	case matching.EvRestated:
		r := m('D')
		r.Body.SetString(tagText, matching.ReasonSelfTrade.String()+": quantity decremented")
		return []*quickfix.Message{r}
	case matching.EvExpired:
		r := m('C')
		r.Body.SetString(tagText, ev.Reason.String())
		return []*quickfix.Message{r}
	case matching.EvTriggered:
		return []*quickfix.Message{m('L')}
	}
	return nil
}

func uintString(v uint64) string { return strconv.FormatUint(v, 10) }

// execReport is the reference for report: an order's state as an
// ExecutionReport built field by field through quickfixgo's field maps, as
// the venue rendered every report before it wrote them as bytes.
func (g *renderer) execReport(v *matching.OrderView, execID string, et byte, t int64) *quickfix.Message {
	m := newMsg("8")
	b := &m.Body
	b.SetString(tagOrderID, orderIDString(v.ID))
	b.SetString(tagExecID, execID)
	b.SetString(tagClOrdID, v.ClOrdID)
	b.SetString(tagExecType, string(et))
	status := v.Status
	if status == 0 {
		status = matching.StatusNew
	}
	b.SetString(tagOrdStatus, string(rune(status)))
	b.SetString(tagSide, strconv.Itoa(int(v.Side)))
	b.SetField(tagTransactTime, utc(t))
	if a, ok := g.dir.Account(v.Account); ok {
		b.SetString(tagAccount, a.Name)
	}
	sym, ok := g.uni.SymbolByID(v.Symbol)
	if !ok {
		b.SetString(tagSymbol, "")
		b.SetString(tagOrderQty, "0")
		b.SetString(tagCumQty, "0")
		b.SetString(tagLeavesQty, "0")
		b.SetString(tagAvgPx, "0")
		return m
	}
	b.SetString(tagSymbol, sym.Name)
	if v.Type != 0 {
		b.SetString(tagOrdType, strconv.Itoa(int(v.Type)))
		b.SetString(tagTimeInForce, strconv.Itoa(int(v.TIF)))
	}
	if (v.Type == matching.Limit || v.Type == matching.StopLimit) && v.Px > 0 {
		setDec(m, tagPrice, sym.PxDec(v.Px).String())
	}
	if (v.Type == matching.Stop || v.Type == matching.StopLimit) && v.StopPx > 0 {
		setDec(m, tagStopPx, sym.PxDec(v.StopPx).String())
	}
	if v.TIF == matching.GTD && v.ExpireTime > 0 {
		b.SetField(tagExpireTime, utc(v.ExpireTime))
	}
	leaves := v.Leaves
	if isDone(status) {
		leaves = 0
	}
	setDec(m, tagOrderQty, sym.QtyDec(v.Qty).String())
	setDec(m, tagCumQty, sym.QtyDec(v.Cum).String())
	setDec(m, tagLeavesQty, sym.QtyDec(leaves).String())
	setDec(m, tagAvgPx, sym.AvgPx(v.Notional, v.Cum).String())
	return m
}

// withHeader gives a message the header a session would, and builds it.
func withHeader(m *quickfix.Message) string {
	m.Header.SetString(quickfix.Tag(8), "FIX.4.4")
	m.Header.SetString(quickfix.Tag(49), "VENUE")
	m.Header.SetString(quickfix.Tag(56), "FIRM_A")
	m.Header.SetInt(quickfix.Tag(34), 7)
	m.Header.SetString(quickfix.Tag(52), "20261201-10:00:00.000")
	return m.String()
}

// TestReportsBytesEqualFieldMaps: for random events of every kind over
// orders of every shape (two symbols, known and unknown accounts and
// symbols, every type, TIF and status, odd prices, partial fills at
// several prices), the reports rendered straight to bytes are byte for
// byte the messages the field maps build.
func TestReportsBytesEqualFieldMaps(t *testing.T) {
	cfg := config.Default()
	cfg.Symbols = append(cfg.Symbols, config.Symbol{Name: "BTC-EUR", Tick: dec("0.5"), QtyStep: cfg.Symbols[0].QtyStep,
		MinQty: dec("0.0001"), RefPx: dec("55000"), BandPct: dec("20")})
	uni, err := refdata.FromConfig(cfg.Symbols)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := refdata.Dev(4)
	if err != nil {
		t.Fatal(err)
	}
	g := &renderer{dir: dir, uni: uni}
	rng := rand.New(rand.NewPCG(5, 6))
	kinds := []matching.EventKind{matching.EvAccepted, matching.EvRejected, matching.EvTrade, matching.EvCanceled,
		matching.EvReplaced, matching.EvRestated, matching.EvExpired, matching.EvTriggered}
	order := func() matching.OrderView {
		qty := 1 + rng.Int64N(1<<34)
		cum := rng.Int64N(qty + 1)
		v := matching.OrderView{
			ID: matching.OrderID(rng.Int64N(1 << 40)), ClOrdID: "c" + uintString(rng.Uint64()),
			Account: matching.AccountID(rng.IntN(6)), Symbol: matching.SymbolID(rng.IntN(4)),
			Side: matching.Side(1 + rng.IntN(2)), Type: matching.OrdType(rng.IntN(5)), TIF: matching.TIF(rng.IntN(7)),
			Px: rng.Int64N(1 << 33), StopPx: rng.Int64N(1 << 33), Qty: qty, Cum: cum, Leaves: qty - cum,
			Status:     []matching.OrdStatus{0, matching.StatusNew, matching.StatusPartiallyFilled, matching.StatusFilled, matching.StatusCanceled, matching.StatusRejected, matching.StatusExpired}[rng.IntN(7)],
			ExpireTime: rng.Int64N(1 << 62),
		}
		if rng.IntN(2) == 0 {
			v.Notional = cum * (1 + rng.Int64N(1<<20)) // one price
		} else {
			v.Notional = rng.Int64N(1 << 60) // several
		}
		if rng.IntN(3) == 0 {
			v.OrigClOrdID = "o" + uintString(rng.Uint64())
		}
		return v
	}
	for n := 0; n < 20000; n++ {
		ev := matching.Event{Seq: rng.Uint64N(1 << 50), Time: rng.Int64N(1 << 62), Kind: kinds[rng.IntN(len(kinds))],
			Reason: matching.Reason(rng.IntN(30)), Order: order(), Maker: order(), TradeID: rng.Uint64(),
			Px: rng.Int64N(1 << 33), Qty: rng.Int64N(1 << 33), MakerFee: rng.Int64N(1 << 40), TakerFee: rng.Int64N(1 << 40)}
		ev.Maker.Symbol = ev.Order.Symbol
		i := rng.IntN(100)
		want := g.fieldMapReports(&ev, i)
		got := g.orderReports(&ev, i, nil)
		if len(got) != len(want) {
			t.Fatalf("event %+v: %d reports, want %d", ev, len(got), len(want))
		}
		for k := range got {
			// The body's sum goes into the checksum (10=): a wrong one shows.
			m := quickfix.NewMessageWithBody("8", got[k].body, got[k].sum)
			if a, b := withHeader(m), withHeader(want[k]); a != b {
				t.Fatalf("event kind %d report %d:\n got %q\nwant %q", ev.Kind, k, a, b)
			}
		}
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fieldMapTradeCapture is tradeCapture as it was written with quickfixgo's
// field maps and repeating-group template: the reference for
// TestTradeCaptureBytesEqualFieldMaps.
func (d *DropCopy) fieldMapTradeCapture(ev *matching.Event, i int, sides []tradeSide) *quickfix.Message {
	sym, _ := d.uni.SymbolByID(ev.Order.Symbol)
	m := newMsg("AE")
	b := &m.Body
	b.SetString(quickfix.Tag(571), execID(ev.Seq, i, ""))
	b.SetString(quickfix.Tag(570), "N")
	b.SetString(tagTrdMatchID, strconv.FormatUint(ev.TradeID, 10))
	b.SetField(tagTransactTime, utc(ev.Time))
	b.SetString(quickfix.Tag(75), time.Unix(0, ev.Time).UTC().Format("20060102"))
	if sym != nil {
		b.SetString(tagSymbol, sym.Name)
		setDec(m, tagLastPx, sym.PxDec(ev.Px).String())
		setDec(m, tagLastQty, sym.QtyDec(ev.Qty).String())
	}
	grp := quickfix.NewRepeatingGroup(quickfix.Tag(552), quickfix.GroupTemplate{
		quickfix.GroupElement(tagSide), quickfix.GroupElement(tagOrderID), quickfix.GroupElement(tagClOrdID),
		quickfix.GroupElement(tagAccount), quickfix.GroupElement(tagCommission), quickfix.GroupElement(tagCommType),
		quickfix.GroupElement(tagCommCurrency), quickfix.GroupElement(tagLastLiquidityInd),
	})
	for _, s := range sides {
		r := grp.Add()
		r.SetString(tagSide, strconv.Itoa(int(s.v.Side)))
		r.SetString(tagOrderID, orderIDString(s.v.ID))
		r.SetString(tagClOrdID, s.v.ClOrdID)
		if a, ok := d.dir.Account(s.v.Account); ok {
			r.SetString(tagAccount, a.Name)
		}
		if sym != nil {
			r.SetField(tagCommission, quickfix.FIXString(sym.QuoteDec(s.fee).String()))
			r.SetString(tagCommType, "3")
			r.SetString(tagCommCurrency, sym.Quote)
		}
		r.SetInt(tagLastLiquidityInd, s.liq)
	}
	b.SetGroup(grp)
	return m
}

// TestTradeCaptureBytesEqualFieldMaps: TradeCaptureReports rendered
// straight to bytes, with one side or two, known and unknown accounts and
// symbols, are byte for byte what the field maps build, and the venue's
// data dictionary parses their NoSides group back entry by entry.
func TestTradeCaptureBytesEqualFieldMaps(t *testing.T) {
	uni, dir := devRefdata(t)
	dd, err := datadictionary.ParseSrc(bytes.NewReader(spec.FIX44))
	if err != nil {
		t.Fatal(err)
	}
	d := &DropCopy{renderer: renderer{dir: dir, uni: uni}}
	rng := rand.New(rand.NewPCG(7, 8))
	view := func() matching.OrderView {
		return matching.OrderView{ID: matching.OrderID(rng.Int64N(1 << 40)), ClOrdID: "c" + uintString(rng.Uint64()),
			Account: matching.AccountID(rng.IntN(6)), Symbol: matching.SymbolID(rng.IntN(3)), Side: matching.Side(1 + rng.IntN(2))}
	}
	for n := 0; n < 5000; n++ {
		ev := matching.Event{Seq: rng.Uint64N(1 << 50), Time: rng.Int64N(1 << 62), Kind: matching.EvTrade,
			Order: view(), Maker: view(), TradeID: rng.Uint64(), Px: rng.Int64N(1 << 33), Qty: rng.Int64N(1 << 33),
			MakerFee: rng.Int64N(1 << 40), TakerFee: rng.Int64N(1 << 40)}
		ev.Maker.Symbol = ev.Order.Symbol
		sides := []tradeSide{{&ev.Maker, ev.MakerFee, 1, "M"}, {&ev.Order, ev.TakerFee, 2, "T"}}[rng.IntN(2):]
		i := rng.IntN(100)
		got := d.tradeCapture(&ev, i, sides)
		want := withHeader(d.fieldMapTradeCapture(&ev, i, sides))
		if got.typ != "AE" {
			t.Fatalf("MsgType %q", got.typ)
		}
		raw := withHeader(quickfix.NewMessageWithBody("AE", got.body, got.sum))
		if raw != want {
			t.Fatalf("trade %+v:\n got %q\nwant %q", ev, raw, want)
		}
		m := quickfix.NewMessage()
		if err := quickfix.ParseMessageWithDataDictionary(m, bytes.NewBufferString(raw), dd, dd); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		grp := quickfix.NewRepeatingGroup(quickfix.Tag(552), quickfix.GroupTemplate{
			quickfix.GroupElement(tagSide), quickfix.GroupElement(tagOrderID), quickfix.GroupElement(tagClOrdID),
			quickfix.GroupElement(tagAccount), quickfix.GroupElement(tagCommission), quickfix.GroupElement(tagCommType),
			quickfix.GroupElement(tagCommCurrency), quickfix.GroupElement(tagLastLiquidityInd)})
		if err := m.Body.GetGroup(grp); err != nil || grp.Len() != len(sides) {
			t.Fatalf("%q: NoSides %v, %d entries, want %d", raw, err, grp.Len(), len(sides))
		}
		for k, s := range sides {
			if cl, err := grp.Get(k).GetString(tagClOrdID); err != nil || cl != s.v.ClOrdID {
				t.Fatalf("%q: side %d ClOrdID %q %v, want %q", raw, k, cl, err, s.v.ClOrdID)
			}
		}
	}
}
