package fix

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"venue/matching"
)

// TestOrderCacheAgainstReference drives the cache and refOrderCache (the
// cache as it was, every order in maps of pointers) with the same random
// order lives: accepts, fills, replaces with new ClOrdIDs, cancels and
// expiries, events for orders already done, new days, ClOrdIDs empty,
// short and too long to fit a record, sessions sharing ClOrdIDs. After
// every event both must give the same answer to every lookup by OrderID
// and by ClOrdID, and the same open orders for every firm. A small
// maxDone makes the done store evict and wrap many times.
func TestOrderCacheAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			// The last ones span two chunks and have days long enough to
			// fill and wrap the store.
			maxDone := []int{1, 7, 300, 4100}[seed-1]
			dayLen := []int{100, 100, 50_000, 500_000}[seed-1] // about the steps of a day
			// With short days and few ClOrdIDs, orders that live through a
			// new day share theirs with the next day's often.
			space := []int{40, 40, 5000, 5000}[seed-1]
			got, want := newOrderCache(maxDone), newRefOrderCache(maxDone)
			type life struct {
				v    matching.OrderView
				firm matching.FirmID
				cls  []string
			}
			var lives []*life
			var seen []*life // every order ever, for lookups and late events
			// A ClOrdID is the day's in its session, as the engine keeps
			// it (a duplicate is rejected, and rejects are not cached);
			// other sessions and later days use the same ones.
			used := map[clKey]bool{}
			clordid := func(sess matching.SessionID) string {
				for {
					var cl string
					switch r.IntN(10) {
					case 0:
						return ""
					case 1:
						cl = strings.Repeat("L", 60+r.IntN(200)) + fmt.Sprint(r.IntN(1e6))
					default:
						cl = fmt.Sprintf("C%d", r.IntN(space))
					}
					if k := (clKey{sess, cl}); !used[k] {
						used[k] = true
						return cl
					}
				}
			}
			nextID := matching.OrderID(1)
			filled := false
			for step := 0; step < 40_000; step++ {
				var l *life
				switch x := r.IntN(100); {
				case x < 30 || len(lives) == 0: // a new order
					l = &life{firm: matching.FirmID(1 + r.IntN(3))}
					l.v = randomView(r)
					l.v.ID, nextID = nextID, nextID+1
					l.v.Session = matching.SessionID(1 + r.IntN(4))
					l.v.ClOrdID, l.v.OrigClOrdID = clordid(l.v.Session), ""
					l.v.Status = matching.StatusNew
					lives = append(lives, l)
					seen = append(seen, l)
				case x < 90: // an event of a working order
					i := r.IntN(len(lives))
					l = lives[i]
					v := randomView(r)
					v.ID, v.Session, v.Account = l.v.ID, l.v.Session, l.v.Account
					v.ClOrdID, v.OrigClOrdID = l.v.ClOrdID, l.v.OrigClOrdID
					switch r.IntN(5) {
					case 0: // replaced
						v.OrigClOrdID, v.ClOrdID = l.v.ClOrdID, clordid(v.Session)
						v.Status = matching.StatusNew
					case 1:
						v.Status = matching.StatusPartiallyFilled
					default:
						v.Status = []matching.OrdStatus{matching.StatusFilled, matching.StatusCanceled,
							matching.StatusExpired, matching.StatusRejected}[r.IntN(4)]
					}
					l.v = v
					if isDone(v.Status) {
						lives[i] = lives[len(lives)-1]
						lives = lives[:len(lives)-1]
					}
				case x < 95 && len(seen) > 0: // a late event of any order, done ones too
					l = seen[r.IntN(len(seen))]
					if r.IntN(2) == 0 {
						l = seen[len(seen)-1] // the newest order: the highest id put
					}
				case x < 96 && r.IntN(dayLen) < 100:
					got.newDay()
					want.newDay()
					clear(used)
					for _, o := range seen {
						o.cls = o.cls[:0] // the day's ClOrdIDs are forgotten
					}
					continue
				default:
					continue
				}
				got.put(&l.v, l.firm)
				want.put(&l.v, l.firm)
				if l.v.ClOrdID != "" {
					l.cls = append(l.cls, l.v.ClOrdID)
				}
				// Every lookup, both ways.
				for k := 0; k < 8; k++ {
					o := seen[r.IntN(len(seen))]
					id := o.v.ID
					if k == 0 {
						id = nextID + 5 // never an order
					}
					v1, f1, ok1 := got.byOrderID(id)
					v2, f2, ok2 := want.byOrderID(id)
					if ok1 != ok2 || f1 != f2 || !reflect.DeepEqual(v1, v2) {
						t.Fatalf("step %d: byOrderID(%d) = %+v %d %v, want %+v %d %v", step, id, v1, f1, ok1, v2, f2, ok2)
					}
					if len(o.cls) == 0 {
						continue
					}
					cl := o.cls[r.IntN(len(o.cls))]
					sess := o.v.Session
					if k == 1 {
						sess++ // another session's ClOrdID
					}
					v1, f1, ok1 = got.byClOrdID(sess, cl)
					v2, f2, ok2 = want.byClOrdID(sess, cl)
					if ok1 != ok2 || f1 != f2 || !reflect.DeepEqual(v1, v2) {
						t.Fatalf("step %d: byClOrdID(%d, %.20q) = %+v %d %v, want %+v %d %v", step, sess, cl, v1, f1, ok1, v2, f2, ok2)
					}
				}
				if got.done.n == maxDone {
					filled = true
				}
				if step%50 == 0 {
					for firm := matching.FirmID(1); firm <= 3; firm++ {
						all := func(*matching.OrderView) bool { return true }
						if a, b := got.open(firm, all), want.open(firm, all); !reflect.DeepEqual(a, b) {
							t.Fatalf("step %d: firm %d: %d open orders, want %d", step, firm, len(a), len(b))
						}
					}
				}
			}
			if !filled {
				t.Fatalf("the done store (max %d) never filled: nothing was evicted", maxDone)
			}
		})
	}
}

// randomView fills every field of an OrderView, by reflection, so that a
// field added to it later and not kept by the done store fails the test.
func randomView(r *rand.Rand) matching.OrderView {
	var v matching.OrderView
	rv := reflect.ValueOf(&v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(r.IntN(2) == 0)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(r.Int64N(1 << 40))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(1 + r.IntN(250)))
		case reflect.String:
			f.SetString(fmt.Sprint("s", r.IntN(100)))
		default:
			panic(fmt.Sprintf("OrderView field %s of kind %s: teach randomView and the done store", rv.Type().Field(i).Name, f.Kind()))
		}
	}
	return v
}

// A done order's view comes back from the store field for field.
func TestDoneStoreKeepsEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := newOrderCache(10)
	for i := 0; i < 200; i++ {
		v := randomView(r)
		v.ID = matching.OrderID(1 + i)
		v.Status = matching.StatusFilled
		if i%3 == 0 {
			v.ClOrdID = strings.Repeat("x", 100+i) // overflow
		}
		c.put(&v, 2)
		got, firm, ok := c.byOrderID(v.ID)
		if !ok || firm != 2 || !reflect.DeepEqual(got, v) {
			t.Fatalf("order %d: %+v %d %v, want %+v", v.ID, got, firm, ok, v)
		}
	}
	if c.done.n != 10 || len(c.done.byID) != 10 || len(c.done.overflow) > 10 {
		t.Fatalf("store holds %d records, %d ids, %d overflows; want 10", c.done.n, len(c.done.byID), len(c.done.overflow))
	}
	// New days reuse the store's memory.
	for day := 0; day < 3; day++ {
		c.newDay()
		for i := 0; i < 25; i++ {
			v := randomView(r)
			v.ID, v.Status = matching.OrderID(1000*(day+1)+i), matching.StatusCanceled
			c.put(&v, 1)
		}
	}
	if len(c.done.chunks) != 1 || len(c.done.chunks[0]) != 10 {
		t.Fatalf("after three days the store has %d chunks", len(c.done.chunks))
	}
}

// A working order that lived through a new day shares its ClOrdID with
// one of the new day's (the engine forgets ClOrdIDs at NewDay): lookups
// by that ClOrdID find the order that had it last, as the reference's do,
// after both finished.
func TestOrderCacheClOrdIDReusedAcrossDays(t *testing.T) {
	got, want := newOrderCache(100), newRefOrderCache(100)
	put := func(v matching.OrderView) {
		got.put(&v, 1)
		want.put(&v, 1)
	}
	a := matching.OrderView{ID: 1, Session: 1, ClOrdID: "X", Status: matching.StatusNew, Qty: 10, Leaves: 10}
	put(a)
	got.newDay()
	want.newDay()
	b := matching.OrderView{ID: 2, Session: 1, ClOrdID: "X", Status: matching.StatusNew, Qty: 5, Leaves: 5}
	put(b)
	a.Status, a.Cum, a.Leaves = matching.StatusPartiallyFilled, 1, 9
	put(a) // yesterday's order trades: its events carry X
	b.Status, b.Cum, b.Leaves = matching.StatusFilled, 5, 0
	put(b)
	a.Status, a.OrigClOrdID, a.ClOrdID, a.Leaves = matching.StatusCanceled, "X", "Z", 0
	put(a)
	for _, cl := range []string{"X", "Z"} {
		v1, _, ok1 := got.byClOrdID(1, cl)
		v2, _, ok2 := want.byClOrdID(1, cl)
		if ok1 != ok2 || !reflect.DeepEqual(v1, v2) {
			t.Fatalf("byClOrdID(1, %s) = order %d (%v), the reference's %d (%v)", cl, v1.ID, ok1, v2.ID, ok2)
		}
	}
}

// An order replaced twice, with ClOrdIDs of 20 bytes, is kept inline: the
// overflow map (pointers, scanned by the collector) is for longer ones.
func TestDoneStoreKeepsReplacedOrdersInline(t *testing.T) {
	c := newOrderCache(10)
	cl := func(i int) string { return fmt.Sprintf("%020d", i) }
	v := matching.OrderView{ID: 1, Session: 1, ClOrdID: cl(1), Status: matching.StatusNew}
	c.put(&v, 1)
	for i := 2; i <= 3; i++ {
		v.OrigClOrdID, v.ClOrdID = v.ClOrdID, cl(i)
		c.put(&v, 1)
	}
	v.Status = matching.StatusFilled
	c.put(&v, 1)
	if len(c.done.overflow) != 0 {
		t.Fatalf("a twice-replaced order went to overflow (%d bytes inline at most)", doneInline)
	}
	for i := 1; i <= 3; i++ {
		if got, _, ok := c.byClOrdID(1, cl(i)); !ok || got != v {
			t.Fatalf("byClOrdID(%s) = %+v %v, want %+v", cl(i), got, ok, v)
		}
	}
}
