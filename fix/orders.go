package fix

import (
	"encoding/binary"
	"hash/maphash"
	"sort"
	"sync"

	"venue/matching"
)

// orderCache is the gateway's view of the orders of the day, kept from the
// engine's events by the router, for OrderStatusRequest, OrderMassStatus,
// replaces that omit unchanged fields and PossDup resends. The engine stays
// the single writer: the cache only follows it. Done orders are kept until
// maxDone newer ones have finished, then forgotten (a status request for
// them answers unknown).
//
// Working orders (as many as rest in the book) live in maps of pointers.
// Done orders, up to maxDone of them (a million by default), go into
// doneStore: records without pointers, indexed by maps without pointers,
// which the garbage collector does not scan. Kept as working orders are,
// a million done orders were 300 MB of pointers that every collection
// marked: 1-2 s mark phases after a minute at 37,000 orders/s, and a
// heap goal of 4 GB (BENCHMARKS.md, fifth session).
type orderCache struct {
	mu   sync.RWMutex
	byID map[matching.OrderID]*cachedOrder // working orders
	byCl map[clKey]matching.OrderID        // the ClOrdIDs of working orders
	done doneStore
	top  matching.OrderID // the highest OrderID put: a higher one is new
}

type clKey struct {
	session matching.SessionID
	id      string
}

type cachedOrder struct {
	v     matching.OrderView
	firm  matching.FirmID
	clIDs []string // every ClOrdID the order has had
}

func newOrderCache(maxDone int) *orderCache {
	if maxDone <= 0 {
		maxDone = 1
	}
	return &orderCache{
		byID: map[matching.OrderID]*cachedOrder{},
		byCl: map[clKey]matching.OrderID{},
		done: newDoneStore(maxDone),
	}
}

func isDone(st matching.OrdStatus) bool {
	switch st {
	case matching.StatusFilled, matching.StatusCanceled, matching.StatusRejected, matching.StatusExpired:
		return true
	}
	return false
}

// put records an order's state after an event. firm is the firm of the
// order's account.
func (c *orderCache) put(v *matching.OrderView, firm matching.FirmID) {
	if v.ID == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.byID[v.ID]
	if o == nil {
		// A new order is not in the done store: only look there (a
		// random read of a large map) for an id seen before.
		if v.ID <= c.top {
			if _, ok := c.done.byID[v.ID]; ok {
				return // already finished and kept until evicted
			}
		}
		c.top = max(c.top, v.ID)
		o = &cachedOrder{firm: firm}
		c.byID[v.ID] = o
	}
	o.v = *v
	if v.ClOrdID != "" {
		k := clKey{v.Session, v.ClOrdID}
		if c.byCl[k] != v.ID {
			c.byCl[k] = v.ID
			o.clIDs = append(o.clIDs, v.ClOrdID)
		}
	}
	if isDone(v.Status) {
		// It moves to the done store with the ClOrdIDs that still name
		// it: one it had may name a newer order now (the engine forgets
		// ClOrdIDs at NewDay, and a working order lives on).
		n := 0
		for _, cl := range o.clIDs {
			if k := (clKey{v.Session, cl}); c.byCl[k] == v.ID {
				delete(c.byCl, k)
				o.clIDs[n] = cl
				n++
			}
		}
		o.clIDs = o.clIDs[:n]
		delete(c.byID, v.ID)
		c.done.add(o)
	}
}

// byClOrdID finds an order by a ClOrdID it had in session.
func (c *orderCache) byClOrdID(session matching.SessionID, cl string) (matching.OrderView, matching.FirmID, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if id, ok := c.byCl[clKey{session, cl}]; ok {
		o := c.byID[id]
		return o.v, o.firm, true
	}
	return c.done.byClOrdID(session, cl)
}

// byOrderID finds an order by its OrderID.
func (c *orderCache) byOrderID(id matching.OrderID) (matching.OrderView, matching.FirmID, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if o := c.byID[id]; o != nil {
		return o.v, o.firm, true
	}
	if slot, ok := c.done.byID[id]; ok {
		v, firm := c.done.view(slot)
		return v, firm, true
	}
	return matching.OrderView{}, 0, false
}

// open returns the firm's working orders that keep says yes to, by OrderID.
func (c *orderCache) open(firm matching.FirmID, keep func(*matching.OrderView) bool) []matching.OrderView {
	c.mu.RLock()
	var out []matching.OrderView
	for _, o := range c.byID {
		if o.firm == firm && keep(&o.v) {
			out = append(out, o.v)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// newDay follows the engine's NewDay: the day's ClOrdIDs and done orders
// are forgotten; working orders stay, addressable by OrderID.
func (c *orderCache) newDay() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done.reset()
	clear(c.byCl)
	for _, o := range c.byID {
		o.clIDs = o.clIDs[:0]
	}
}

// doneStore keeps the last max done orders, oldest evicted first, in a
// ring of records without pointers: an order's view without its strings,
// and its ClOrdIDs (current, original, every one it had) as bytes inline,
// or in overflow when they do not fit.
type doneStore struct {
	// chunks hold the ring's records, doneChunk each, added as it grows
	// to max: one slice of a million records would be copied whole (and
	// the cache locked) each time append doubled it.
	chunks   [][]doneRec
	n        int // records in the ring (max once it has wrapped)
	next     int // the slot the next record takes
	max      int
	byID     map[matching.OrderID]uint32 // slot of each kept order
	byCl     map[uint64]uint32           // slot by hash of (session, ClOrdID), checked against the record
	overflow map[uint32][]byte           // the ClOrdIDs of records whose strings do not fit inline
	seed     maphash.Seed
}

// doneChunk is the records of one chunk of the ring.
const doneChunk = 4096

func (d *doneStore) rec(slot uint32) *doneRec {
	return &d.chunks[slot/doneChunk][slot%doneChunk]
}

// doneInline is the bytes a record holds its ClOrdIDs in: the current
// ClOrdID and the OrigClOrdID, each as the number of one of the list
// that follows or else as its bytes, then the list of the ClOrdIDs that
// name the order, each after its length. An order replaced twice with
// ClOrdIDs of 20 bytes takes 65; longer ones go to overflow.
const doneInline = 72

type doneRec struct {
	id                           matching.OrderID
	session                      matching.SessionID
	account                      matching.AccountID
	symbol                       matching.SymbolID
	firm                         matching.FirmID
	side                         matching.Side
	typ                          matching.OrdType
	tif                          matching.TIF
	stp                          matching.STPMode
	postOnly, triggered          bool
	status                       matching.OrdStatus
	px, stopPx, qty, cum, leaves int64
	notional, fees, expire       int64
	nstr                         uint8 // bytes of strs in use; 255: in overflow
	strs                         [doneInline]byte
}

func newDoneStore(max int) doneStore {
	return doneStore{max: max, byID: map[matching.OrderID]uint32{}, byCl: map[uint64]uint32{},
		overflow: map[uint32][]byte{}, seed: maphash.MakeSeed()}
}

func (d *doneStore) hash(session matching.SessionID, cl string) uint64 {
	return maphash.String(d.seed, cl) ^ uint64(session)*0x9E3779B97F4A7C15
}

// hashBytes is hash of a ClOrdID held as bytes.
func (d *doneStore) hashBytes(session matching.SessionID, cl []byte) uint64 {
	return maphash.Bytes(d.seed, cl) ^ uint64(session)*0x9E3779B97F4A7C15
}

// add keeps o, evicting the oldest record when the store is full.
func (d *doneStore) add(o *cachedOrder) {
	slot := uint32(d.next)
	if d.next == d.n {
		if int(slot)/doneChunk == len(d.chunks) {
			d.chunks = append(d.chunks, make([]doneRec, min(doneChunk, d.max-d.n)))
		}
		d.n++
	} else {
		d.evict(slot)
	}
	d.next++
	if d.next == d.max {
		d.next = 0
	}
	v := &o.v
	r := d.rec(slot)
	*r = doneRec{id: v.ID, session: v.Session, account: v.Account, symbol: v.Symbol, firm: o.firm,
		side: v.Side, typ: v.Type, tif: v.TIF, stp: v.STP, postOnly: v.PostOnly, triggered: v.Triggered,
		status: v.Status, px: v.Px, stopPx: v.StopPx, qty: v.Qty, cum: v.Cum, leaves: v.Leaves,
		notional: v.Notional, fees: v.Fees, expire: v.ExpireTime}
	strs := appendRef(appendRef(r.strs[:0], v.ClOrdID, o.clIDs), v.OrigClOrdID, o.clIDs)
	for _, cl := range o.clIDs {
		strs = appendStr(strs, cl)
	}
	if len(strs) <= doneInline && &strs[0] == &r.strs[0] {
		r.nstr = uint8(len(strs))
	} else {
		r.nstr = 255
		d.overflow[slot] = strs
	}
	d.byID[v.ID] = slot
	for _, cl := range o.clIDs {
		d.byCl[d.hash(v.Session, cl)] = slot
	}
}

// appendStr appends s after its length (a uvarint).
func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendRef appends s as its position in list plus one, or as 0 and its
// bytes when list does not hold it.
func appendRef(b []byte, s string, list []string) []byte {
	for j, cl := range list {
		if cl == s {
			return binary.AppendUvarint(b, uint64(j+1))
		}
	}
	return appendStr(binary.AppendUvarint(b, 0), s)
}

// readStr reads what appendStr wrote.
func readStr(b []byte) (s, rest []byte) {
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)], b[k+int(n):]
}

// readRef reads what appendRef wrote: a position in the list (from 1) or
// 0 and the bytes.
func readRef(b []byte) (pos int, lit, rest []byte) {
	p, k := binary.Uvarint(b)
	if p > 0 {
		return int(p), nil, b[k:]
	}
	lit, rest = readStr(b[k:])
	return 0, lit, rest
}

// stored returns the record's ClOrdID bytes (doneInline).
func (d *doneStore) stored(slot uint32) []byte {
	r := d.rec(slot)
	if r.nstr == 255 {
		return d.overflow[slot]
	}
	return r.strs[:r.nstr]
}

// clIDs calls f with each ClOrdID that names the record's order, until f
// says false.
func (d *doneStore) clIDs(slot uint32, f func(cl []byte) bool) {
	_, _, b := readRef(d.stored(slot))
	_, _, b = readRef(b)
	for len(b) > 0 {
		var cl []byte
		cl, b = readStr(b)
		if !f(cl) {
			return
		}
	}
}

// nth is the list's ClOrdID at position pos (from 1).
func (d *doneStore) nth(slot uint32, pos int) []byte {
	var out []byte
	d.clIDs(slot, func(cl []byte) bool {
		pos--
		if pos == 0 {
			out = cl
		}
		return pos > 0
	})
	return out
}

// evict forgets the record in slot.
func (d *doneStore) evict(slot uint32) {
	r := d.rec(slot)
	if s, ok := d.byID[r.id]; ok && s == slot {
		delete(d.byID, r.id)
	}
	d.clIDs(slot, func(cl []byte) bool {
		if h := d.hashBytes(r.session, cl); d.byCl[h] == slot {
			delete(d.byCl, h)
		}
		return true
	})
	delete(d.overflow, slot)
}

// byClOrdID finds a done order by a ClOrdID it had in session.
func (d *doneStore) byClOrdID(session matching.SessionID, cl string) (matching.OrderView, matching.FirmID, bool) {
	slot, ok := d.byCl[d.hash(session, cl)]
	if !ok || d.rec(slot).session != session {
		return matching.OrderView{}, 0, false
	}
	found := false
	d.clIDs(slot, func(s []byte) bool {
		found = string(s) == cl
		return !found
	})
	if !found { // another key with the same hash: not this order
		return matching.OrderView{}, 0, false
	}
	v, firm := d.view(slot)
	return v, firm, true
}

// view rebuilds the order's view from its record.
func (d *doneStore) view(slot uint32) (matching.OrderView, matching.FirmID) {
	r := d.rec(slot)
	v := matching.OrderView{ID: r.id, Session: r.session, Account: r.account, Symbol: r.symbol,
		Side: r.side, Type: r.typ, TIF: r.tif, STP: r.stp, PostOnly: r.postOnly, Triggered: r.triggered,
		Status: r.status, Px: r.px, StopPx: r.stopPx, Qty: r.qty, Cum: r.cum, Leaves: r.leaves,
		Notional: r.notional, Fees: r.fees, ExpireTime: r.expire}
	str := func(pos int, lit []byte) string {
		if pos > 0 {
			return string(d.nth(slot, pos))
		}
		return string(lit)
	}
	pos, lit, b := readRef(d.stored(slot))
	v.ClOrdID = str(pos, lit)
	pos, lit, _ = readRef(b)
	v.OrigClOrdID = str(pos, lit)
	return v, r.firm
}

// reset forgets every done order.
func (d *doneStore) reset() {
	// The chunks stay, to be filled again.
	d.n, d.next = 0, 0
	clear(d.byID)
	clear(d.byCl)
	clear(d.overflow)
}
