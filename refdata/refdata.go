// Package refdata turns the configured reference data (symbols, firms,
// accounts, sessions) into the engine's integer world and back: it owns the
// units. A price is an integer count of the symbol's tick, a quantity an
// integer count of its quantity step, and a quote amount an integer count
// of tick × step, so every notional is exact. Conversions never round: a
// decimal that is not a whole number of units is refused.
package refdata

import (
	"errors"
	"fmt"
	"math"

	"github.com/shopspring/decimal"

	"venue/config"
	"venue/matching"
)

// Symbol is one tradable pair with its units.
type Symbol struct {
	Spec      matching.SymbolSpec // engine units: TickSize and QtyStep are 1
	Name      string
	Base      string // asset names
	Quote     string
	Tick      decimal.Decimal // quote currency per price unit
	QtyStep   decimal.Decimal // base currency per quantity unit
	QuoteUnit decimal.Decimal // Tick × QtyStep: quote currency per quote unit
	MinQty    decimal.Decimal
}

// Errors of the conversions; the FIX layer maps them to reject reasons.
var (
	ErrNotPositive = errors.New("must be positive")
	ErrOffUnit     = errors.New("not a whole multiple of the unit")
	ErrTooLarge    = errors.New("too large")
)

// units returns d / unit as an int64, exactly, or an error.
func units(d, unit decimal.Decimal) (int64, error) {
	if !d.IsPositive() {
		return 0, ErrNotPositive
	}
	q, r := d.QuoRem(unit, 0)
	if !r.IsZero() {
		return 0, ErrOffUnit
	}
	b := q.BigInt()
	if !b.IsInt64() {
		return 0, ErrTooLarge
	}
	return b.Int64(), nil
}

// Px converts a price to price units.
func (s *Symbol) Px(d decimal.Decimal) (int64, error) { return units(d, s.Tick) }

// Qty converts a base quantity to quantity units.
func (s *Symbol) Qty(d decimal.Decimal) (int64, error) { return units(d, s.QtyStep) }

// PxDec is the decimal of a price in units.
func (s *Symbol) PxDec(px int64) decimal.Decimal { return decimal.NewFromInt(px).Mul(s.Tick) }

// QtyDec is the decimal of a quantity in units.
func (s *Symbol) QtyDec(q int64) decimal.Decimal { return decimal.NewFromInt(q).Mul(s.QtyStep) }

// QuoteDec is the decimal of a quote amount (notional, fee) in quote units.
func (s *Symbol) QuoteDec(a int64) decimal.Decimal { return decimal.NewFromInt(a).Mul(s.QuoteUnit) }

// AvgPxDigits is the precision of AvgPx beyond the tick when the average is
// not a whole number of ticks.
const AvgPxDigits = 10

// AvgPx is notional / cum as a price: exact when it terminates within
// AvgPxDigits more digits than the tick, else rounded there, half away
// from zero (decimal.DivRound). A report's AvgPx is the only figure the
// venue rounds, since sum(LastPx×LastQty)/CumQty need not terminate.
func (s *Symbol) AvgPx(notional, cum int64) decimal.Decimal {
	if cum == 0 {
		return decimal.Zero
	}
	ticks := decimal.NewFromInt(notional).DivRound(decimal.NewFromInt(cum), AvgPxDigits)
	return ticks.Mul(s.Tick)
}

// Asset is an asset the engine knows, with its unit.
type Asset struct {
	ID   matching.AssetID
	Name string
	Unit decimal.Decimal // currency per engine unit
}

// Universe is the reference data the venue starts with.
type Universe struct {
	Symbols  []*Symbol
	Assets   []Asset
	bySymbol map[string]*Symbol
	byID     map[matching.SymbolID]*Symbol
	byAsset  map[string]Asset
}

// SymbolByName returns the symbol called name.
func (u *Universe) SymbolByName(name string) (*Symbol, bool) {
	s, ok := u.bySymbol[name]
	return s, ok
}

// SymbolByID returns the symbol with the engine id.
func (u *Universe) SymbolByID(id matching.SymbolID) (*Symbol, bool) {
	s, ok := u.byID[id]
	return s, ok
}

// AssetByName returns the asset called name.
func (u *Universe) AssetByName(name string) (Asset, bool) {
	a, ok := u.byAsset[name]
	return a, ok
}

// Per-order limits of every symbol, until the reference data sets them per
// symbol: 1,000 of the base currency and 100,000,000 of the quote currency.
var (
	defaultMaxQty      = decimal.NewFromInt(1_000)       // base currency per order
	defaultMaxNotional = decimal.NewFromInt(100_000_000) // quote currency per order
)

// FromConfig builds the universe from the configured symbols. Symbol ids
// are 1, 2, ... in the order of the file; asset ids in order of first
// appearance. Two symbols sharing an asset must agree on its unit (the
// quantity step of a base, tick × step of a quote).
func FromConfig(syms []config.Symbol) (*Universe, error) {
	u := &Universe{
		bySymbol: map[string]*Symbol{},
		byID:     map[matching.SymbolID]*Symbol{},
		byAsset:  map[string]Asset{},
	}
	asset := func(name string, unit decimal.Decimal) (matching.AssetID, error) {
		if a, ok := u.byAsset[name]; ok {
			if !a.Unit.Equal(unit) {
				return 0, fmt.Errorf("refdata: asset %s has unit %s in one symbol and %s in another", name, a.Unit, unit)
			}
			return a.ID, nil
		}
		if len(u.Assets) == matching.MaxAssets {
			return 0, fmt.Errorf("refdata: more than %d assets", matching.MaxAssets)
		}
		a := Asset{ID: matching.AssetID(len(u.Assets)), Name: name, Unit: unit}
		u.Assets = append(u.Assets, a)
		u.byAsset[name] = a
		return a.ID, nil
	}
	for i, c := range syms {
		s := &Symbol{
			Name: c.Name, Base: c.Base(), Quote: c.Quote(),
			Tick: c.Tick, QtyStep: c.QtyStep, QuoteUnit: c.Tick.Mul(c.QtyStep), MinQty: c.MinQty,
		}
		base, err := asset(s.Base, s.QtyStep)
		if err != nil {
			return nil, err
		}
		quote, err := asset(s.Quote, s.QuoteUnit)
		if err != nil {
			return nil, err
		}
		minQty, err := s.Qty(c.MinQty)
		if err != nil {
			return nil, fmt.Errorf("refdata: %s min_qty: %w", c.Name, err)
		}
		refPx, err := s.Px(c.RefPx)
		if err != nil {
			return nil, fmt.Errorf("refdata: %s ref_px: %w", c.Name, err)
		}
		maxQty, err := s.Qty(defaultMaxQty)
		if err != nil {
			return nil, fmt.Errorf("refdata: %s max qty: %w", c.Name, err)
		}
		maxNotional, err := units(defaultMaxNotional, s.QuoteUnit)
		if err != nil {
			return nil, fmt.Errorf("refdata: %s max notional: %w", c.Name, err)
		}
		if maxQty < minQty {
			maxQty = minQty
		}
		band := c.BandPct.Mul(decimal.NewFromInt(100)).IntPart()
		if refPx > math.MaxInt64/20000 {
			return nil, fmt.Errorf("refdata: %s ref_px: %w", c.Name, ErrTooLarge)
		}
		s.Spec = matching.SymbolSpec{
			ID: matching.SymbolID(i + 1), Name: c.Name, Base: base, Quote: quote,
			TickSize: 1, QtyStep: 1, MinQty: minQty, MaxQty: maxQty, MaxNotional: maxNotional,
			RefPx: refPx, BandBps: band, Status: matching.StatusOpen,
		}
		u.Symbols = append(u.Symbols, s)
		u.bySymbol[s.Name] = s
		u.byID[s.Spec.ID] = s
	}
	return u, nil
}
