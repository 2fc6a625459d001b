package matching

import (
	"slices"
	"sort"
)

// symbol is one order book with its stops and reference price.
type symbol struct {
	spec   SymbolSpec
	status SymbolStatus
	traded bool
	lastPx int64
	// bids ascending and asks descending by price, so the best level of
	// either side is the last element and touching it moves nothing.
	bids, asks []*level
	// the prices of bids and asks, element for element: the binary search
	// for a level reads this array instead of one level struct per step.
	bidPx, askPx []int64
	// untriggered stops: buys by StopPx ascending, sells by StopPx
	// descending, ties by OrderID; the triggered ones are a prefix.
	buyStops, sellStops []*order
}

// level is one price of one side: its orders in time priority.
type level struct {
	px         int64
	qty        int64
	head, tail *order
	next       *level // free list
}

// ref is the price the band is centered on: the last trade, or RefPx.
func (s *symbol) ref() int64 {
	if s.traded {
		return s.lastPx
	}
	return s.spec.RefPx
}

// band returns the lowest and highest admissible prices, on the tick.
// ref × BandBps / 10000 is computed as q×B + r×B/10000 with ref = q×10000+r,
// which is exact and cannot overflow for ref < 2^63 and B < 10000.
func (s *symbol) band() (lower, upper int64) {
	ref, b, t := s.ref(), s.spec.BandBps, s.spec.TickSize
	d := (ref/10000)*b + (ref%10000)*b/10000
	upper = ref + d
	if upper < ref { // beyond int64: no order price can reach it
		upper = maxInt64
	}
	upper = upper / t * t
	lower = ref - d
	lower = (lower + t - 1) / t * t
	return lower, upper
}

func (s *symbol) side(sd Side) *[]*level {
	if sd == Buy {
		return &s.bids
	}
	return &s.asks
}

func (s *symbol) prices(sd Side) *[]int64 {
	if sd == Buy {
		return &s.bidPx
	}
	return &s.askPx
}

// insertLevel puts l at index i of side sd.
func (s *symbol) insertLevel(sd Side, i int, l *level) {
	levels, pxs := s.side(sd), s.prices(sd)
	*levels = slices.Insert(*levels, i, l)
	*pxs = slices.Insert(*pxs, i, l.px)
}

// better reports whether price a is better than b for side sd.
func better(sd Side, a, b int64) bool {
	if sd == Buy {
		return a > b
	}
	return a < b
}

// crosses reports whether a resting level at px is reachable by an
// aggressor of side sd with limit.
func crosses(sd Side, px, limit int64) bool {
	if sd == Buy {
		return px <= limit
	}
	return px >= limit
}

func opposite(sd Side) Side { return 3 - sd }

// best returns the best level of a side, or nil.
func best(levels []*level) *level {
	if n := len(levels); n > 0 {
		return levels[n-1]
	}
	return nil
}

// findLevel returns the index where a level at px is or would go in the
// prices of a side, sorted worst-first: for bids ascending, for asks
// descending. The search is branch-free: a new order's price is as good
// as random to the branch predictor, and ten mispredicted steps cost more
// than the loads. Each step moves base by half where the sign of a
// difference says so; prices are positive, so no difference overflows.
func findLevel(pxs []int64, sd Side, px int64) int {
	n := len(pxs)
	if n == 0 {
		return 0
	}
	base := 0
	if sd == Buy { // the first price >= px
		for n > 1 {
			half := n >> 1
			base += half & int((pxs[base+half]-px)>>63) // pxs[m] < px
			n -= half
		}
		if pxs[base] < px {
			base++
		}
		return base
	}
	for n > 1 { // the first price <= px
		half := n >> 1
		base += half & int((px-pxs[base+half])>>63) // pxs[m] > px
		n -= half
	}
	if pxs[base] > px {
		base++
	}
	return base
}

func (e *Engine) newLevel(px int64) *level {
	l := e.freeLvl
	if l != nil {
		e.freeLvl = l.next
		*l = level{px: px}
		return l
	}
	return &level{px: px}
}

// rest appends o at the back of its price level and emits the level.
func (e *Engine) rest(s *symbol, o *order) {
	levels, pxs := s.side(o.v.Side), *s.prices(o.v.Side)
	px := o.v.Px
	var l *level
	// Orders mostly arrive at or near the touch: look there first. The
	// prices array answers both tests, so only the level that matches is
	// loaded.
	n := len(pxs)
	if n > 0 && pxs[n-1] == px {
		l = (*levels)[n-1]
	} else {
		i := findLevel(pxs, o.v.Side, px)
		if i < n && pxs[i] == px {
			l = (*levels)[i]
		} else {
			l = e.newLevel(px)
			s.insertLevel(o.v.Side, i, l)
		}
	}
	e.nextPrio++
	o.prio = e.nextPrio
	o.level = l
	o.prev = l.tail
	o.next = nil
	if l.tail != nil {
		l.tail.next = o
	} else {
		l.head = o
	}
	l.tail = o
	l.qty += o.v.Leaves
	e.emitLevel(s, o.v.Side, l)
}

// unlink takes o out of its level without emitting; it drops the level
// from the side when it empties. It returns the level for the caller to
// emit.
func (e *Engine) unlink(s *symbol, o *order) *level {
	l := o.level
	if o.prev != nil {
		o.prev.next = o.next
	} else {
		l.head = o.next
	}
	if o.next != nil {
		o.next.prev = o.prev
	} else {
		l.tail = o.prev
	}
	o.prev, o.next, o.level = nil, nil, nil
	l.qty -= o.v.Leaves
	if l.head == nil {
		e.dropLevel(s, o.v.Side, l)
	}
	return l
}

// dropLevel removes an empty level from its side. The level struct stays
// readable (px, qty 0) until the next newLevel, long enough to emit it.
func (e *Engine) dropLevel(s *symbol, sd Side, l *level) {
	levels, pxs := s.side(sd), s.prices(sd)
	n := len(*levels)
	i := n - 1
	if (*levels)[i] != l {
		i = findLevel(*pxs, sd, l.px)
	}
	*levels = slices.Delete(*levels, i, i+1) // zeroes the freed tail slot
	*pxs = slices.Delete(*pxs, i, i+1)
	l.next = e.freeLvl
	e.freeLvl = l
}

func (e *Engine) emitLevel(s *symbol, sd Side, l *level) {
	ev := e.emit(EvLevel)
	ev.Symbol = s.spec.ID
	ev.Side = sd
	ev.Px = l.px
	ev.Qty = l.qty
}

// addStop inserts o into the symbol's stop set in trigger order.
func (s *symbol) addStop(o *order) {
	stops := &s.buyStops
	if o.v.Side == Sell {
		stops = &s.sellStops
	}
	i := sort.Search(len(*stops), func(i int) bool { return stopBefore(o, (*stops)[i]) })
	*stops = append(*stops, nil)
	copy((*stops)[i+1:], (*stops)[i:])
	(*stops)[i] = o
}

// stopBefore orders stops so that the ones a price move reaches first come
// first: buys by StopPx ascending, sells descending, ties by OrderID.
func stopBefore(a, b *order) bool {
	if a.v.StopPx != b.v.StopPx {
		if a.v.Side == Buy {
			return a.v.StopPx < b.v.StopPx
		}
		return a.v.StopPx > b.v.StopPx
	}
	return a.v.ID < b.v.ID
}

func (s *symbol) removeStop(o *order) {
	stops := &s.buyStops
	if o.v.Side == Sell {
		stops = &s.sellStops
	}
	for i, x := range *stops {
		if x == o {
			n := len(*stops)
			copy((*stops)[i:], (*stops)[i+1:])
			(*stops)[n-1] = nil
			*stops = (*stops)[:n-1]
			return
		}
	}
}

// gtdHeap is a min-heap of (ExpireTime, OrderID). Entries of orders that
// ended otherwise are skipped when they surface.
type gtdHeap []gtdEntry

type gtdEntry struct {
	at int64
	id OrderID
}

func (h gtdHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].id < h[j].id
}

func (h *gtdHeap) push(x gtdEntry) {
	*h = append(*h, x)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *gtdHeap) pop() gtdEntry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && a.less(l, m) {
			m = l
		}
		if r < n && a.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
