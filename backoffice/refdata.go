package backoffice

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"venue/matching"
	"venue/refdata"
)

// Names of the venue's own firm and reserved accounts in the tables.
const (
	VenueFirmName       = "VENUE"
	ExternalAccountName = "EXTERNAL"
	FeeAccountName      = "FEES"
)

// Bootstrap upserts the reference data the venue started with: assets and
// symbols from the universe, firms, accounts and FIX sessions from the
// directory, plus the venue itself (firm 0) and its reserved accounts
// (0 external, 1 fees). What the engine uses (fee tier, STP default, open
// order limit, session kind, firm, default account) follows the venue's
// reference data; what operators own here (status, KYC tier, throttle) and
// a session's password hash, once stored, are left alone.
func (s *Store) Bootstrap(ctx context.Context, uni *refdata.Universe, dir *refdata.Directory) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("backoffice: bootstrap: %w", err)
	}
	defer tx.Rollback()
	if err := bootstrap(ctx, tx, uni, dir); err != nil {
		return fmt.Errorf("backoffice: bootstrap: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("backoffice: bootstrap: %w", err)
	}
	return nil
}

func bootstrap(ctx context.Context, tx *sql.Tx, uni *refdata.Universe, dir *refdata.Directory) error {
	for _, a := range uni.Assets() {
		var have string
		err := tx.QueryRowContext(ctx, `SELECT name FROM assets WHERE id = $1`, int64(a.ID)).Scan(&have)
		if err == nil && have != a.Name {
			return fmt.Errorf("asset id %d is %s in the back office but %s in the venue's configuration: "+
				"the configuration's symbols must keep their order", a.ID, have, a.Name)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("asset %s: %w", a.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO assets (id, name, unit) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, unit = EXCLUDED.unit, updated_at = now()
			WHERE (assets.name, assets.unit) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.unit)`,
			int64(a.ID), a.Name, a.Unit.String()); err != nil {
			return fmt.Errorf("asset %s: %w", a.Name, err)
		}
	}
	for _, sym := range uni.Symbols() {
		sp := sym.Spec
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO symbols (id, name, base_asset, quote_asset, tick, qty_step, min_qty, max_qty, max_notional, ref_px, band_bps)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, base_asset = EXCLUDED.base_asset,
				quote_asset = EXCLUDED.quote_asset, tick = EXCLUDED.tick, qty_step = EXCLUDED.qty_step,
				min_qty = EXCLUDED.min_qty, max_qty = EXCLUDED.max_qty, max_notional = EXCLUDED.max_notional,
				ref_px = EXCLUDED.ref_px, band_bps = EXCLUDED.band_bps, updated_at = now()
			WHERE (symbols.name, symbols.base_asset, symbols.quote_asset, symbols.tick, symbols.qty_step,
				symbols.min_qty, symbols.max_qty, symbols.max_notional, symbols.ref_px, symbols.band_bps)
				IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.base_asset, EXCLUDED.quote_asset, EXCLUDED.tick,
				EXCLUDED.qty_step, EXCLUDED.min_qty, EXCLUDED.max_qty, EXCLUDED.max_notional, EXCLUDED.ref_px,
				EXCLUDED.band_bps)`,
			int64(sp.ID), sym.Name, int64(sp.Base), int64(sp.Quote), sym.Tick.String(), sym.QtyStep.String(),
			sym.QtyDec(sp.MinQty).String(), sym.QtyDec(sp.MaxQty).String(), sym.QuoteDec(sp.MaxNotional).String(),
			sym.PxDec(sp.RefPx).String(), sp.BandBps); err != nil {
			return fmt.Errorf("symbol %s: %w", sym.Name, err)
		}
	}

	// The dev fee schedule (tier 0), unless an operator set one.
	if _, err := tx.ExecContext(ctx, `INSERT INTO fee_tiers (tier, maker_ppm, taker_ppm) VALUES (0, $1, $2)
		ON CONFLICT (tier) DO NOTHING`, refdata.DevMakerPpm, refdata.DevTakerPpm); err != nil {
		return fmt.Errorf("fee tier 0: %w", err)
	}

	// Firms: the directory names them only through their accounts for
	// now, so a firm is called like its first account (the dev firms'
	// accounts are named like the firm).
	accounts := dir.Accounts()
	firms := map[matching.FirmID]string{0: VenueFirmName}
	var order []matching.FirmID
	order = append(order, 0)
	note := func(id matching.FirmID, name string) {
		if _, ok := firms[id]; !ok {
			firms[id] = name
			order = append(order, id)
		}
	}
	for _, a := range accounts {
		note(a.Spec.Firm, a.Name)
	}
	for _, ss := range dir.Sessions() {
		note(ss.Firm, "FIRM_"+strconv.FormatUint(uint64(ss.Firm), 10))
	}
	for _, id := range order {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO firms (id, name) VALUES ($1, $2)
			ON CONFLICT (id) DO NOTHING`, int64(id), firms[id]); err != nil {
			return fmt.Errorf("firm %s: %w", firms[id], err)
		}
	}

	type acct struct {
		spec     matching.AccountSpec
		name     string
		reserved bool
	}
	all := []acct{
		{matching.AccountSpec{ID: matching.ExternalAccount, STP: matching.STPCancelAggressor}, ExternalAccountName, true},
		{matching.AccountSpec{ID: matching.FeeAccount, STP: matching.STPCancelAggressor}, FeeAccountName, true},
	}
	for _, a := range accounts {
		all = append(all, acct{a.Spec, a.Name, false})
	}
	for _, a := range all {
		stp := a.spec.STP
		if stp == matching.STPDefault {
			stp = matching.STPCancelAggressor
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO accounts (id, firm_id, name, fee_tier, default_stp, stp_firm, max_open_orders, reserved)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET firm_id = EXCLUDED.firm_id, name = EXCLUDED.name,
				fee_tier = EXCLUDED.fee_tier, default_stp = EXCLUDED.default_stp, stp_firm = EXCLUDED.stp_firm,
				max_open_orders = EXCLUDED.max_open_orders, reserved = EXCLUDED.reserved, updated_at = now()
			WHERE (accounts.firm_id, accounts.name, accounts.fee_tier, accounts.default_stp, accounts.stp_firm,
				accounts.max_open_orders, accounts.reserved) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.name,
				EXCLUDED.fee_tier, EXCLUDED.default_stp, EXCLUDED.stp_firm, EXCLUDED.max_open_orders, EXCLUDED.reserved)`,
			int64(a.spec.ID), int64(a.spec.Firm), a.name, int64(a.spec.FeeTier), string(rune(stp)),
			a.spec.STPFirm, int64(a.spec.MaxOpenOrders), a.reserved); err != nil {
			return fmt.Errorf("account %s: %w", a.name, err)
		}
	}

	for _, ss := range dir.Sessions() {
		var defAcct any
		if ss.Account != 0 {
			defAcct = int64(ss.Account)
		}
		status := "active"
		if ss.Suspended {
			status = "suspended"
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO fix_sessions (id, comp_id, kind, firm_id, default_account_id, password_hash, cancel_on_disconnect,
				status, trade_capture_reports)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO UPDATE SET comp_id = EXCLUDED.comp_id, kind = EXCLUDED.kind,
				firm_id = EXCLUDED.firm_id, default_account_id = EXCLUDED.default_account_id,
				cancel_on_disconnect = EXCLUDED.cancel_on_disconnect,
				trade_capture_reports = EXCLUDED.trade_capture_reports, updated_at = now()
			WHERE (fix_sessions.comp_id, fix_sessions.kind, fix_sessions.firm_id, fix_sessions.default_account_id,
				fix_sessions.cancel_on_disconnect, fix_sessions.trade_capture_reports) IS DISTINCT FROM (EXCLUDED.comp_id,
				EXCLUDED.kind, EXCLUDED.firm_id, EXCLUDED.default_account_id, EXCLUDED.cancel_on_disconnect,
				EXCLUDED.trade_capture_reports)`,
			int64(ss.ID), ss.CompID, ss.Kind.String(), int64(ss.Firm), defAcct, string(ss.PasswordHash),
			ss.CancelOnDisconnect, status, ss.TradeCaptureReports); err != nil {
			return fmt.Errorf("session %s: %w", ss.CompID, err)
		}
		if ss.Kind == refdata.OrderEntry && ss.Account != 0 {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO fix_session_accounts (session_id, account_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, int64(ss.ID), int64(ss.Account)); err != nil {
				return fmt.Errorf("session %s account: %w", ss.CompID, err)
			}
		}
	}
	return nil
}
