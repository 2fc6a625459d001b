package matching

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// snapshotMagic opens every snapshot; the digit is the format version.
const snapshotMagic = "VENGSNP1"

// MarshalSnapshot encodes the whole state canonically: the same state
// always gives the same bytes, whatever history led to it, so StateHash can
// compare a replay with a recovery. Order within levels is kept (FIFO);
// priorities are renumbered on restore.
func (e *Engine) MarshalSnapshot() []byte { return e.CaptureSnapshot().Encode() }

// A SnapshotCapture is the engine's state at one moment, taken by
// CaptureSnapshot on the engine's goroutine; Encode gives the bytes
// MarshalSnapshot would have given then, on any goroutine, while the
// engine goes on. The costly part, sorting and writing the day's ClOrdIDs
// (a million of them took 470 ms, during which the sequencer stood still),
// is Encode's: the capture copies them unsorted, 32 bytes each.
type SnapshotCapture struct {
	head []byte    // the state up to the day's ClOrdIDs, encoded
	ents []clEntry // the day's ClOrdIDs, in arrival order
	tail []byte    // the rest, encoded
}

// CaptureSnapshot takes the state for Encode. Like Apply, it must not run
// concurrently with the engine's other methods.
func (e *Engine) CaptureSnapshot() *SnapshotCapture {
	w := &snapWriter{b: make([]byte, 0, 1<<16)}
	w.b = append(w.b, snapshotMagic...)
	w.u(uint64(e.nextOrderID))
	w.u(e.nextTradeID)
	for _, t := range e.feeTiers {
		w.i(t.makerPpm)
		w.i(t.takerPpm)
	}
	for _, v := range e.supply {
		w.i(v)
	}
	n := 0
	for _, a := range e.accounts {
		if a != nil {
			n++
		}
	}
	w.u(uint64(n))
	for _, a := range e.accounts {
		if a == nil {
			continue
		}
		sp := a.spec
		w.u(uint64(sp.ID))
		w.u(uint64(sp.Firm))
		w.u(uint64(sp.FeeTier))
		w.u(uint64(sp.STP))
		w.bool(sp.STPFirm)
		w.i(int64(sp.MaxOpenOrders))
		w.bool(a.kill)
		for _, b := range a.bal {
			w.i(b.total)
			w.i(b.held)
		}
	}
	w.u(uint64(len(e.symList)))
	for _, s := range e.symList {
		sp := s.spec
		w.u(uint64(sp.ID))
		w.str(sp.Name)
		w.u(uint64(sp.Base))
		w.u(uint64(sp.Quote))
		for _, v := range []int64{sp.TickSize, sp.QtyStep, sp.MinQty, sp.MaxQty, sp.MaxNotional, sp.RefPx, sp.BandBps} {
			w.i(v)
		}
		w.u(uint64(sp.Status))
		w.u(uint64(s.status))
		w.bool(s.traded)
		w.i(s.lastPx)
		for _, levels := range [][]*level{s.bids, s.asks} {
			w.u(uint64(len(levels)))
			for _, l := range levels {
				k := 0
				for o := l.head; o != nil; o = o.next {
					k++
				}
				w.u(uint64(k))
				for o := l.head; o != nil; o = o.next {
					w.order(o)
				}
			}
		}
		for _, stops := range [][]*order{s.buyStops, s.sellStops} {
			w.u(uint64(len(stops)))
			for _, o := range stops {
				w.order(o)
			}
		}
	}
	c := &SnapshotCapture{head: w.b, ents: slices.Clone(e.clOrdIDs.ents)} // one copy, in arrival order
	w = &snapWriter{}
	bk := make([]string, 0, len(e.balKeys))
	for k := range e.balKeys {
		bk = append(bk, k)
	}
	slices.Sort(bk)
	w.u(uint64(len(bk)))
	for _, k := range bk {
		v := e.balKeys[k]
		w.str(k)
		w.u(uint64(v.kind))
		w.u(uint64(v.state))
		w.u(uint64(v.account))
		w.u(uint64(v.asset))
		w.i(v.amount)
	}
	c.tail = w.b
	return c
}

// Encode writes the captured state canonically (MarshalSnapshot). It
// sorts the capture in place: one goroutine at a time.
func (c *SnapshotCapture) Encode() []byte {
	slices.SortFunc(c.ents, func(a, b clEntry) int {
		return cmp.Or(cmp.Compare(a.key.session, b.key.session), strings.Compare(a.key.id, b.key.id))
	})
	w := &snapWriter{b: append(make([]byte, 0, len(c.head)+24*len(c.ents)+len(c.tail)), c.head...)}
	w.u(uint64(len(c.ents)))
	for _, en := range c.ents {
		w.u(uint64(en.key.session))
		w.str(en.key.id)
		w.u(uint64(en.id))
	}
	return append(w.b, c.tail...)
}

// StateHash is the SHA-256 of the canonical snapshot.
func (e *Engine) StateHash() [32]byte { return sha256.Sum256(e.MarshalSnapshot()) }

type snapWriter struct{ b []byte }

func (w *snapWriter) u(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *snapWriter) i(v int64)  { w.b = binary.AppendVarint(w.b, v) }
func (w *snapWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *snapWriter) str(s string) { w.u(uint64(len(s))); w.b = append(w.b, s...) }

func (w *snapWriter) order(o *order) {
	v := &o.v
	w.u(uint64(v.ID))
	w.str(v.ClOrdID)
	w.str(v.OrigClOrdID)
	w.u(uint64(v.Session))
	w.u(uint64(v.Account))
	w.u(uint64(v.Side))
	w.u(uint64(v.Type))
	w.u(uint64(v.TIF))
	w.u(uint64(v.STP))
	w.bool(v.PostOnly)
	for _, x := range []int64{v.Px, v.StopPx, v.Qty, v.Cum, v.Leaves, v.Notional, v.Fees, v.ExpireTime} {
		w.i(x)
	}
	w.u(uint64(v.Status))
	w.bool(v.Triggered)
	w.u(uint64(o.firm))
	for _, x := range []int64{o.limit, o.holdPx, o.makerPpm, o.takerPpm, o.need} {
		w.i(x)
	}
}

var errSnapshot = errors.New("matching: snapshot")

type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s at %d bytes from the end", errSnapshot, what, len(r.b))
	}
}

func (r *snapReader) u(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) i(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// n reads a count and bounds it by the bytes left (every element takes at
// least one byte), so garbage cannot ask for a huge allocation.
func (r *snapReader) n(what string) int {
	v := r.u(what)
	if v > uint64(len(r.b)) {
		r.fail(what)
		return 0
	}
	return int(v)
}

func (r *snapReader) small(what string, limit uint64) uint64 {
	v := r.u(what)
	if v > limit {
		r.fail(what)
		return 0
	}
	return v
}

func (r *snapReader) bool(what string) bool { return r.small(what, 1) == 1 }

func (r *snapReader) str(what string) string {
	n := r.n(what)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *snapReader) order(e *Engine, s *symbol) *order {
	o := &order{}
	v := &o.v
	v.ID = OrderID(r.u("order id"))
	v.ClOrdID = r.str("clordid")
	v.OrigClOrdID = r.str("origclordid")
	v.Session = SessionID(r.small("session", 1<<32-1))
	v.Account = AccountID(r.small("account", 1<<24))
	v.Side = Side(r.small("side", 2))
	v.Type = OrdType(r.small("type", 4))
	v.TIF = TIF(r.small("tif", 255))
	v.STP = STPMode(r.small("stp", 255))
	v.PostOnly = r.bool("postonly")
	for _, x := range []*int64{&v.Px, &v.StopPx, &v.Qty, &v.Cum, &v.Leaves, &v.Notional, &v.Fees, &v.ExpireTime} {
		*x = r.i("order field")
	}
	v.Status = OrdStatus(r.small("status", 255))
	v.Triggered = r.bool("triggered")
	v.Symbol = s.spec.ID
	o.firm = FirmID(r.small("firm", 1<<32-1))
	for _, x := range []*int64{&o.limit, &o.holdPx, &o.makerPpm, &o.takerPpm, &o.need} {
		*x = r.i("order field")
	}
	if r.err != nil {
		return nil
	}
	// An id at or past the next one would be handed out again (and the
	// order index holds one order per id).
	if v.ID == 0 || v.ID >= e.nextOrderID || e.account(v.Account) == nil || (v.Side != Buy && v.Side != Sell) || e.orders.get(v.ID) != nil {
		r.fail("order")
		return nil
	}
	e.orders.put(o)
	e.accounts[v.Account].live++
	if v.TIF == GTD {
		e.gtd.push(gtdEntry{at: v.ExpireTime, id: v.ID})
	}
	return o
}

// RestoreSnapshot replaces the engine's state with a snapshot's. On error
// the engine is left empty, never half restored; the caller refuses to
// start.
func (e *Engine) RestoreSnapshot(b []byte) error {
	*e = *New()
	if err := e.restore(b); err != nil {
		*e = *New()
		return err
	}
	if err := e.CheckInvariants(); err != nil {
		*e = *New()
		return fmt.Errorf("%w: restored state is inconsistent: %v", errSnapshot, err)
	}
	return nil
}

func (e *Engine) restore(b []byte) error {
	if len(b) < len(snapshotMagic) || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: not a snapshot of this format", errSnapshot)
	}
	r := &snapReader{b: b[len(snapshotMagic):]}
	e.nextOrderID = OrderID(r.u("next order id"))
	e.nextTradeID = r.u("next trade id")
	for i := range e.feeTiers {
		e.feeTiers[i] = feeTier{r.i("fee"), r.i("fee")}
	}
	for i := range e.supply {
		e.supply[i] = r.i("supply")
	}
	na := r.n("accounts")
	for range na {
		var sp AccountSpec
		sp.ID = AccountID(r.small("account id", 1<<24))
		sp.Firm = FirmID(r.small("firm", 1<<32-1))
		sp.FeeTier = uint8(r.small("fee tier", MaxFeeTiers-1))
		sp.STP = STPMode(r.small("stp", 255))
		sp.STPFirm = r.bool("stpfirm")
		sp.MaxOpenOrders = int32(r.i("max open orders"))
		a := &account{spec: sp, kill: r.bool("kill")}
		for j := range a.bal {
			a.bal[j] = balance{r.i("total"), r.i("held")}
		}
		if r.err != nil {
			return r.err
		}
		for int(sp.ID) >= len(e.accounts) {
			e.accounts = append(e.accounts, nil)
		}
		e.accounts[sp.ID] = a
	}
	ns := r.n("symbols")
	for range ns {
		var sp SymbolSpec
		sp.ID = SymbolID(r.small("symbol id", 1<<32-1))
		sp.Name = r.str("symbol name")
		sp.Base = AssetID(r.small("base", MaxAssets-1))
		sp.Quote = AssetID(r.small("quote", MaxAssets-1))
		for _, x := range []*int64{&sp.TickSize, &sp.QtyStep, &sp.MinQty, &sp.MaxQty, &sp.MaxNotional, &sp.RefPx, &sp.BandBps} {
			*x = r.i("symbol field")
		}
		sp.Status = SymbolStatus(r.small("status", 3))
		if r.err != nil {
			return r.err
		}
		if !validSymbol(&sp) || e.symbols[sp.ID] != nil {
			return fmt.Errorf("%w: invalid symbol %d", errSnapshot, sp.ID)
		}
		s := &symbol{spec: sp}
		s.status = SymbolStatus(r.small("status", 3))
		s.traded = r.bool("traded")
		s.lastPx = r.i("last px")
		e.symbols[sp.ID] = s
		e.symList = append(e.symList, s)
		for _, sd := range []Side{Buy, Sell} {
			nl := r.n("levels")
			for range nl {
				no := r.n("level orders")
				if no == 0 {
					r.fail("empty level")
				}
				for range no {
					o := r.order(e, s)
					if o == nil {
						return r.err
					}
					if o.v.Side != sd || o.v.Px <= 0 {
						return fmt.Errorf("%w: order %d on the wrong side", errSnapshot, o.v.ID)
					}
					l := best(*s.side(sd))
					if l == nil || better(sd, o.v.Px, l.px) {
						l = e.newLevel(o.v.Px)
						s.insertLevel(sd, len(*s.side(sd)), l)
					} else if l.px != o.v.Px {
						return fmt.Errorf("%w: levels out of order at order %d", errSnapshot, o.v.ID)
					}
					e.nextPrio++
					o.prio = e.nextPrio
					o.level = l
					o.prev = l.tail
					if l.tail != nil {
						l.tail.next = o
					} else {
						l.head = o
					}
					l.tail = o
					l.qty += o.v.Leaves
				}
			}
		}
		for _, stops := range []*[]*order{&s.buyStops, &s.sellStops} {
			n := r.n("stops")
			for range n {
				o := r.order(e, s)
				if o == nil {
					return r.err
				}
				o.stopping = true
				*stops = append(*stops, o)
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	if !slices.IsSortedFunc(e.symList, func(a, b *symbol) int { return int(int64(a.spec.ID) - int64(b.spec.ID)) }) {
		return fmt.Errorf("%w: symbols out of order", errSnapshot)
	}
	nk := r.n("clordids")
	for range nk {
		k := clKey{session: SessionID(r.small("session", 1<<32-1)), id: r.str("clordid")}
		e.clOrdIDs.put(k, OrderID(r.u("order id")))
	}
	nb := r.n("balance keys")
	for range nb {
		k := r.str("key")
		v := &balKey{
			kind:    uint8(r.small("kind", 2)),
			state:   uint8(r.small("state", 2)),
			account: AccountID(r.small("account", 1<<24)),
			asset:   AssetID(r.small("asset", MaxAssets-1)),
			amount:  r.i("amount"),
		}
		e.balKeys[k] = v
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errSnapshot, len(r.b))
	}
	return nil
}
