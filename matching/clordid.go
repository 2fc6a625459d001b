package matching

import "hash/maphash"

// clIndex is the day's ClOrdID index: (session, ClOrdID) → OrderID. It
// only grows during a day and is emptied whole at NewDay.
//
// Every new order and every cancel or replace probes it with a ClOrdID it
// has never seen, then adds it, and the engine is bound by memory latency
// (see BENCHMARKS.md), so the layout is about cache misses:
//   - a probe reads only fps, a 16-bit fingerprint per slot: 1 MiB for a
//     day of 250,000 ids, against 20 MiB of full keys;
//   - the keys and their order ids are appended to ents in arrival order,
//     so adding one writes the cache line the previous one wrote; a
//     random write into a table of keys cost 200 ns a command (measured);
//   - pos, the entry of each slot (2 MiB), is read only when the
//     fingerprint matches: for a ClOrdID not in the table, about once in
//     40,000 lookups.
//
// fps and pos hold no pointer, so the collector never scans them. Linear
// probing, no deletions: a lookup that misses stops at the empty slot
// where the insert will go.
type clIndex struct {
	fps  []uint16 // 0: empty
	pos  []uint32 // index into ents of the slot's key
	ents []clEntry
	seed maphash.Seed
}

type clEntry struct {
	key clKey
	id  OrderID
}

func newClIndex() clIndex {
	return clIndex{fps: make([]uint16, 1024), pos: make([]uint32, 1024), seed: maphash.MakeSeed()}
}

func (x *clIndex) hash(k clKey) uint64 {
	return maphash.String(x.seed, k.id) ^ (uint64(k.session) * 0x9E3779B97F4A7C15)
}

// fingerprint is the slot's tag for hash h: its top 16 bits, never 0.
func fingerprint(h uint64) uint16 { return max(uint16(h>>48), 1) }

// probe returns the slot holding k, or the empty slot where k would go.
func (x *clIndex) probe(k clKey, h uint64) int {
	mask := len(x.fps) - 1
	fp := fingerprint(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		f := x.fps[i]
		if f == 0 || (f == fp && x.ents[x.pos[i]].key == k) {
			return i
		}
	}
}

// lookup finds k; when absent, slot is where insertAt puts it.
func (x *clIndex) lookup(k clKey) (slot int, h uint64, found bool) {
	h = x.hash(k)
	slot = x.probe(k, h)
	return slot, h, x.fps[slot] != 0
}

// insertAt stores a key that lookup did not find, at the slot it
// returned, unless the table must grow first. (A day would need 2^32
// ClOrdIDs, a 64 GiB table of keys, to overflow pos.)
func (x *clIndex) insertAt(slot int, h uint64, k clKey, id OrderID) {
	if 2*(len(x.ents)+1) > len(x.fps) {
		x.grow()
		slot = x.probe(k, h)
	}
	x.fps[slot] = fingerprint(h)
	x.pos[slot] = uint32(len(x.ents))
	x.ents = append(x.ents, clEntry{key: k, id: id})
}

func (x *clIndex) get(k clKey) (OrderID, bool) {
	i := x.probe(k, x.hash(k))
	if x.fps[i] == 0 {
		return 0, false
	}
	return x.ents[x.pos[i]].id, true
}

// put maps k to id, replacing any earlier mapping.
func (x *clIndex) put(k clKey, id OrderID) {
	slot, h, found := x.lookup(k)
	if found {
		x.ents[x.pos[slot]].id = id
		return
	}
	x.insertAt(slot, h, k, id)
}

// grow doubles the slots; the entries stay where they are.
func (x *clIndex) grow() {
	x.fps = make([]uint16, 2*len(x.fps))
	x.pos = make([]uint32, len(x.fps))
	mask := len(x.fps) - 1
	for j := range x.ents {
		h := x.hash(x.ents[j].key)
		i := int(h) & mask
		for x.fps[i] != 0 {
			i = (i + 1) & mask
		}
		x.fps[i] = fingerprint(h)
		x.pos[i] = uint32(j)
	}
}

// reset forgets every entry and keeps the table's size for the next day.
func (x *clIndex) reset() {
	clear(x.fps)
	clear(x.ents) // let the day's ClOrdID strings go
	x.ents = x.ents[:0]
}

func (x *clIndex) len() int { return len(x.ents) }

// each calls f for every entry, in arrival order (callers that need a
// canonical order sort).
func (x *clIndex) each(f func(clKey, OrderID)) {
	for _, en := range x.ents {
		f(en.key, en.id)
	}
}
