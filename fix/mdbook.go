package fix

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"

	"venue/matching"
	"venue/refdata"
)

// Market-data entry types (269) as a bit set.
const (
	mdTypeBid   uint8 = 1 << 0 // 269=0
	mdTypeOffer uint8 = 1 << 1 // 269=1
	mdTypeTrade uint8 = 1 << 2 // 269=2
)

// bookSide is one side of the replica: aggregated levels, worst first and
// best last (like the engine's), so the levels that change most often are
// at the cheap end of the slice.
type bookSide struct {
	bid    bool
	levels []matching.Level
}

// before reports whether price a sorts before price b: worse first.
func (s *bookSide) before(a, b int64) bool {
	if s.bid {
		return a < b
	}
	return a > b
}

func (s *bookSide) find(px int64) (int, bool) {
	i := sort.Search(len(s.levels), func(i int) bool { return !s.before(s.levels[i].Px, px) })
	return i, i < len(s.levels) && s.levels[i].Px == px
}

// qty is the aggregate quantity at px (0: no level).
func (s *bookSide) qty(px int64) int64 {
	if i, ok := s.find(px); ok {
		return s.levels[i].Qty
	}
	return 0
}

// set makes the level at px qty (0 removes it) and returns what it was.
func (s *bookSide) set(px, qty int64) int64 {
	i, ok := s.find(px)
	switch {
	case ok && qty == 0:
		prev := s.levels[i].Qty
		s.levels = slices.Delete(s.levels, i, i+1)
		return prev
	case ok:
		prev := s.levels[i].Qty
		s.levels[i].Qty = qty
		return prev
	case qty != 0:
		s.levels = slices.Insert(s.levels, i, matching.Level{Px: px, Qty: qty})
	}
	return 0
}

// top appends the best n levels (0: all), best first, to dst.
func (s *bookSide) top(n int, dst []matching.Level) []matching.Level {
	for i := len(s.levels) - 1; i >= 0; i-- {
		if n > 0 && len(dst) == n {
			break
		}
		dst = append(dst, s.levels[i])
	}
	return dst
}

// feedKey names a feed: what one kind of subscription to a symbol sees.
type feedKey struct {
	depth int   // 264: 0 full book, N the best N levels per side
	types uint8 // 267 entry types
}

// mdFeed is the update stream of one symbol at one depth with one set of
// entry types. Every subscription of the same kind shares it: its updates
// are rendered once, and its RptSeq (83) is the same for all of them.
type mdFeed struct {
	key    feedKey
	rptSeq uint64
	// sent is what the feed's subscribers hold of a top-N book, best
	// first per side; unused for the full book.
	sent [2][]matching.Level
	subs []*mdSub
}

// mdEntry is one rendered MDEntry of an X.
type mdEntry struct {
	action, typ byte // 279, 269
	px, size    string
	rptSeq      uint64
	// trades: time and the aggressor's side (54).
	date, time string
	side       byte
}

// mdTrade is a trade waiting for the end of the burst.
type mdTrade struct {
	px, qty   int64
	aggressor matching.Side
	time      int64
}

// mdBook is the market-data replica of one symbol's book, built from the
// engine's EvLevel events, with the burst of changes not yet published.
type mdBook struct {
	sym    *refdata.Symbol
	sides  [2]bookSide
	status matching.SymbolStatus
	feeds  map[feedKey]*mdFeed

	// The burst: prices touched and their quantity before it, trades and
	// status changes, in event order.
	dirty    [2]map[int64]int64
	trades   []mdTrade
	statuses []matching.SymbolStatus
	statusAt []int64
}

func newMDBook(sym *refdata.Symbol) *mdBook {
	status := sym.Spec.Status // as listed; Seed and the status events set it after
	if status == 0 {
		status = matching.StatusOpen
	}
	return &mdBook{
		sym:    sym,
		sides:  [2]bookSide{{bid: true}, {bid: false}},
		status: status,
		feeds:  map[feedKey]*mdFeed{},
		dirty:  [2]map[int64]int64{{}, {}},
	}
}

func sideIndex(s matching.Side) int {
	if s == matching.Sell {
		return 1
	}
	return 0
}

// level applies an EvLevel.
func (b *mdBook) level(side matching.Side, px, qty int64) {
	i := sideIndex(side)
	prev := b.sides[i].set(px, qty)
	if _, seen := b.dirty[i][px]; !seen {
		b.dirty[i][px] = prev
	}
}

func (b *mdBook) busy() bool {
	return len(b.dirty[0]) > 0 || len(b.dirty[1]) > 0 || len(b.trades) > 0 || len(b.statuses) > 0
}

// endBurst forgets the burst once every feed has published it.
func (b *mdBook) endBurst() {
	clear(b.dirty[0])
	clear(b.dirty[1])
	b.trades = b.trades[:0]
	b.statuses = b.statuses[:0]
	b.statusAt = b.statusAt[:0]
}

// newFeed starts a feed on the current book.
func (b *mdBook) newFeed(k feedKey) *mdFeed {
	f := &mdFeed{key: k}
	if k.depth > 0 {
		for i, t := range [2]uint8{mdTypeBid, mdTypeOffer} {
			if k.types&t != 0 {
				f.sent[i] = b.sides[i].top(k.depth, nil)
			}
		}
	}
	return f
}

// snapshot is the feed's book as a W shows it, best first, bids then
// offers. Between bursts a top-N feed's sent levels are the book's top N.
func (b *mdBook) snapshot(f *mdFeed) []mdEntry {
	var out []mdEntry
	for i, t := range [2]uint8{mdTypeBid, mdTypeOffer} {
		if f.key.types&t == 0 {
			continue
		}
		levels := f.sent[i]
		if f.key.depth == 0 {
			levels = b.sides[i].top(0, nil)
		}
		for _, l := range levels {
			out = append(out, mdEntry{typ: '0' + byte(i), px: b.sym.PxDec(l.Px).String(), size: b.sym.QtyDec(l.Qty).String()})
		}
	}
	return out
}

// diff renders what the burst changed for feed f: trades, then per side
// the deleted levels, then the changed and new ones, each with the feed's
// next RptSeq. A top-N feed compares the new top N with what its
// subscribers hold, so a level that moves into the top N when another
// leaves it is sent as new (279=0).
func (b *mdBook) diff(f *mdFeed, out []mdEntry) []mdEntry {
	start := len(out)
	if f.key.types&mdTypeTrade != 0 {
		for _, t := range b.trades {
			ts := time.Unix(0, t.time).UTC()
			out = append(out, mdEntry{action: '0', typ: '2',
				px: b.sym.PxDec(t.px).String(), size: b.sym.QtyDec(t.qty).String(),
				date: ts.Format("20060102"), time: ts.Format("15:04:05.000"),
				side: '0' + byte(t.aggressor)})
		}
	}
	for i, t := range [2]uint8{mdTypeBid, mdTypeOffer} {
		if f.key.types&t == 0 || len(b.dirty[i]) == 0 {
			continue
		}
		typ := '0' + byte(i)
		side := &b.sides[i]
		if f.key.depth == 0 {
			pxs := make([]int64, 0, len(b.dirty[i]))
			for px := range b.dirty[i] {
				pxs = append(pxs, px)
			}
			slices.SortFunc(pxs, func(x, y int64) int {
				if side.before(y, x) { // best first
					return -1
				}
				if side.before(x, y) {
					return 1
				}
				return 0
			})
			for _, del := range [2]bool{true, false} {
				for _, px := range pxs {
					was, now := b.dirty[i][px], side.qty(px)
					switch {
					case was == now:
					case now == 0 && del:
						out = append(out, b.entry('2', typ, px, was))
					case was == 0 && !del:
						out = append(out, b.entry('0', typ, px, now))
					case was != 0 && now != 0 && !del:
						out = append(out, b.entry('1', typ, px, now))
					}
				}
			}
			continue
		}
		old := f.sent[i]
		top := side.top(f.key.depth, make([]matching.Level, 0, f.key.depth))
		in := func(ls []matching.Level, px int64) (int64, bool) {
			for _, l := range ls {
				if l.Px == px {
					return l.Qty, true
				}
			}
			return 0, false
		}
		for _, l := range old {
			if _, ok := in(top, l.Px); !ok {
				out = append(out, b.entry('2', typ, l.Px, l.Qty))
			}
		}
		for _, l := range top {
			q, ok := in(old, l.Px)
			switch {
			case !ok:
				out = append(out, b.entry('0', typ, l.Px, l.Qty))
			case q != l.Qty:
				out = append(out, b.entry('1', typ, l.Px, l.Qty))
			}
		}
		f.sent[i] = top
	}
	for j := start; j < len(out); j++ {
		f.rptSeq++
		out[j].rptSeq = f.rptSeq
	}
	return out
}

func (b *mdBook) entry(action, typ byte, px, qty int64) mdEntry {
	return mdEntry{action: action, typ: typ, px: b.sym.PxDec(px).String(), size: b.sym.QtyDec(qty).String()}
}

// mdGroup is a rendered NoMDEntries group, shared read only by the X of
// every subscriber of a feed: "268=N\x01" and every entry's fields, each
// "tag=value\x01", with the sum of its bytes for the checksum. The writer
// of each session puts its MDReqID before it and hands the body to
// quickfix.SendRawToTarget, which writes only the header around it: no
// per-subscriber field maps, build or checksum pass over the entries (with
// 200 subscribers those cost the order path most of its throughput).
type mdGroup struct {
	b   []byte
	sum int
}

// xGroup renders the entries of one X of symbol sym, its fields in the
// dictionary's order (md.xTemplate).
func (md *MarketData) xGroup(sym string, entries []mdEntry) mdGroup {
	b := make([]byte, 0, 16+len(entries)*(72+len(sym)))
	field := func(tag quickfix.Tag, v string) {
		b = strconv.AppendInt(b, int64(tag), 10)
		b = append(b, '=')
		b = append(b, v...)
		b = append(b, '\x01')
	}
	field(tagNoMDEntries, strconv.Itoa(len(entries)))
	for i := range entries {
		e := &entries[i]
		for _, el := range md.xTemplate {
			switch el.Tag() {
			case tagMDUpdateAction:
				field(tagMDUpdateAction, string(e.action))
			case tagMDEntryType:
				field(tagMDEntryType, string(e.typ))
			case tagSymbol:
				field(tagSymbol, sym)
			case tagMDEntryPx:
				field(tagMDEntryPx, e.px)
			case tagMDEntrySize:
				if e.action != '2' {
					field(tagMDEntrySize, e.size)
				}
			case tagMDEntryDate:
				if e.typ == '2' {
					field(tagMDEntryDate, e.date)
				}
			case tagMDEntryTime:
				if e.typ == '2' {
					field(tagMDEntryTime, e.time)
				}
			case tagSide:
				if e.typ == '2' {
					field(tagSide, string(e.side))
				}
			case tagRptSeq:
				b = strconv.AppendInt(append(b, "83="...), int64(e.rptSeq), 10)
				b = append(b, '\x01')
			}
		}
	}
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	return mdGroup{b: b, sum: sum}
}
