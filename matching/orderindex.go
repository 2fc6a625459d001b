package matching

// orderIndex maps the OrderID of every live order to its struct.
//
// OrderIDs are handed out in sequence and most orders end young, so the
// index is a ring of the last len(ring) ids, indexed by id modulo its
// length: adding an order writes the slot next to the one before it, and
// finding one reads a single pointer of a table that stays in the cache.
// An order still live when its slot comes round again moves to old, a
// built-in map, which holds the few orders that outlive the window (and,
// for a book of a million resting orders, most of them). It replaces a
// built-in map of every live order, whose insert and lookup each touch a
// random slot of a table as large as the book.
type orderIndex struct {
	ring []*order // ring[id & mask]: ids in [window start, next id)
	old  map[OrderID]*order
	n    int
}

// orderRing is the length of the ring: 512 KiB of pointers.
const orderRing = 1 << 16

func newOrderIndex() orderIndex {
	return orderIndex{ring: make([]*order, orderRing), old: make(map[OrderID]*order)}
}

func (x *orderIndex) get(id OrderID) *order {
	if o := x.ring[id&(orderRing-1)]; o != nil && o.v.ID == id {
		return o
	}
	return x.old[id] // nil when absent
}

// put adds a live order; its id must not be in the index.
func (x *orderIndex) put(o *order) {
	slot := &x.ring[o.v.ID&(orderRing-1)]
	if prev := *slot; prev != nil {
		x.old[prev.v.ID] = prev
	}
	*slot = o
	x.n++
}

func (x *orderIndex) del(id OrderID) {
	slot := &x.ring[id&(orderRing-1)]
	if o := *slot; o != nil && o.v.ID == id {
		*slot = nil
		x.n--
		return
	}
	if _, ok := x.old[id]; ok {
		delete(x.old, id)
		x.n--
	}
}

func (x *orderIndex) len() int { return x.n }

// each calls f for every live order, in no particular order (callers
// sort).
func (x *orderIndex) each(f func(*order)) {
	for _, o := range x.ring {
		if o != nil {
			f(o)
		}
	}
	for _, o := range x.old {
		f(o)
	}
}
