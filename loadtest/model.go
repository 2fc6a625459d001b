package loadtest

import (
	"errors"
	"math/rand/v2"
	"strconv"
)

// Symbol is what the price model needs to know of the traded pair: all
// amounts are integers in the symbol's units, as inside the engine.
type Symbol struct {
	Name        string
	PxDecimals  int   // decimals of one price unit: BTC-USD 0.01 USD -> 2
	QtyDecimals int   // decimals of one quantity unit: BTC 1e-8 -> 8
	RefPxTicks  int64 // reference price in ticks: 60,000.00 -> 6,000,000
	BandBps     int64 // price band around the reference, basis points: 20 % -> 2000
	MinQtySats  int64 // smallest order quantity: 0.0001 BTC -> 10,000
	MaxQtySats  int64 // largest quantity the model sends: 0.01 BTC -> 1,000,000
}

// BTCUSD is the dev venue's symbol (DESIGN.md, dev configuration contract).
var BTCUSD = Symbol{
	Name:        "BTC-USD",
	PxDecimals:  2,
	QtyDecimals: 8,
	RefPxTicks:  6_000_000,
	BandBps:     2000,
	MinQtySats:  10_000,
	MaxQtySats:  1_000_000,
}

// bandTicks returns the lowest and highest price the band allows around
// the reference (inclusive, rounded inwards to the tick).
func (s Symbol) bandTicks() (lo, hi int64) {
	d := s.RefPxTicks * s.BandBps / 10_000
	return s.RefPxTicks - d, s.RefPxTicks + d
}

// Side is FIX Side (54).
type Side byte

const (
	Buy  Side = '1'
	Sell Side = '2'
)

// TIF is FIX TimeInForce (59).
type TIF byte

const (
	GTC TIF = '1'
	IOC TIF = '3'
)

// Role is what a simulated trader does.
type Role int

const (
	// Maker posts limit orders a few ticks away from the mid and
	// cancels them to keep its resting orders bounded.
	Maker Role = iota
	// Taker sends orders that cross the makers' quotes: mostly IOC,
	// some GTC limits whose remainder rests until canceled.
	Taker
)

func (r Role) String() string {
	if r == Maker {
		return "maker"
	}
	return "taker"
}

// Order is one new order the model wants sent: integers only.
type Order struct {
	Side      Side
	PxTicks   int64
	QtySats   int64
	TIF       TIF
	IsTaker   bool // meant to cross the book
	IsResting bool // GTC: it may rest and need a cancel later
}

// Model generates the orders of one simulated trader. It is a pure
// function of its seed: no clock, no global randomness.
type Model struct {
	sym  Symbol
	rng  *rand.Rand
	mid  int64 // ticks
	take int   // taker share of a mixed trader's orders, per mille
}

const (
	// makerLevels is how many ticks from the mid makers quote: 1..makerLevels.
	makerLevels = 10
	// takerReach is how far past the mid a taker's limit goes, so it
	// crosses every maker level.
	takerReach = makerLevels + 2
	// takerGTCPerMille is the share of a taker's orders that are GTC limits
	// a few ticks through the mid (their remainder rests) instead of IOC.
	takerGTCPerMille = 100
)

// NewModel returns the order model of a trader on sym. takePerMille is the
// share of taker orders: 0 for a maker, 1000 for a taker, in between for a
// session that does both.
func NewModel(sym Symbol, seed uint64, takePerMille int) *Model {
	return &Model{
		sym:  sym,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		mid:  sym.RefPxTicks,
		take: takePerMille,
	}
}

// Next returns the trader's next order.
func (m *Model) Next() Order {
	o := Order{QtySats: m.qty()}
	if m.rng.IntN(2) == 0 {
		o.Side = Buy
	} else {
		o.Side = Sell
	}
	sign := int64(1) // a buy takes at or above the mid, makes below it
	if o.Side == Sell {
		sign = -1
	}
	if m.rng.IntN(1000) < m.take {
		o.IsTaker = true
		if m.rng.IntN(1000) < takerGTCPerMille {
			o.TIF = GTC
			o.IsResting = true
			o.PxTicks = m.mid + sign*int64(1+m.rng.IntN(makerLevels/2))
		} else {
			o.TIF = IOC
			o.PxTicks = m.mid + sign*takerReach
		}
	} else {
		o.TIF = GTC
		o.IsResting = true
		o.PxTicks = m.mid - sign*int64(1+m.rng.IntN(makerLevels))
	}
	lo, hi := m.sym.bandTicks()
	o.PxTicks = min(max(o.PxTicks, lo), hi)
	return o
}

// qty draws a quantity in [MinQtySats, MaxQtySats], skewed to small sizes
// as real flow is: half the draws below a tenth of the range.
func (m *Model) qty() int64 {
	span := m.sym.MaxQtySats - m.sym.MinQtySats
	if m.rng.IntN(2) == 0 {
		span /= 10
	}
	return m.sym.MinQtySats + m.rng.Int64N(span+1)
}

// Intn returns a pseudo-random int in [0, n) from the trader's stream, for
// the choices around the orders (which resting order to cancel).
func (m *Model) Intn(n int) int { return m.rng.IntN(n) }

// appendFixed appends v / 10^decimals as a decimal string with exactly
// decimals digits after the point: appendFixed(b, 6000000, 2) is
// "60000.00". Integers in, digits out: no float ever holds an amount.
func appendFixed(dst []byte, v int64, decimals int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v // the model's amounts are far from MinInt64
	}
	var buf [24]byte
	digits := strconv.AppendInt(buf[:0], v, 10)
	if len(digits) <= decimals {
		dst = append(dst, '0')
		if decimals > 0 {
			dst = append(dst, '.')
		}
		for i := len(digits); i < decimals; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	intLen := len(digits) - decimals
	dst = append(dst, digits[:intLen]...)
	if decimals > 0 {
		dst = append(dst, '.')
		dst = append(dst, digits[intLen:]...)
	}
	return dst
}

var errFixed = errors.New("not a decimal in the expected units")

// parseFixed parses an unsigned decimal string into an integer count of
// 10^-decimals: parseFixed("0.0100", 8) is 1,000,000. More digits after
// the point are accepted only when they are zeros; nothing is rounded.
func parseFixed(v []byte, decimals int) (int64, error) {
	if len(v) == 0 {
		return 0, errFixed
	}
	var n int64
	seenDot, anyDigit := false, false
	frac := 0
	digits := 0
	for _, c := range v {
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9':
			anyDigit = true
			if seenDot {
				if frac == decimals {
					if c != '0' {
						return 0, errFixed
					}
					continue
				}
				frac++
			}
			if digits == 18 {
				return 0, errFixed
			}
			n = n*10 + int64(c-'0')
			if n != 0 {
				digits++
			}
		default:
			return 0, errFixed
		}
	}
	if !anyDigit {
		return 0, errFixed
	}
	for ; frac < decimals; frac++ {
		if n > (1<<63-1)/10 {
			return 0, errFixed
		}
		n *= 10
	}
	return n, nil
}
