package backoffice

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"venue/matching"
	"venue/refdata"
)

// SymbolInput is `symbol add`: amounts as the operator typed them, in
// currency (BTC, USD), never rounded.
type SymbolInput struct {
	Name        string // BASE-QUOTE
	Tick        string // quote currency per price increment
	QtyStep     string // base currency per quantity increment
	MinQty      string
	MaxQty      string
	MaxNotional string // quote currency
	RefPx       string
	BandBps     int
	Halted      bool
}

// symbolNameRE is BASE-QUOTE, each 2 to 10 capitals or digits.
var symbolNameRE = regexp.MustCompile(`^([A-Z0-9]{2,10})-([A-Z0-9]{2,10})$`)

// symbolFlags name the flag of each field of a refdata.DefError.
var symbolFlags = map[string]string{
	"tick": "--tick", "qty_step": "--qty-step", "min_qty": "--min-qty", "max_qty": "--max-qty",
	"max_notional": "--max-notional", "ref_px": "--ref-px", "band_bps": "--band-bps", "name": "--name",
}

// Def parses and checks every field that needs no database.
func (in SymbolInput) Def() (refdata.SymbolDef, error) {
	m := symbolNameRE.FindStringSubmatch(in.Name)
	if m == nil {
		return refdata.SymbolDef{}, fieldErr("--name", strconv.Quote(in.Name), "must be BASE-QUOTE, e.g. ETH-USD (2 to 10 capitals or digits each)")
	}
	d := refdata.SymbolDef{ID: 1, Name: in.Name, Base: m[1], Quote: m[2], BandBps: int64(in.BandBps), Halted: in.Halted}
	for _, f := range []struct {
		flag, v string
		to      *decimal.Decimal
	}{{"--tick", in.Tick, &d.Tick}, {"--qty-step", in.QtyStep, &d.QtyStep}, {"--min-qty", in.MinQty, &d.MinQty},
		{"--max-qty", in.MaxQty, &d.MaxQty}, {"--max-notional", in.MaxNotional, &d.MaxNotional}, {"--ref-px", in.RefPx, &d.RefPx}} {
		if strings.TrimSpace(f.v) == "" {
			return d, fieldErr(f.flag, "", "required")
		}
		v, err := decimal.NewFromString(f.v)
		if err != nil {
			return d, fieldErr(f.flag, strconv.Quote(f.v), "not a decimal number")
		}
		*f.to = v
	}
	if _, err := d.Build(); err != nil {
		return d, defFieldErr(err)
	}
	return d, nil
}

// defFieldErr names the flag of a refdata.DefError.
func defFieldErr(err error) error {
	var de *refdata.DefError
	if !errors.As(err, &de) {
		return err
	}
	msg := de.Err.Error()
	switch {
	case errors.Is(de.Err, refdata.ErrNotPositive):
		msg = "must be positive"
	case errors.Is(de.Err, refdata.ErrOffUnit) && (de.Field == "min_qty" || de.Field == "max_qty"):
		msg = "not a whole multiple of --qty-step"
	case errors.Is(de.Err, refdata.ErrOffUnit) && de.Field == "ref_px":
		msg = "not a whole multiple of --tick"
	case errors.Is(de.Err, refdata.ErrOffUnit) && de.Field == "max_notional":
		msg = "not a whole multiple of --tick × --qty-step"
	case errors.Is(de.Err, refdata.ErrTooLarge):
		msg = "too large for the engine's 64-bit units"
	}
	flag := symbolFlags[de.Field]
	if flag == "" {
		flag = de.Field
	}
	return fieldErr(flag, de.Value, "%s", msg)
}

// AddSymbol is `symbol add`: lists a new symbol, with a new asset for a
// base or quote the venue does not hold yet. Every symbol of an asset
// counts it in the same unit (a base's is its qty step, a quote's is tick
// × qty step), so a symbol that disagrees is refused. The running venue
// adds it to the engine (CmdAddSymbol, journaled) within a second; FIX
// clients then see it in SecurityList (35=y) and can trade or subscribe.
// A symbol, once listed, cannot be changed or removed (its journaled
// amounts are read in its units); halt it instead.
func (s *Store) AddSymbol(ctx context.Context, who Actor, in SymbolInput) (int64, error) {
	var id int64
	d, before := in.Def()
	details := map[string]any{"name": in.Name, "tick": in.Tick, "qty_step": in.QtyStep, "min_qty": in.MinQty,
		"max_qty": in.MaxQty, "max_notional": in.MaxNotional, "ref_px": in.RefPx, "band_bps": in.BandBps, "halted": in.Halted}
	_, err := s.admin(ctx, who, "symbol.add", in.Name, details, before,
		func(tx *sql.Tx) (string, error) {
			if _, err := tx.ExecContext(ctx, `LOCK TABLE assets IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return "", err
			}
			// The configured symbols (and their assets) come first, from the
			// venue's bootstrap: an asset listed before them could take the id
			// the configuration gives another one.
			var bootstrapped bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM symbols)`).Scan(&bootstrapped); err != nil {
				return "", err
			}
			if !bootstrapped {
				return "", fieldErr("--name", in.Name, "the back office holds no symbol yet: start the venue once on this database "+
					"(it bootstraps the configured symbols), then add more")
			}
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM symbols WHERE name = $1)`, in.Name).Scan(&exists); err != nil {
				return "", err
			}
			if exists {
				return "", fieldErr("--name", in.Name, "a symbol of that name exists")
			}
			var err error
			if id, err = nextID(ctx, tx, "symbols", 1); err != nil {
				return "", err
			}
			asset := func(name string, unit decimal.Decimal, mismatch func(have string) error) (int64, error) {
				var aid int64
				var have string
				err := tx.QueryRowContext(ctx, `SELECT id, unit::text FROM assets WHERE name = $1`, name).Scan(&aid, &have)
				if err == nil {
					if hu, perr := decimal.NewFromString(have); perr != nil || !hu.Equal(unit) {
						return 0, mismatch(have)
					}
					return aid, nil
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return 0, err
				}
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(id) + 1, 0) FROM assets`).Scan(&aid); err != nil {
					return 0, err
				}
				if aid >= matching.MaxAssets {
					return 0, fieldErr("--name", in.Name, "the engine holds %d assets, all taken: %s would be one more", matching.MaxAssets, name)
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO assets (id, name, unit) VALUES ($1, $2, $3)`, aid, name, unit.String())
				return aid, err
			}
			const same = "every symbol of an asset counts it in the same unit"
			base, err := asset(d.Base, d.QtyStep, func(have string) error {
				return fieldErr("--qty-step", in.QtyStep, "%s is counted in units of %s: %s", d.Base, have, same)
			})
			if err != nil {
				return "", err
			}
			quote, err := asset(d.Quote, d.Tick.Mul(d.QtyStep), func(have string) error {
				return fieldErr("--tick", in.Tick, "tick × qty step is %s, but %s is counted in units of %s: %s",
					d.Tick.Mul(d.QtyStep), d.Quote, have, same)
			})
			if err != nil {
				return "", err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO symbols (id, name, base_asset, quote_asset, tick, qty_step, min_qty,
					max_qty, max_notional, ref_px, band_bps, listed_halted)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				id, in.Name, base, quote, d.Tick.String(), d.QtyStep.String(), d.MinQty.String(), d.MaxQty.String(),
				d.MaxNotional.String(), d.RefPx.String(), d.BandBps, d.Halted)
			return "ok", err
		})
	return id, err
}

// LoadSymbols reads every symbol with its assets as the venue needs them
// (refdata.Universe.Add).
func (s *Store) LoadSymbols(ctx context.Context) ([]refdata.SymbolDef, []refdata.Asset, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, unit::text FROM assets ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("backoffice: load assets: %w", err)
	}
	var assets []refdata.Asset
	for rows.Next() {
		var a refdata.Asset
		var id int64
		var unit string
		if err := rows.Scan(&id, &a.Name, &unit); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("backoffice: load assets: %w", err)
		}
		if a.Unit, err = decimal.NewFromString(unit); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("backoffice: asset %s: unit %q: %w", a.Name, unit, err)
		}
		a.ID = matching.AssetID(id)
		assets = append(assets, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("backoffice: load assets: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT s.id, s.name, b.name, q.name, s.base_asset, s.quote_asset, s.tick::text,
			s.qty_step::text, s.min_qty::text, s.max_qty::text, s.max_notional::text, s.ref_px::text, s.band_bps, s.listed_halted
		FROM symbols s JOIN assets b ON b.id = s.base_asset JOIN assets q ON q.id = s.quote_asset ORDER BY s.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("backoffice: load symbols: %w", err)
	}
	defer rows.Close()
	var defs []refdata.SymbolDef
	for rows.Next() {
		var d refdata.SymbolDef
		var id, base, quote int64
		var nums [6]string
		if err := rows.Scan(&id, &d.Name, &d.Base, &d.Quote, &base, &quote, &nums[0], &nums[1], &nums[2], &nums[3],
			&nums[4], &nums[5], &d.BandBps, &d.Halted); err != nil {
			return nil, nil, fmt.Errorf("backoffice: load symbols: %w", err)
		}
		d.ID, d.BaseAsset, d.QuoteAsset = matching.SymbolID(id), matching.AssetID(base), matching.AssetID(quote)
		for i, to := range []*decimal.Decimal{&d.Tick, &d.QtyStep, &d.MinQty, &d.MaxQty, &d.MaxNotional, &d.RefPx} {
			v, err := decimal.NewFromString(nums[i])
			if err != nil {
				return nil, nil, fmt.Errorf("backoffice: symbol %s: %q: %w", d.Name, nums[i], err)
			}
			*to = v
		}
		defs = append(defs, d)
	}
	return defs, assets, rows.Err()
}

// AddToUniverse adds the back office's symbols to uni: those the venue
// started with are already there (identical), the ones `symbol add`
// listed are new. The symbols added are returned.
func AddToUniverse(uni *refdata.Universe, defs []refdata.SymbolDef, assets []refdata.Asset) ([]*refdata.Symbol, error) {
	var added []*refdata.Symbol
	var errs []error // one bad row does not keep the others out
	for _, d := range defs {
		if k, ok := uni.SymbolByID(d.ID); ok && k.Name == d.Name {
			continue
		}
		sym, err := d.Build()
		if err != nil {
			errs = append(errs, fmt.Errorf("backoffice: symbol %s: %w", d.Name, err))
			continue
		}
		var pair []refdata.Asset
		for _, a := range assets {
			if a.ID == d.BaseAsset || a.ID == d.QuoteAsset {
				pair = append(pair, a)
			}
		}
		if err := uni.Add(sym, pair...); err != nil {
			errs = append(errs, fmt.Errorf("backoffice: symbol %s: %w", d.Name, err))
			continue
		}
		added = append(added, sym)
	}
	return added, errors.Join(errs...)
}
