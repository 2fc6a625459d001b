package fix

import (
	"sort"

	"venue/matching"
)

// refOrderCache is the gateway's order cache as it was before done orders
// went into a compact store (orders.go): every order in maps of pointers.
// It is the reference TestOrderCacheAgainstReference compares the cache
// with, answer by answer, after every event (from one goroutine: it has no
// lock). It shares the cache's clKey, cachedOrder and isDone.
type refOrderCache struct {
	byID    map[matching.OrderID]*cachedOrder
	byCl    map[clKey]matching.OrderID
	done    []matching.OrderID // ring of finished orders, oldest at doneAt
	doneAt  int
	maxDone int
}

func newRefOrderCache(maxDone int) *refOrderCache {
	if maxDone <= 0 {
		maxDone = 1
	}
	return &refOrderCache{
		byID:    map[matching.OrderID]*cachedOrder{},
		byCl:    map[clKey]matching.OrderID{},
		maxDone: maxDone,
	}
}

// put records an order's state after an event. firm is the firm of the
// order's account.
func (c *refOrderCache) put(v *matching.OrderView, firm matching.FirmID) {
	if v.ID == 0 {
		return
	}
	o := c.byID[v.ID]
	if o == nil {
		o = &cachedOrder{firm: firm}
		c.byID[v.ID] = o
	} else if isDone(o.v.Status) {
		return // already finished and queued for eviction
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
		c.finish(v.ID)
	}
}

// finish queues a done order for eviction, evicting the oldest when full.
func (c *refOrderCache) finish(id matching.OrderID) {
	if len(c.done) < c.maxDone {
		c.done = append(c.done, id)
		return
	}
	c.forget(c.done[c.doneAt])
	c.done[c.doneAt] = id
	c.doneAt = (c.doneAt + 1) % c.maxDone
}

// byClOrdID finds an order by a ClOrdID it had in session.
func (c *refOrderCache) byClOrdID(session matching.SessionID, cl string) (matching.OrderView, matching.FirmID, bool) {
	id, ok := c.byCl[clKey{session, cl}]
	if !ok {
		return matching.OrderView{}, 0, false
	}
	o := c.byID[id]
	return o.v, o.firm, true
}

// byOrderID finds an order by its OrderID.
func (c *refOrderCache) byOrderID(id matching.OrderID) (matching.OrderView, matching.FirmID, bool) {
	o := c.byID[id]
	if o == nil {
		return matching.OrderView{}, 0, false
	}
	return o.v, o.firm, true
}

// open returns the firm's working orders that keep says yes to, by OrderID.
func (c *refOrderCache) open(firm matching.FirmID, keep func(*matching.OrderView) bool) []matching.OrderView {
	var out []matching.OrderView
	for _, o := range c.byID {
		if o.firm == firm && !isDone(o.v.Status) && keep(&o.v) {
			out = append(out, o.v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *refOrderCache) forget(id matching.OrderID) {
	o := c.byID[id]
	if o == nil {
		return
	}
	for _, cl := range o.clIDs {
		k := clKey{o.v.Session, cl}
		if c.byCl[k] == id {
			delete(c.byCl, k)
		}
	}
	delete(c.byID, id)
}

// newDay follows the engine's NewDay: the day's ClOrdIDs and done orders
// are forgotten; working orders stay, addressable by OrderID.
func (c *refOrderCache) newDay() {
	for _, id := range c.done {
		c.forget(id)
	}
	c.done, c.doneAt = c.done[:0], 0
	clear(c.byCl)
	for _, o := range c.byID {
		o.clIDs = o.clIDs[:0]
	}
}
