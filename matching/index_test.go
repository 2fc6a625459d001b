package matching

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"unsafe"
)

// TestOrderIndexAgainstMap drives the order index and a built-in map with
// the same random puts and deletes, over ids that are sequential, sparse,
// and chosen to share home slots, and checks after every step that both
// agree on every id ever used.
func TestOrderIndexAgainstMap(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		x := newOrderIndex()
		ref := map[OrderID]*order{}
		var used []OrderID
		next := OrderID(1)
		for step := range 20_000 {
			if r.IntN(3) > 0 || len(ref) == 0 {
				var id OrderID
				switch r.IntN(3) {
				case 0:
					id = next
					next++
				case 1: // the ring slot of a later id
					id = next + orderRing*OrderID(1+r.IntN(4))
				default:
					id = OrderID(1 + r.Uint64N(1<<40))
				}
				if ref[id] != nil {
					continue
				}
				o := &order{v: OrderView{ID: id}}
				x.put(o)
				ref[id] = o
				used = append(used, id)
			} else {
				id := used[r.IntN(len(used))]
				x.del(id)
				delete(ref, id)
			}
			if x.len() != len(ref) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, x.len(), len(ref))
			}
			if step%97 == 0 || step > 19_000 {
				for _, id := range used {
					if got := x.get(id); got != ref[id] {
						t.Fatalf("seed %d step %d: get(%d) = %p, want %p", seed, step, id, got, ref[id])
					}
				}
			}
		}
		n := 0
		x.each(func(o *order) {
			n++
			if ref[o.v.ID] != o {
				t.Fatalf("seed %d: each gave %d, not live", seed, o.v.ID)
			}
		})
		if n != len(ref) {
			t.Fatalf("seed %d: each gave %d orders, want %d", seed, n, len(ref))
		}
	}
}

// TestClIndexAgainstMap does the same for the ClOrdID index, with keys
// that differ only by session or by one character, NewDay resets, and
// inserts whose lookup's hint went stale (another insert, a growth, a
// reset).
func TestClIndexAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	x := newClIndex()
	ref := map[clKey]OrderID{}
	var keys []clKey
	for step := range 30_000 {
		if step == 15_000 {
			x.reset()
			clear(ref)
		}
		k := clKey{SessionID(1 + r.IntN(3)), fmt.Sprintf("C%d", r.IntN(12_000))}
		id := OrderID(1 + r.IntN(1000))
		keys = append(keys, k)
		switch r.IntN(3) {
		case 0:
			x.put(k, id)
			ref[k] = id
		default:
			hint, found := x.lookup(k)
			_, want := ref[k]
			if found != want {
				t.Fatalf("step %d: lookup(%v) found %v, want %v", step, k, found, want)
			}
			if !found {
				if r.IntN(200) == 0 { // a NewDay between lookup and insert
					x.reset()
					clear(ref)
				}
				if r.IntN(4) == 0 { // the index changes (and may grow) between lookup and insert
					k2 := clKey{k.session, fmt.Sprintf("D%d", step)}
					x.put(k2, id+1)
					ref[k2] = id + 1
					keys = append(keys, k2)
				}
				x.insertAt(hint, k, id)
				ref[k] = id
			}
		}
		if len(x.ents) != len(ref) {
			t.Fatalf("step %d: %d entries, want %d", step, len(x.ents), len(ref))
		}
		if step%101 == 0 {
			for _, k := range keys {
				got, ok := x.get(k)
				want, wok := ref[k]
				if ok != wok || got != want {
					t.Fatalf("step %d: get(%v) = %d %v, want %d %v", step, k, got, ok, want, wok)
				}
			}
		}
	}
	for _, en := range x.ents {
		if ref[en.key] != en.id {
			t.Fatalf("entry %v -> %d, want %d", en.key, en.id, ref[en.key])
		}
	}
}

// TestHotStructSizes guards the layout the engine's speed depends on: an
// added field that pads OrderView past two cache lines, or the order past
// its 208-byte size class, shows here before it shows in a benchmark.
func TestHotStructSizes(t *testing.T) {
	if n := unsafe.Sizeof(OrderView{}); n > 128 {
		t.Errorf("OrderView is %d bytes, want at most 128", n)
	}
	if n := unsafe.Sizeof(order{}); n > 208 {
		t.Errorf("order is %d bytes, want at most 208", n)
	}
}

// BenchmarkClIndexNewID is the index alone on a day of new ClOrdIDs: the
// lookup that finds each absent and the insert, as NewOrderSingle does.
// Against BenchmarkEngineMix it shows how much of the index's cost there
// is the cache the rest of the engine shares with it.
func BenchmarkClIndexNewID(b *testing.B) {
	keys := make([]clKey, 250_000)
	for i := range keys {
		keys[i] = clKey{SessionID(10 + i%1000), fmt.Sprintf("C%09d", i)}
	}
	x := newClIndex()
	b.ResetTimer()
	for i := range b.N {
		j := i % len(keys)
		if j == 0 {
			x.reset()
		}
		hint, found := x.lookup(keys[j])
		if found {
			b.Fatalf("%v found on a fresh day", keys[j])
		}
		x.insertAt(hint, keys[j], OrderID(i+1))
	}
}

// TestFindLevel holds the branch-free search to sort.Search on random
// sides with and without the price, for both orders.
func TestFindLevel(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for range 20_000 {
		n := r.IntN(40)
		pxs := make([]int64, 0, n)
		for p := int64(r.IntN(3)); len(pxs) < n; p += int64(1 + r.IntN(3)) {
			pxs = append(pxs, p)
		}
		px := int64(r.IntN(3*n + 4))
		if got, want := findLevel(pxs, Buy, px), sort.Search(len(pxs), func(i int) bool { return pxs[i] >= px }); got != want {
			t.Fatalf("bids %v, px %d: %d, want %d", pxs, px, got, want)
		}
		slices.Reverse(pxs)
		if got, want := findLevel(pxs, Sell, px), sort.Search(len(pxs), func(i int) bool { return pxs[i] <= px }); got != want {
			t.Fatalf("asks %v, px %d: %d, want %d", pxs, px, got, want)
		}
	}
}

// TestRestoreRefusesOrderIDAhead: a snapshot whose resting order has an
// id the engine would hand out again, or id 0, is refused. Restored, the id would
// be given to a new order too, and the order index keeps one order per id.
func TestRestoreRefusesOrderIDAhead(t *testing.T) {
	e := New()
	var seq uint64
	ap := func(c Command) []Event { seq++; c.Seq = seq; return e.Apply(&c) }
	ap(Command{Kind: CmdAddSymbol, SymbolSpec: &SymbolSpec{ID: 1, Name: "BTC-USD", Base: 0, Quote: 1, TickSize: 1, QtyStep: 1,
		MinQty: 1, MaxQty: 1e11, MaxNotional: 4e18, RefPx: 6_000_000, BandBps: 2000, Status: StatusOpen}})
	ap(Command{Kind: CmdAddAccount, AccountSpec: &AccountSpec{ID: 10, Firm: 1, STP: STPCancelResting}})
	ap(Command{Kind: CmdDeposit, Account: 10, Asset: 0, Amount: 1e9, Key: "d"})
	evs := ap(Command{Kind: CmdNewOrder, Session: 7, Account: 10, Symbol: 1, Side: Sell, Type: Limit, TIF: GTC,
		Px: 6_000_001, Qty: 100, ClOrdID: "UNIQUECL"})
	if len(evs) == 0 || evs[0].Kind != EvAccepted || evs[0].Order.ID != 1 {
		t.Fatalf("setup: %+v", evs)
	}
	snap := e.MarshalSnapshot()
	if err := New().RestoreSnapshot(snap); err != nil {
		t.Fatalf("the snapshot as written is refused: %v", err)
	}
	// The order record: uvarint id 1, then the ClOrdID (length 8). The
	// ClOrdID index's record of it starts with the session, 7.
	rec := append([]byte{1, 8}, "UNIQUECL"...)
	at := bytes.Index(snap, rec)
	if at < 0 || bytes.Contains(snap[at+1:], rec) {
		t.Fatalf("order record not found once in the snapshot")
	}
	for _, id := range []byte{127, 0} { // past the engine's next one (2); the id no order has
		bad := slices.Clone(snap)
		bad[at] = id
		if err := New().RestoreSnapshot(bad); err == nil {
			t.Fatalf("a snapshot with an order of id %d was restored", id)
		}
	}
}

// TestEventSize guards the event's layout: every event is zeroed and
// copied whole, so padding costs on every command.
func TestEventSize(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n > 448 {
		t.Errorf("Event is %d bytes, want at most 448", n)
	}
}

// TestInvariantsCatchPriceArray: the search's price array must mirror the
// levels; CheckInvariants notices a price that disagrees and an array of
// the wrong length (the randomized tests rely on it to catch a rest or
// dropLevel that forgets one of the two).
func TestInvariantsCatchPriceArray(t *testing.T) {
	h := newHarness(t)
	for _, px := range []int64{59_000, 59_500, 58_000} {
		h.limit(10, Buy, usdPx(px), 10_000)
	}
	s := h.e.symbols[symUSD]
	if len(s.bidPx) != 3 {
		t.Fatalf("%d bid prices, want 3", len(s.bidPx))
	}
	s.bidPx[1]++
	if err := h.e.CheckInvariants(); err == nil || !strings.Contains(err.Error(), "price") {
		t.Fatalf("a wrong price: %v", err)
	}
	s.bidPx[1]--
	s.bidPx = s.bidPx[:2]
	if err := h.e.CheckInvariants(); err == nil || !strings.Contains(err.Error(), "2 prices for 3 levels") {
		t.Fatalf("a short array: %v", err)
	}
	s.bidPx = s.bidPx[:3]
	if err := h.e.CheckInvariants(); err != nil {
		t.Fatalf("restored: %v", err)
	}
}
