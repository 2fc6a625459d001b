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
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"

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

	pxFmt, qtyFmt, quoteFmt unitFormat // set by SymbolDef.Build
}

// AppendPx appends the decimal of a price in units (as PxDec(px).String()).
func (s *Symbol) AppendPx(dst []byte, px int64) []byte { return s.pxFmt.appendUnits(dst, px) }

// AppendQty appends the decimal of a quantity in units.
func (s *Symbol) AppendQty(dst []byte, q int64) []byte { return s.qtyFmt.appendUnits(dst, q) }

// AppendQuote appends the decimal of a quote amount in units.
func (s *Symbol) AppendQuote(dst []byte, a int64) []byte { return s.quoteFmt.appendUnits(dst, a) }

// AppendAvgPx appends AvgPx(notional, cum).String(): exactly a price in
// units when the average is a whole number of ticks (one fill, or fills at
// one price), else the rounded decimal.
func (s *Symbol) AppendAvgPx(dst []byte, notional, cum int64) []byte {
	if cum != 0 && notional%cum == 0 {
		return s.AppendPx(dst, notional/cum)
	}
	return append(dst, s.AvgPx(notional, cum).String()...)
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

// Universe is the symbols and assets the venue knows. It is safe for
// concurrent use: lookups read an immutable snapshot without locking, and
// Add (a symbol listed while the venue runs, `venue admin symbol add`)
// publishes a new one. A symbol, once known, never changes or goes away:
// its units are how every journaled amount of it is read.
type Universe struct {
	mu  sync.Mutex // serializes Add
	cur atomic.Pointer[universe]
}

type universe struct {
	symbols  []*Symbol // ascending by id
	assets   []Asset   // ascending by id
	bySymbol map[string]*Symbol
	byID     map[matching.SymbolID]*Symbol
	byAsset  map[string]Asset
}

func (u *Universe) load() *universe {
	if c := u.cur.Load(); c != nil {
		return c
	}
	return &universe{}
}

// Symbols returns every symbol, ascending by id.
func (u *Universe) Symbols() []*Symbol { return u.load().symbols }

// Assets returns every asset, ascending by id.
func (u *Universe) Assets() []Asset { return u.load().assets }

// SymbolByName returns the symbol called name.
func (u *Universe) SymbolByName(name string) (*Symbol, bool) {
	s, ok := u.load().bySymbol[name]
	return s, ok
}

// SymbolByID returns the symbol with the engine id.
func (u *Universe) SymbolByID(id matching.SymbolID) (*Symbol, bool) {
	s, ok := u.load().byID[id]
	return s, ok
}

// AssetByName returns the asset called name.
func (u *Universe) AssetByName(name string) (Asset, bool) {
	a, ok := u.load().byAsset[name]
	return a, ok
}

// AssetByID returns the asset with the engine id.
func (u *Universe) AssetByID(id matching.AssetID) (Asset, bool) {
	for _, a := range u.load().assets {
		if a.ID == id {
			return a, true
		}
	}
	return Asset{}, false
}

// Add makes a symbol known with its assets. Adding what is already known,
// identically, is a no-op (the venue reads its symbols at start and again
// from the back office); a symbol or asset that disagrees with what is
// known (another id under the same name, another unit for an asset) is
// refused, and nothing changes.
func (u *Universe) Add(s *Symbol, assets ...Asset) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := u.load()
	for _, a := range assets {
		if err := old.checkAsset(a); err != nil {
			return err
		}
	}
	if k, ok := old.byID[s.Spec.ID]; ok {
		if k.Name != s.Name || k.Spec != s.Spec || !k.Tick.Equal(s.Tick) || !k.QtyStep.Equal(s.QtyStep) {
			return fmt.Errorf("refdata: symbol id %d is %s already", s.Spec.ID, k.Name)
		}
		return nil
	}
	if k, ok := old.bySymbol[s.Name]; ok {
		return fmt.Errorf("refdata: symbol %s has id %d already, not %d", s.Name, k.Spec.ID, s.Spec.ID)
	}
	nu := &universe{
		symbols:  slices.Clone(old.symbols),
		assets:   slices.Clone(old.assets),
		bySymbol: maps.Clone(old.bySymbol),
		byID:     maps.Clone(old.byID),
		byAsset:  maps.Clone(old.byAsset),
	}
	if nu.bySymbol == nil {
		nu.bySymbol, nu.byID, nu.byAsset = map[string]*Symbol{}, map[matching.SymbolID]*Symbol{}, map[string]Asset{}
	}
	for _, a := range assets {
		if _, ok := nu.byAsset[a.Name]; !ok {
			nu.byAsset[a.Name] = a
			nu.assets = append(nu.assets, a)
		}
	}
	slices.SortFunc(nu.assets, func(a, b Asset) int { return int(a.ID) - int(b.ID) })
	base, okB := nu.byAsset[s.Base]
	quote, okQ := nu.byAsset[s.Quote]
	switch {
	case !okB || !okQ:
		return fmt.Errorf("refdata: symbol %s: assets %s and %s must be known", s.Name, s.Base, s.Quote)
	case base.ID != s.Spec.Base || quote.ID != s.Spec.Quote:
		return fmt.Errorf("refdata: symbol %s: assets %s/%s are ids %d/%d, not %d/%d", s.Name, s.Base, s.Quote,
			base.ID, quote.ID, s.Spec.Base, s.Spec.Quote)
	case !base.Unit.Equal(s.QtyStep):
		return fmt.Errorf("refdata: symbol %s: qty_step %s is not the unit of %s (%s)", s.Name, s.QtyStep, s.Base, base.Unit)
	case !quote.Unit.Equal(s.QuoteUnit):
		return fmt.Errorf("refdata: symbol %s: tick × qty_step %s is not the unit of %s (%s)", s.Name, s.QuoteUnit, s.Quote, quote.Unit)
	}
	nu.symbols = append(nu.symbols, s)
	slices.SortFunc(nu.symbols, func(a, b *Symbol) int { return int(a.Spec.ID) - int(b.Spec.ID) })
	nu.bySymbol[s.Name] = s
	nu.byID[s.Spec.ID] = s
	u.cur.Store(nu)
	return nil
}

// checkAsset refuses an asset that disagrees with a known one.
func (k *universe) checkAsset(a Asset) error {
	if a.ID >= matching.MaxAssets {
		return fmt.Errorf("refdata: asset %s: id %d beyond the engine's %d assets", a.Name, a.ID, matching.MaxAssets)
	}
	if !a.Unit.IsPositive() {
		return fmt.Errorf("refdata: asset %s: unit %s must be positive", a.Name, a.Unit)
	}
	for _, o := range k.assets {
		switch {
		case o.Name == a.Name && (o.ID != a.ID || !o.Unit.Equal(a.Unit)):
			return fmt.Errorf("refdata: asset %s is id %d with unit %s already, not id %d with unit %s", a.Name, o.ID, o.Unit, a.ID, a.Unit)
		case o.Name != a.Name && o.ID == a.ID:
			return fmt.Errorf("refdata: asset id %d is %s already, not %s", a.ID, o.Name, a.Name)
		}
	}
	return nil
}

// Per-order limits of every symbol, until the reference data sets them per
// symbol: 1,000 of the base currency and 100,000,000 of the quote currency.
var (
	defaultMaxQty      = decimal.NewFromInt(1_000)       // base currency per order
	defaultMaxNotional = decimal.NewFromInt(100_000_000) // quote currency per order
)

// SymbolDef is a symbol in currency terms, as the configuration or the
// back office's symbols table states it.
type SymbolDef struct {
	ID                    matching.SymbolID
	Name, Base, Quote     string
	Tick, QtyStep         decimal.Decimal // quote currency per price unit; base currency per quantity unit
	MinQty, MaxQty        decimal.Decimal // base currency per order
	MaxNotional           decimal.Decimal // quote currency per order
	RefPx                 decimal.Decimal // reference price until the first trade
	BandBps               int64           // price band around the reference, in basis points
	Halted                bool            // listed halted: trading starts with `venue admin resume`
	BaseAsset, QuoteAsset matching.AssetID
}

// DefError is a field of a SymbolDef that cannot be: Field is its name in
// the configuration and the symbols table (tick, qty_step, ...).
type DefError struct {
	Field, Value string
	Err          error
}

func (e *DefError) Error() string { return e.Field + " " + e.Value + ": " + e.Err.Error() }
func (e *DefError) Unwrap() error { return e.Err }

// Build checks the definition and returns the symbol in engine units
// (TickSize and QtyStep 1). Nothing is rounded: a minimum, maximum or
// reference that is not a whole number of units is refused.
func (d SymbolDef) Build() (*Symbol, error) {
	bad := func(field string, v decimal.Decimal, err error) error {
		return &DefError{Field: field, Value: v.String(), Err: err}
	}
	if d.ID == 0 {
		return nil, &DefError{Field: "id", Value: "0", Err: ErrNotPositive}
	}
	if !d.Tick.IsPositive() {
		return nil, bad("tick", d.Tick, ErrNotPositive)
	}
	if !d.QtyStep.IsPositive() {
		return nil, bad("qty_step", d.QtyStep, ErrNotPositive)
	}
	if d.Base == "" || d.Base == d.Quote {
		return nil, &DefError{Field: "name", Value: d.Name, Err: errors.New("base and quote must be two assets")}
	}
	s := &Symbol{
		Name: d.Name, Base: d.Base, Quote: d.Quote,
		Tick: d.Tick, QtyStep: d.QtyStep, QuoteUnit: d.Tick.Mul(d.QtyStep), MinQty: d.MinQty,
	}
	s.pxFmt, s.qtyFmt, s.quoteFmt = newUnitFormat(s.Tick), newUnitFormat(s.QtyStep), newUnitFormat(s.QuoteUnit)
	minQty, err := s.Qty(d.MinQty)
	if err != nil {
		return nil, bad("min_qty", d.MinQty, err)
	}
	maxQty, err := s.Qty(d.MaxQty)
	if err != nil {
		return nil, bad("max_qty", d.MaxQty, err)
	}
	if maxQty < minQty {
		return nil, bad("max_qty", d.MaxQty, errors.New("below min_qty"))
	}
	maxNotional, err := units(d.MaxNotional, s.QuoteUnit)
	if err != nil {
		return nil, bad("max_notional", d.MaxNotional, err)
	}
	refPx, err := s.Px(d.RefPx)
	if err == nil && refPx > math.MaxInt64/20000 {
		err = ErrTooLarge
	}
	if err != nil {
		return nil, bad("ref_px", d.RefPx, err)
	}
	if d.BandBps <= 0 || d.BandBps >= 10_000 {
		return nil, &DefError{Field: "band_bps", Value: fmt.Sprint(d.BandBps), Err: errors.New("must be 1..9999")}
	}
	status := matching.StatusOpen
	if d.Halted {
		status = matching.StatusHalted
	}
	s.Spec = matching.SymbolSpec{
		ID: d.ID, Name: d.Name, Base: d.BaseAsset, Quote: d.QuoteAsset,
		TickSize: 1, QtyStep: 1, MinQty: minQty, MaxQty: maxQty, MaxNotional: maxNotional,
		RefPx: refPx, BandBps: d.BandBps, Status: status,
	}
	return s, nil
}

// FromConfig builds the universe from the configured symbols. Symbol ids
// are 1, 2, ... in the order of the file; asset ids in order of first
// appearance. Two symbols sharing an asset must agree on its unit (the
// quantity step of a base, tick × step of a quote). The per-order limits
// are 1,000 of the base and 100,000,000 of the quote currency (`venue
// admin symbol add` sets them per symbol).
func FromConfig(syms []config.Symbol) (*Universe, error) {
	u := &Universe{}
	var assets []Asset
	asset := func(name string, unit decimal.Decimal) (Asset, error) {
		for _, a := range assets {
			if a.Name == name {
				if !a.Unit.Equal(unit) {
					return a, fmt.Errorf("refdata: asset %s has unit %s in one symbol and %s in another", name, a.Unit, unit)
				}
				return a, nil
			}
		}
		if len(assets) == matching.MaxAssets {
			return Asset{}, fmt.Errorf("refdata: more than %d assets", matching.MaxAssets)
		}
		a := Asset{ID: matching.AssetID(len(assets)), Name: name, Unit: unit}
		assets = append(assets, a)
		return a, nil
	}
	for i, c := range syms {
		base, err := asset(c.Base(), c.QtyStep)
		if err != nil {
			return nil, err
		}
		quote, err := asset(c.Quote(), c.Tick.Mul(c.QtyStep))
		if err != nil {
			return nil, err
		}
		maxQty := defaultMaxQty
		if maxQty.LessThan(c.MinQty) {
			maxQty = c.MinQty
		}
		s, err := SymbolDef{
			ID: matching.SymbolID(i + 1), Name: c.Name, Base: c.Base(), Quote: c.Quote(),
			Tick: c.Tick, QtyStep: c.QtyStep, MinQty: c.MinQty, MaxQty: maxQty, MaxNotional: defaultMaxNotional,
			RefPx: c.RefPx, BandBps: c.BandPct.Mul(decimal.NewFromInt(100)).IntPart(),
			BaseAsset: base.ID, QuoteAsset: quote.ID,
		}.Build()
		if err != nil {
			return nil, fmt.Errorf("refdata: %s: %w", c.Name, err)
		}
		if err := u.Add(s, base, quote); err != nil {
			return nil, err
		}
	}
	return u, nil
}
