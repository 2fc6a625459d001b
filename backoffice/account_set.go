package backoffice

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"venue/matching"
)

// AccountChanges are the fields `account set` changes; nil leaves one.
type AccountChanges struct {
	KYCTier       *int
	FeeTier       *int
	STP           *string
	MaxOpenOrders *int
}

// SetAccount is `account set`: change an existing account's KYC tier, fee
// tier, default self-trade prevention or open-order limit. The running
// venue applies it to the engine (CmdAddAccount) within a second.
func (s *Store) SetAccount(ctx context.Context, who Actor, name string, ch AccountChanges) (string, error) {
	before := checkName("ACCOUNT", name)
	details := map[string]any{}
	var sets []string
	var args []any
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)+1))
		details[col] = v
	}
	if ch.KYCTier != nil {
		if *ch.KYCTier < 0 || *ch.KYCTier > MaxKYCTier {
			before = errors.Join(before, fieldErr("--kyc-tier", strconv.Itoa(*ch.KYCTier), "must be 0..%d", MaxKYCTier))
		}
		add("kyc_tier", *ch.KYCTier)
	}
	if ch.FeeTier != nil {
		if *ch.FeeTier < 0 || *ch.FeeTier >= matching.MaxFeeTiers {
			before = errors.Join(before, fieldErr("--fee-tier", strconv.Itoa(*ch.FeeTier), "must be 0..%d", matching.MaxFeeTiers-1))
		}
		add("fee_tier", *ch.FeeTier)
	}
	if ch.STP != nil {
		v := strings.ToUpper(*ch.STP)
		switch v {
		case "O", "N", "B", "D":
		default:
			before = errors.Join(before, fieldErr("--stp", strconv.Quote(*ch.STP), "must be O (cancel resting), N (cancel aggressor), B (both) or D (decrement)"))
		}
		add("default_stp", v)
	}
	if ch.MaxOpenOrders != nil {
		if *ch.MaxOpenOrders < 0 || *ch.MaxOpenOrders > MaxOpenOrdersMax {
			before = errors.Join(before, fieldErr("--max-open-orders", strconv.Itoa(*ch.MaxOpenOrders), "must be 0..%d", MaxOpenOrdersMax))
		}
		add("max_open_orders", *ch.MaxOpenOrders)
	}
	if before == nil && len(sets) == 0 {
		before = fieldErr("--kyc-tier, --fee-tier, --stp or --max-open-orders", "", "say what to change")
	}
	if before != nil {
		// The first field error is the answer; all of them are audited.
		var fe *FieldError
		if errors.As(before, &fe) {
			before = fe
		}
	}
	return s.admin(ctx, who, "account.set", name, details, before, func(tx *sql.Tx) (string, error) {
		if _, err := tradingAccount(ctx, tx, "ACCOUNT", name); err != nil {
			return "", err
		}
		if ch.FeeTier != nil {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM fee_tiers WHERE tier = $1)`, *ch.FeeTier).Scan(&exists); err != nil {
				return "", err
			}
			if !exists {
				return "", fieldErr("--fee-tier", strconv.Itoa(*ch.FeeTier), "has no fee schedule (venue admin fee-tier set)")
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET `+strings.Join(sets, ", ")+`, updated_at = now() WHERE name = $1`,
			append([]any{name}, args...)...)
		return "ok", err
	})
}
