package matching

import (
	"hash/maphash"
	"unsafe"
)

// clIndex is the day's ClOrdID index: (session, ClOrdID) → OrderID. It
// only grows during a day and is emptied whole at NewDay.
//
// Every new order and every cancel or replace probes it with a ClOrdID it
// has never seen, then adds it, and the engine is bound by memory latency
// (see BENCHMARKS.md), so the layout is about cache misses:
//   - a probe reads, and an insert writes, only slots: one uint32 per
//     slot, the position of the slot's entry in its low bits and a
//     fingerprint of the key's hash in the rest. 2 MiB for a day of
//     250,000 ids, against 20 MiB of full keys, and no pointer for the
//     collector to scan;
//   - the keys and their order ids are appended to ents in arrival order,
//     so adding one writes the cache line the previous one wrote (a
//     random write into a table of keys cost 200 ns a command, measured);
//     a probe reads an entry only when the fingerprint matches.
//
// With 2^b slots, at most half full, a position takes b-1 bits and the
// fingerprint the other 33-b: 14 bits at 2^19 slots, so a lookup of a new
// ClOrdID reads a stray entry about once in 10,000. At 2^28 slots (134
// million ids a day) it is 5 bits: still correct, more stray reads. The
// table cannot pass 2^32 slots. Linear probing, no deletions: a lookup
// that misses stops at the empty slot where the insert will go.
type clIndex struct {
	slots  []uint32 // 0: empty; else fingerprint<<posBits | entry position
	ents   []clEntry
	bits   uint // log2(len(slots))
	seed   maphash.Seed
	fpMask uint32 // the fingerprint bits of a slot
	ver    uint64 // changes with every insert, growth and reset (clHint)
}

type clEntry struct {
	key clKey
	id  OrderID
}

func newClIndex() clIndex {
	x := clIndex{seed: maphash.MakeSeed()}
	x.size(10)
	return x
}

// size makes the slots 2^bits, empty.
func (x *clIndex) size(bits uint) {
	x.slots = make([]uint32, 1<<bits)
	x.bits = bits
	x.fpMask = ^uint32(0) << (bits - 1)
}

func (x *clIndex) hash(k clKey) uint64 {
	return maphash.String(x.seed, k.id) ^ (uint64(k.session) * 0x9E3779B97F4A7C15)
}

// tag is the fingerprint of hash h in a slot's fingerprint bits, never 0:
// the top bits of h (the slot position comes from the low ones).
func (x *clIndex) tag(h uint64) uint32 {
	t := uint32(h>>32) & x.fpMask
	if t == 0 {
		t = 1 << (x.bits - 1)
	}
	return t
}

// probe returns the slot holding k, or the empty slot where k would go.
func (x *clIndex) probe(k clKey, h uint64) int {
	mask := len(x.slots) - 1
	t := x.tag(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 || (s&x.fpMask == t && x.ents[s&^x.fpMask].key == k) {
			return i
		}
	}
}

// A clHint is what lookup learnt of a key it did not find: its hash and
// the empty slot its insert takes, which holds only while the index is as
// lookup saw it (ver).
type clHint struct {
	slot int
	h    uint64
	ver  uint64
}

// lookup finds k; when absent, the hint is where insertAt puts it.
func (x *clIndex) lookup(k clKey) (hint clHint, found bool) {
	h := x.hash(k)
	slot := x.probe(k, h)
	return clHint{slot, h, x.ver}, x.slots[slot] != 0
}

// insertAt stores a key that lookup did not find, at the slot of its
// hint, or probes again when the index changed since (another insert, a
// growth, a reset: the slot may be taken, or belong to a smaller table).
func (x *clIndex) insertAt(hint clHint, k clKey, id OrderID) {
	if 2*(len(x.ents)+1) > len(x.slots) {
		x.grow()
	}
	if hint.ver != x.ver {
		hint.slot = x.probe(k, hint.h)
	}
	x.slots[hint.slot] = x.tag(hint.h) | uint32(len(x.ents))
	x.ents = append(x.ents, clEntry{key: k, id: id})
	x.ver++
	// Touch the entry a few inserts ahead: ents is a stream of writes to
	// lines not in the cache, and a store that misses holds up every store
	// behind it (the events are zeroed and written whole) until its line
	// arrives. Loaded ahead, it is there when written. Measured: 305 -> 238
	// ns a command on the benchmark mix, 236 -> 190 with Prefetch
	// (BENCHMARKS.md, fifth session); removing the entries' writes
	// altogether gave 182.
	if n := len(x.ents) + clAhead; n < cap(x.ents) {
		prefetch(uintptr(unsafe.Pointer(&x.ents[:n+1][n])))
	}
}

func (x *clIndex) get(k clKey) (OrderID, bool) {
	s := x.slots[x.probe(k, x.hash(k))]
	if s == 0 {
		return 0, false
	}
	return x.ents[s&^x.fpMask].id, true
}

// put maps k to id, replacing any earlier mapping.
func (x *clIndex) put(k clKey, id OrderID) {
	hint, found := x.lookup(k)
	if found {
		x.ents[x.slots[hint.slot]&^x.fpMask].id = id
		return
	}
	x.insertAt(hint, k, id)
}

// grow doubles the slots; the entries stay where they are.
func (x *clIndex) grow() {
	if x.bits == 32 {
		panic("matching: more than 2^31 ClOrdIDs in one day")
	}
	x.size(x.bits + 1)
	x.ver++
	mask := len(x.slots) - 1
	for j := range x.ents {
		h := x.hash(x.ents[j].key)
		i := int(h) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = x.tag(h) | uint32(j)
	}
}

// reset forgets every entry and keeps the table's size for the next day.
func (x *clIndex) reset() {
	clear(x.slots)
	clear(x.ents) // let the day's ClOrdID strings go
	x.ents = x.ents[:0]
	x.ver++
}

// clAhead is how many entries ahead insertAt loads: 8 entries, 256 bytes,
// four lines (4 and 8 measured the same).
const clAhead = 8
