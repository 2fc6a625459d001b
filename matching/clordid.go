package matching

import "hash/maphash"

// clIndex is the day's ClOrdID index: (session, ClOrdID) → OrderID. It
// only grows during a day and is emptied whole at NewDay, so it is an
// open-addressing table with linear probing and no deletions: a lookup
// that misses stops at the empty slot where the insert will go, so the
// usual check-then-insert of a new ClOrdID touches memory once. Built-in
// maps cost two probes of a table far larger than the cache.
type clIndex struct {
	slots []clSlot
	n     int
	seed  maphash.Seed
}

type clSlot struct {
	hash uint64 // 0: empty
	id   OrderID
	key  clKey
}

func newClIndex() clIndex {
	return clIndex{slots: make([]clSlot, 1024), seed: maphash.MakeSeed()}
}

func (x *clIndex) hash(k clKey) uint64 {
	h := maphash.String(x.seed, k.id) ^ (uint64(k.session) * 0x9E3779B97F4A7C15)
	if h == 0 {
		h = 1
	}
	return h
}

// probe returns the slot holding k, or the empty slot where k would go.
func (x *clIndex) probe(k clKey, h uint64) int {
	mask := len(x.slots) - 1
	i := int(h) & mask
	for {
		s := &x.slots[i]
		if s.hash == 0 || (s.hash == h && s.key == k) {
			return i
		}
		i = (i + 1) & mask
	}
}

// lookup finds k; when absent, slot is where insertAt puts it.
func (x *clIndex) lookup(k clKey) (slot int, h uint64, found bool) {
	h = x.hash(k)
	slot = x.probe(k, h)
	return slot, h, x.slots[slot].hash != 0
}

// insertAt stores a key that lookup did not find, at the slot it
// returned, unless the table must grow first.
func (x *clIndex) insertAt(slot int, h uint64, k clKey, id OrderID) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
		slot = x.probe(k, h)
	}
	x.n++
	x.slots[slot] = clSlot{hash: h, id: id, key: k}
}

func (x *clIndex) get(k clKey) (OrderID, bool) {
	s := &x.slots[x.probe(k, x.hash(k))]
	return s.id, s.hash != 0
}

// put maps k to id, replacing any earlier mapping.
func (x *clIndex) put(k clKey, id OrderID) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	h := x.hash(k)
	s := &x.slots[x.probe(k, h)]
	if s.hash == 0 {
		x.n++
	}
	*s = clSlot{hash: h, id: id, key: k}
}

func (x *clIndex) grow() {
	old := x.slots
	x.slots = make([]clSlot, 2*len(old))
	for _, s := range old {
		if s.hash != 0 {
			x.slots[x.probe(s.key, s.hash)] = s
		}
	}
}

// reset forgets every entry and keeps the table's size for the next day.
func (x *clIndex) reset() {
	clear(x.slots)
	x.n = 0
}

func (x *clIndex) len() int { return x.n }

// each calls f for every entry, in table order (not deterministic across
// processes: callers sort).
func (x *clIndex) each(f func(clKey, OrderID)) {
	for _, s := range x.slots {
		if s.hash != 0 {
			f(s.key, s.id)
		}
	}
}
