package backoffice

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"venue/matching"
	"venue/refdata"
)

// The operator's reference-data actions (`venue admin firm|account|session
// ...`). Each validates every field before it touches the database, then
// runs in one transaction that also appends its audit_log row: it is
// applied whole or not at all. A refused action is audited too, in its own
// statement, with the reason as the outcome. The running venue picks the
// change up from the tables (server/refdata.go).

// FieldError is bad input: the flag it came from, the value and why.
type FieldError struct {
	Field string // the command-line flag, e.g. --fee-tier
	Value string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Msg
	}
	return e.Field + " " + e.Value + ": " + e.Msg
}

func fieldErr(field, value, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Msg: fmt.Sprintf(format, args...)}
}

// Actor is who acts, for the audit trail.
type Actor struct {
	Name   string // operator, e.g. $USER
	Source string // cli, http or system
}

// Limits of the reference data fields.
const (
	MaxKYCTier       = 9
	MaxOpenOrdersMax = 1_000_000
	MaxThrottle      = 100_000
	maxAccountID     = 1<<24 - 1 // the engine's account id space
)

// names are CompIDs, firm and account names: printable, no FIX delimiter,
// no spaces, at most 32 characters.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

func checkName(field, v string) error {
	if v == "" {
		return fieldErr(field, "", "required")
	}
	if !nameRE.MatchString(v) {
		return fieldErr(field, strconv.Quote(v), "must be 1 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	return nil
}

// Account statuses and session statuses (the tables' CHECKs).
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// FeeTier is a fee schedule: rates in millionths of notional (1 bp = 100).
type FeeTier struct {
	Tier               uint8
	MakerPpm, TakerPpm int64
}

// MaxFeeBps bounds a fee rate: 10,000 bp is the whole notional.
const MaxFeeBps = 10_000

// ParseFeeBps reads a fee rate in basis points ("1", "2.5", "0.25") as
// millionths of notional, exactly: a finer rate than 0.01 bp is refused,
// never rounded.
func ParseFeeBps(field, v string) (int64, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(v))
	if err != nil || v == "" {
		return 0, fieldErr(field, strconv.Quote(v), "not a number of basis points")
	}
	if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(MaxFeeBps)) {
		return 0, fieldErr(field, v, "must be 0..%d basis points", MaxFeeBps)
	}
	ppm := d.Mul(decimal.NewFromInt(100))
	if !ppm.IsInteger() {
		return 0, fieldErr(field, v, "must be a whole number of 0.01 bp")
	}
	return ppm.IntPart(), nil
}

// SetFeeTier is `fee-tier set`: creates or changes the rates of a tier.
// The running venue sets them in the engine within a second; fees of
// trades already done do not change.
func (s *Store) SetFeeTier(ctx context.Context, who Actor, tier int, makerBps, takerBps string) (string, error) {
	var before error
	var maker, taker int64
	if tier < 0 || tier >= matching.MaxFeeTiers {
		before = fieldErr("--tier", strconv.Itoa(tier), "must be 0..%d", matching.MaxFeeTiers-1)
	}
	if before == nil {
		maker, before = ParseFeeBps("--maker-bps", makerBps)
	}
	if before == nil {
		taker, before = ParseFeeBps("--taker-bps", takerBps)
	}
	details := map[string]any{"tier": tier, "maker_bps": makerBps, "taker_bps": takerBps}
	return s.admin(ctx, who, "fee-tier.set", strconv.Itoa(tier), details, before,
		func(tx *sql.Tx) (string, error) {
			_, err := tx.ExecContext(ctx, `INSERT INTO fee_tiers (tier, maker_ppm, taker_ppm) VALUES ($1, $2, $3)
				ON CONFLICT (tier) DO UPDATE SET maker_ppm = EXCLUDED.maker_ppm, taker_ppm = EXCLUDED.taker_ppm,
					updated_at = now()`, tier, maker, taker)
			return "ok", err
		})
}

// ListFeeTiers lists the fee schedules by tier.
func (s *Store) ListFeeTiers(ctx context.Context) ([]FeeTier, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tier, maker_ppm, taker_ppm FROM fee_tiers ORDER BY tier`)
	if err != nil {
		return nil, fmt.Errorf("backoffice: list fee tiers: %w", err)
	}
	defer rows.Close()
	return scanFeeTiers(rows)
}

func scanFeeTiers(rows *sql.Rows) ([]FeeTier, error) {
	var out []FeeTier
	for rows.Next() {
		var f FeeTier
		var tier int
		if err := rows.Scan(&tier, &f.MakerPpm, &f.TakerPpm); err != nil {
			return nil, err
		}
		f.Tier = uint8(tier)
		out = append(out, f)
	}
	return out, rows.Err()
}

// AccountInput is `account add`.
type AccountInput struct {
	Firm          string
	Name          string
	KYCTier       int
	FeeTier       int
	STP           string // O, N, B or D
	MaxOpenOrders int
}

// Validate checks every field that needs no database.
func (in AccountInput) Validate() error {
	if err := checkName("--firm", in.Firm); err != nil {
		return err
	}
	if err := checkName("--name", in.Name); err != nil {
		return err
	}
	if in.KYCTier < 0 || in.KYCTier > MaxKYCTier {
		return fieldErr("--kyc-tier", strconv.Itoa(in.KYCTier), "must be 0..%d", MaxKYCTier)
	}
	if in.FeeTier < 0 || in.FeeTier >= matching.MaxFeeTiers {
		return fieldErr("--fee-tier", strconv.Itoa(in.FeeTier), "must be 0..%d", matching.MaxFeeTiers-1)
	}
	switch in.STP {
	case "O", "N", "B", "D":
	default:
		return fieldErr("--stp", strconv.Quote(in.STP), "must be O (cancel resting), N (cancel aggressor), B (both) or D (decrement)")
	}
	if in.MaxOpenOrders < 0 || in.MaxOpenOrders > MaxOpenOrdersMax {
		return fieldErr("--max-open-orders", strconv.Itoa(in.MaxOpenOrders), "must be 0..%d", MaxOpenOrdersMax)
	}
	return nil
}

// SessionInput is `session add`.
type SessionInput struct {
	CompID              string
	Kind                string // order-entry, drop-copy, market-data
	Firm                string
	Account             string // default account: order entry only
	CancelOnDisconnect  bool
	Throttle            int // messages per second; 0: fix.throttle_per_second
	TradeCaptureReports bool
	PasswordHash        []byte // bcrypt
	VenueCompID         string // the venue's own CompID, which no session may take
}

// Validate checks every field that needs no database.
func (in SessionInput) Validate() error {
	if err := in.ValidateFields(); err != nil {
		return err
	}
	return checkHash(in.PasswordHash)
}

// ValidateFields checks every field but the password hash.
func (in SessionInput) ValidateFields() error {
	if err := checkName("--comp-id", in.CompID); err != nil {
		return err
	}
	if in.VenueCompID != "" && strings.EqualFold(in.CompID, in.VenueCompID) {
		return fieldErr("--comp-id", in.CompID, "is the venue's own CompID")
	}
	switch in.Kind {
	case "order-entry", "drop-copy", "market-data":
	case "":
		return fieldErr("--kind", "", "required: order-entry, drop-copy or market-data")
	default:
		return fieldErr("--kind", strconv.Quote(in.Kind), "must be order-entry, drop-copy or market-data")
	}
	if err := checkName("--firm", in.Firm); err != nil {
		return err
	}
	if in.Kind == "order-entry" {
		if err := checkName("--account", in.Account); err != nil {
			return err
		}
	} else if in.Account != "" {
		return fieldErr("--account", in.Account, "only an order-entry session has a default account")
	}
	if in.Kind != "order-entry" && in.CancelOnDisconnect {
		return fieldErr("--cancel-on-disconnect", "", "only an order-entry session has orders to cancel")
	}
	if in.Kind != "drop-copy" && in.TradeCaptureReports {
		return fieldErr("--trade-capture-reports", "", "only a drop-copy session receives TradeCaptureReports")
	}
	if in.Throttle < 0 || in.Throttle > MaxThrottle {
		return fieldErr("--throttle", strconv.Itoa(in.Throttle), "must be 0 (the venue's fix.throttle_per_second) to %d messages per second", MaxThrottle)
	}
	return nil
}

func checkHash(h []byte) error {
	if len(h) == 0 {
		return fieldErr("--password-stdin", "", "required: the password is read from standard input")
	}
	if !strings.HasPrefix(string(h), "$2") {
		return fieldErr("--password-stdin", "", "not a bcrypt hash")
	}
	return nil
}

// CheckPassword checks a password before it is hashed: bcrypt reads at
// most 72 bytes, so a longer one would be silently cut.
func CheckPassword(p string) error {
	switch {
	case p == "":
		return fieldErr("--password-stdin", "", "the password read from standard input is empty")
	case len(p) < 8:
		return fieldErr("--password-stdin", "", "the password must be at least 8 bytes")
	case len(p) > 72:
		return fieldErr("--password-stdin", "", "the password must be at most 72 bytes (bcrypt)")
	case strings.ContainsAny(p, "\x00\x01\r\n"):
		return fieldErr("--password-stdin", "", "the password may not contain NUL, SOH or line breaks")
	}
	return nil
}

// admin runs fn in one transaction with its audit row: action on target
// with details. A validation error (before) or an error of fn is returned
// and audited as refused, and nothing else is written.
func (s *Store) admin(ctx context.Context, who Actor, action, target string, details any, before error,
	fn func(tx *sql.Tx) (string, error)) (string, error) {
	if who.Name == "" {
		return "", fieldErr("--operator", "", "required: who acts, for the audit trail")
	}
	if who.Source == "" {
		who.Source = "cli"
	}
	js, err := json.Marshal(details)
	if err != nil {
		return "", fmt.Errorf("backoffice: %s: %w", action, err)
	}
	refuse := func(cause error) (string, error) {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (actor, source, action, target, details, outcome)
			VALUES ($1, $2, $3, $4, $5, $6)`, who.Name, who.Source, action, target, string(js), "refused: "+cause.Error()); err != nil {
			return "", errors.Join(cause, fmt.Errorf("backoffice: audit: %w", err))
		}
		return "", cause
	}
	if before != nil {
		return refuse(before)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("backoffice: %s: %w", action, err)
	}
	defer tx.Rollback()
	outcome, err := fn(tx)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			_ = tx.Rollback()
			return refuse(err)
		}
		return "", fmt.Errorf("backoffice: %s: %w", action, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (actor, source, action, target, details, outcome)
		VALUES ($1, $2, $3, $4, $5, $6)`, who.Name, who.Source, action, target, string(js), outcome); err != nil {
		return "", fmt.Errorf("backoffice: %s: audit: %w", action, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("backoffice: %s: %w", action, err)
	}
	return outcome, nil
}

// nextID allocates max(id)+1 (at least min) in a table locked against
// concurrent inserts until the transaction ends.
func nextID(ctx context.Context, tx *sql.Tx, table string, min int64) (int64, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE `+pq.QuoteIdentifier(table)+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(id) + 1, 0) FROM `+pq.QuoteIdentifier(table)).Scan(&id); err != nil {
		return 0, err
	}
	return max(id, min), nil
}

// accountRef is an account as the admin actions check it.
type accountRef struct {
	id, firm int64
	status   string
}

// tradingAccount reads the account called name, locked for the rest of
// the transaction; an unknown or reserved (the venue's own) account is a
// FieldError of flag.
func tradingAccount(ctx context.Context, tx *sql.Tx, flag, name string) (accountRef, error) {
	var a accountRef
	var reserved bool
	err := tx.QueryRowContext(ctx, `SELECT id, firm_id, status, reserved FROM accounts WHERE name = $1 FOR UPDATE`, name).
		Scan(&a.id, &a.firm, &a.status, &reserved)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fieldErr(flag, name, "unknown account")
	}
	if err != nil {
		return a, err
	}
	if reserved {
		return a, fieldErr(flag, name, "a reserved account of the venue")
	}
	return a, nil
}

func firmID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM firms WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fieldErr("--firm", name, "unknown firm")
	}
	return id, err
}

// AddFirm is `firm add`: a new firm, active.
func (s *Store) AddFirm(ctx context.Context, who Actor, name string) (int64, error) {
	var id int64
	_, err := s.admin(ctx, who, "firm.add", name, map[string]any{"name": name}, checkName("--name", name),
		func(tx *sql.Tx) (string, error) {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM firms WHERE name = $1)`, name).Scan(&exists); err != nil {
				return "", err
			}
			if exists {
				return "", fieldErr("--name", name, "a firm of that name exists")
			}
			var err error
			if id, err = nextID(ctx, tx, "firms", 1); err != nil {
				return "", err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO firms (id, name) VALUES ($1, $2)`, id, name)
			return "ok", err
		})
	return id, err
}

// AddAccount is `account add`: a new active account of a firm. The
// running venue adds it to the engine (CmdAddAccount) within a second.
func (s *Store) AddAccount(ctx context.Context, who Actor, in AccountInput) (int64, error) {
	var id int64
	details := map[string]any{"firm": in.Firm, "name": in.Name, "kyc_tier": in.KYCTier, "fee_tier": in.FeeTier,
		"stp": in.STP, "max_open_orders": in.MaxOpenOrders}
	_, err := s.admin(ctx, who, "account.add", in.Name, details, in.Validate(),
		func(tx *sql.Tx) (string, error) {
			firm, err := firmID(ctx, tx, in.Firm)
			if err != nil {
				return "", err
			}
			if firm == 0 {
				return "", fieldErr("--firm", in.Firm, "the venue's own firm has no trading accounts")
			}
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE name = $1)`, in.Name).Scan(&exists); err != nil {
				return "", err
			}
			if exists {
				return "", fieldErr("--name", in.Name, "an account of that name exists")
			}
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM fee_tiers WHERE tier = $1)`, in.FeeTier).Scan(&exists); err != nil {
				return "", err
			}
			if !exists {
				return "", fieldErr("--fee-tier", strconv.Itoa(in.FeeTier), "has no fee schedule (venue admin fee-tier set)")
			}
			if id, err = nextID(ctx, tx, "accounts", int64(matching.FeeAccount)+1); err != nil {
				return "", err
			}
			if id > maxAccountID {
				return "", fieldErr("--name", in.Name, "no account id left (at most %d)", maxAccountID)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, firm_id, name, kyc_tier, fee_tier, default_stp, max_open_orders)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, firm, in.Name, in.KYCTier, in.FeeTier, in.STP, in.MaxOpenOrders)
			return "ok", err
		})
	return id, err
}

// SetAccountStatus is `account suspend|resume`: a suspended account's new
// orders and replaces are rejected; cancels still work.
func (s *Store) SetAccountStatus(ctx context.Context, who Actor, name, status string) (string, error) {
	action := "account.resume"
	if status == StatusSuspended {
		action = "account.suspend"
	}
	return s.admin(ctx, who, action, name, map[string]any{"status": status}, checkName("ACCOUNT", name),
		func(tx *sql.Tx) (string, error) {
			a, err := tradingAccount(ctx, tx, "ACCOUNT", name)
			if err != nil {
				return "", err
			}
			if a.status == status {
				return "ok (already " + status + ")", nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE accounts SET status = $2, updated_at = now() WHERE name = $1`, name, status)
			return "ok", err
		})
}

// AddSession is `session add`: a new active FIX session of a firm.
func (s *Store) AddSession(ctx context.Context, who Actor, in SessionInput) (int64, error) {
	var id int64
	details := map[string]any{"comp_id": in.CompID, "kind": in.Kind, "firm": in.Firm, "account": in.Account,
		"cancel_on_disconnect": in.CancelOnDisconnect, "throttle": in.Throttle,
		"trade_capture_reports": in.TradeCaptureReports, "password": "set"}
	_, err := s.admin(ctx, who, "session.add", in.CompID, details, in.Validate(),
		func(tx *sql.Tx) (string, error) {
			firm, err := firmID(ctx, tx, in.Firm)
			if err != nil {
				return "", err
			}
			if firm == 0 && in.Kind != "market-data" {
				return "", fieldErr("--firm", in.Firm, "the venue's own firm may only have market-data sessions")
			}
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM fix_sessions WHERE comp_id = $1)`, in.CompID).Scan(&exists); err != nil {
				return "", err
			}
			if exists {
				return "", fieldErr("--comp-id", in.CompID, "a session of that CompID exists")
			}
			var acct sql.NullInt64
			if in.Kind == "order-entry" {
				a, err := tradingAccount(ctx, tx, "--account", in.Account)
				if err != nil {
					return "", err
				}
				if a.firm != firm {
					return "", fieldErr("--account", in.Account, "not an account of firm %s", in.Firm)
				}
				acct = sql.NullInt64{Int64: a.id, Valid: true}
			}
			if id, err = nextID(ctx, tx, "fix_sessions", 1); err != nil {
				return "", err
			}
			var throttle sql.NullInt64
			if in.Throttle > 0 {
				throttle = sql.NullInt64{Int64: int64(in.Throttle), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fix_sessions (id, comp_id, kind, firm_id, default_account_id,
					password_hash, cancel_on_disconnect, throttle_per_second, trade_capture_reports)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, in.CompID, in.Kind, firm, acct,
				string(in.PasswordHash), in.CancelOnDisconnect, throttle, in.TradeCaptureReports); err != nil {
				return "", err
			}
			if acct.Valid {
				if _, err := tx.ExecContext(ctx, `INSERT INTO fix_session_accounts (session_id, account_id) VALUES ($1, $2)`,
					id, acct.Int64); err != nil {
					return "", err
				}
			}
			return "ok", nil
		})
	return id, err
}

func sessionRow(ctx context.Context, tx *sql.Tx, comp string) (string, error) {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM fix_sessions WHERE comp_id = $1 FOR UPDATE`, comp).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fieldErr("--comp-id", comp, "unknown session")
	}
	return status, err
}

// SetSessionStatus is `session suspend|resume`: a suspended session is
// refused at Logon (and an order-entry one logged on is disconnected).
func (s *Store) SetSessionStatus(ctx context.Context, who Actor, comp, status string) (string, error) {
	action := "session.resume"
	if status == StatusSuspended {
		action = "session.suspend"
	}
	return s.admin(ctx, who, action, comp, map[string]any{"status": status}, checkName("--comp-id", comp),
		func(tx *sql.Tx) (string, error) {
			old, err := sessionRow(ctx, tx, comp)
			if err != nil {
				return "", err
			}
			if old == status {
				return "ok (already " + status + ")", nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE fix_sessions SET status = $2, updated_at = now() WHERE comp_id = $1`, comp, status)
			return "ok", err
		})
}

// SetSessionAccount is `session grant|revoke COMPID --account ACCOUNT`:
// whether an order-entry session may place orders for one more account of
// its firm. The session's default account is always granted and cannot be
// revoked. Orders already placed stay; the running venue applies the
// change to the next order within a second.
func (s *Store) SetSessionAccount(ctx context.Context, who Actor, comp, account string, grant bool) (string, error) {
	action := "session.revoke"
	if grant {
		action = "session.grant"
	}
	before := checkName("--comp-id", comp)
	if before == nil {
		before = checkName("--account", account)
	}
	return s.admin(ctx, who, action, comp, map[string]any{"account": account}, before,
		func(tx *sql.Tx) (string, error) {
			var sessID, firm int64
			var kind string
			var def sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT id, kind, firm_id, default_account_id FROM fix_sessions
				WHERE comp_id = $1 FOR UPDATE`, comp).Scan(&sessID, &kind, &firm, &def)
			if errors.Is(err, sql.ErrNoRows) {
				return "", fieldErr("--comp-id", comp, "unknown session")
			}
			if err != nil {
				return "", err
			}
			if kind != "order-entry" {
				return "", fieldErr("--comp-id", comp, "a %s session places no orders", kind)
			}
			a, err := tradingAccount(ctx, tx, "--account", account)
			if err != nil {
				return "", err
			}
			if a.firm != firm {
				return "", fieldErr("--account", account, "not an account of the session's firm")
			}
			if !grant && def.Valid && def.Int64 == a.id {
				return "", fieldErr("--account", account, "is the session's default account, always granted")
			}
			var res sql.Result
			if grant {
				res, err = tx.ExecContext(ctx, `INSERT INTO fix_session_accounts (session_id, account_id) VALUES ($1, $2)
					ON CONFLICT DO NOTHING`, sessID, a.id)
			} else {
				res, err = tx.ExecContext(ctx, `DELETE FROM fix_session_accounts WHERE session_id = $1 AND account_id = $2`,
					sessID, a.id)
			}
			if err != nil {
				return "", err
			}
			if n, err := res.RowsAffected(); err != nil {
				return "", err
			} else if n == 0 {
				if grant {
					return "ok (already granted)", nil
				}
				return "ok (was not granted)", nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE fix_sessions SET updated_at = now() WHERE id = $1`, sessID)
			return "ok", err
		})
}

// SetFirmStatus is `firm suspend|resume`: every account and session of a
// suspended firm is suspended with it (their own statuses are kept and
// apply again on resume). The running venue rejects the firm's new orders
// and replaces (cancels still work), disconnects its order-entry sessions
// and refuses their Logons.
func (s *Store) SetFirmStatus(ctx context.Context, who Actor, name, status string) (string, error) {
	action := "firm.resume"
	if status == StatusSuspended {
		action = "firm.suspend"
	}
	return s.admin(ctx, who, action, name, map[string]any{"status": status}, checkName("FIRM", name),
		func(tx *sql.Tx) (string, error) {
			var id int64
			var old string
			err := tx.QueryRowContext(ctx, `SELECT id, status FROM firms WHERE name = $1 FOR UPDATE`, name).Scan(&id, &old)
			if errors.Is(err, sql.ErrNoRows) {
				return "", fieldErr("FIRM", name, "unknown firm")
			}
			if err != nil {
				return "", err
			}
			if id == 0 {
				return "", fieldErr("FIRM", name, "the venue's own firm")
			}
			if old == status {
				return "ok (already " + status + ")", nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE firms SET status = $2, updated_at = now() WHERE id = $1`, id, status)
			return "ok", err
		})
}

// SetSessionPassword is `session set-password`: stores a new bcrypt hash
// (the audit row says only that it was set).
func (s *Store) SetSessionPassword(ctx context.Context, who Actor, comp string, hash []byte) (string, error) {
	before := checkName("--comp-id", comp)
	if before == nil {
		before = checkHash(hash)
	}
	return s.admin(ctx, who, "session.set-password", comp, map[string]any{"password": "set"}, before,
		func(tx *sql.Tx) (string, error) {
			if _, err := sessionRow(ctx, tx, comp); err != nil {
				return "", err
			}
			_, err := tx.ExecContext(ctx, `UPDATE fix_sessions SET password_hash = $2, updated_at = now() WHERE comp_id = $1`, comp, string(hash))
			return "ok", err
		})
}

// FirmRow is a row of `firm list`.
type FirmRow struct {
	ID       int64
	Name     string
	Status   string
	Accounts int
	Sessions int
}

// ListFirms lists the firms by id.
func (s *Store) ListFirms(ctx context.Context) ([]FirmRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, f.name, f.status,
			(SELECT count(*) FROM accounts a WHERE a.firm_id = f.id AND NOT a.reserved),
			(SELECT count(*) FROM fix_sessions s WHERE s.firm_id = f.id)
		FROM firms f ORDER BY f.id`)
	if err != nil {
		return nil, fmt.Errorf("backoffice: list firms: %w", err)
	}
	defer rows.Close()
	var out []FirmRow
	for rows.Next() {
		var r FirmRow
		if err := rows.Scan(&r.ID, &r.Name, &r.Status, &r.Accounts, &r.Sessions); err != nil {
			return nil, fmt.Errorf("backoffice: list firms: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AccountRow is a row of `account list`.
type AccountRow struct {
	ID            int64
	Firm          string
	Name          string
	KYCTier       int
	Status        string
	FeeTier       int
	STP           string
	MaxOpenOrders int
	Reserved      bool
}

// ListAccounts lists the accounts by id.
func (s *Store) ListAccounts(ctx context.Context) ([]AccountRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, f.name, a.name, a.kyc_tier, a.status, a.fee_tier, a.default_stp,
			a.max_open_orders, a.reserved
		FROM accounts a JOIN firms f ON f.id = a.firm_id ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("backoffice: list accounts: %w", err)
	}
	defer rows.Close()
	var out []AccountRow
	for rows.Next() {
		var r AccountRow
		if err := rows.Scan(&r.ID, &r.Firm, &r.Name, &r.KYCTier, &r.Status, &r.FeeTier, &r.STP, &r.MaxOpenOrders, &r.Reserved); err != nil {
			return nil, fmt.Errorf("backoffice: list accounts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SessionRow is a row of `session list` (never the password hash).
type SessionRow struct {
	ID                  int64
	CompID              string
	Kind                string
	Firm                string
	Account             string // default account, "" if none
	CancelOnDisconnect  bool
	Throttle            int // 0: the venue's default
	TradeCaptureReports bool
	Status              string
	Granted             []string // accounts granted besides the default, by name
}

// ListSessions lists the FIX sessions by CompID.
func (s *Store) ListSessions(ctx context.Context) ([]SessionRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.comp_id, s.kind, f.name, COALESCE(a.name, ''),
			s.cancel_on_disconnect, COALESCE(s.throttle_per_second, 0), s.trade_capture_reports, s.status,
			COALESCE((SELECT string_agg(g.name, ',' ORDER BY g.name) FROM fix_session_accounts sa
				JOIN accounts g ON g.id = sa.account_id
				WHERE sa.session_id = s.id AND sa.account_id IS DISTINCT FROM s.default_account_id), '')
		FROM fix_sessions s JOIN firms f ON f.id = s.firm_id LEFT JOIN accounts a ON a.id = s.default_account_id
		ORDER BY s.comp_id`)
	if err != nil {
		return nil, fmt.Errorf("backoffice: list sessions: %w", err)
	}
	defer rows.Close()
	var out []SessionRow
	for rows.Next() {
		var r SessionRow
		var granted string
		if err := rows.Scan(&r.ID, &r.CompID, &r.Kind, &r.Firm, &r.Account, &r.CancelOnDisconnect, &r.Throttle,
			&r.TradeCaptureReports, &r.Status, &granted); err != nil {
			return nil, fmt.Errorf("backoffice: list sessions: %w", err)
		}
		if granted != "" {
			r.Granted = strings.Split(granted, ",")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SymbolRow is a row of `symbol list`; amounts as the table holds them.
type SymbolRow struct {
	ID                                         int64
	Name, Base, Quote                          string
	Tick, QtyStep, MinQty, MaxQty, MaxNotional string
	RefPx                                      string
	BandBps                                    int
	Status                                     string // as the engine last reported it, else as listed
}

// ListSymbols lists the symbols by id.
func (s *Store) ListSymbols(ctx context.Context) ([]SymbolRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.name, b.name, q.name, s.tick::text, s.qty_step::text,
			s.min_qty::text, s.max_qty::text, s.max_notional::text, s.ref_px::text, s.band_bps,
			CASE COALESCE(st.status, CASE WHEN s.listed_halted THEN 2 ELSE 1 END)
				WHEN 1 THEN 'open' WHEN 2 THEN 'halted' ELSE 'closed' END
		FROM symbols s JOIN assets b ON b.id = s.base_asset JOIN assets q ON q.id = s.quote_asset
		LEFT JOIN symbol_state st ON st.symbol_id = s.id ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("backoffice: list symbols: %w", err)
	}
	defer rows.Close()
	var out []SymbolRow
	for rows.Next() {
		var r SymbolRow
		if err := rows.Scan(&r.ID, &r.Name, &r.Base, &r.Quote, &r.Tick, &r.QtyStep, &r.MinQty, &r.MaxQty,
			&r.MaxNotional, &r.RefPx, &r.BandBps, &r.Status); err != nil {
			return nil, fmt.Errorf("backoffice: list symbols: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Directory is the venue's directory as the tables hold it: what the
// running venue follows.
type Directory struct {
	FeeTiers []FeeTier
	Firms    []refdata.Firm
	Accounts []refdata.Account
	Sessions []refdata.Session
	ReadAt   time.Time
}

// LoadDirectory reads fee tiers, firms, accounts and FIX sessions in one consistent
// snapshot (a read-only repeatable-read transaction). The venue's own firm
// and reserved accounts are left out. An account of a suspended or closed
// firm, and a closed one, count as suspended; so do the sessions.
func (s *Store) LoadDirectory(ctx context.Context) (*Directory, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("backoffice: load directory: %w", err)
	}
	defer tx.Rollback()
	d := &Directory{ReadAt: time.Now()}
	if err := d.load(ctx, tx); err != nil {
		return nil, fmt.Errorf("backoffice: load directory: %w", err)
	}
	return d, nil
}

func (d *Directory) load(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT tier, maker_ppm, taker_ppm FROM fee_tiers ORDER BY tier`)
	if err != nil {
		return err
	}
	d.FeeTiers, err = scanFeeTiers(rows)
	rows.Close()
	if err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT id, name FROM firms WHERE id <> 0 ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var f refdata.Firm
		var id int64
		if err := rows.Scan(&id, &f.Name); err != nil {
			rows.Close()
			return err
		}
		f.ID = matching.FirmID(id)
		d.Firms = append(d.Firms, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT a.id, a.firm_id, a.name, a.kyc_tier, a.fee_tier, a.default_stp, a.stp_firm,
			a.max_open_orders, a.status <> 'active' OR f.status <> 'active'
		FROM accounts a JOIN firms f ON f.id = a.firm_id WHERE NOT a.reserved ORDER BY a.id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var a refdata.Account
		var id, firm int64
		var fee, maxOpen int
		var stp string
		if err := rows.Scan(&id, &firm, &a.Name, &a.KYCTier, &fee, &stp, &a.Spec.STPFirm, &maxOpen, &a.Suspended); err != nil {
			rows.Close()
			return err
		}
		a.Spec.ID, a.Spec.Firm = matching.AccountID(id), matching.FirmID(firm)
		a.Spec.FeeTier, a.Spec.MaxOpenOrders = uint8(fee), int32(maxOpen)
		if len(stp) == 1 {
			a.Spec.STP = matching.STPMode(stp[0])
		}
		d.Accounts = append(d.Accounts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	granted, err := sessionAccounts(ctx, tx) // before the next query: one result set at a time
	if err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT s.id, s.comp_id, s.kind, s.firm_id, COALESCE(s.default_account_id, 0),
			s.password_hash, s.cancel_on_disconnect, COALESCE(s.throttle_per_second, 0), s.trade_capture_reports,
			s.status <> 'active' OR f.status <> 'active'
		FROM fix_sessions s JOIN firms f ON f.id = s.firm_id ORDER BY s.comp_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ss refdata.Session
		var id, firm, acct int64
		var kind, hash string
		if err := rows.Scan(&id, &ss.CompID, &kind, &firm, &acct, &hash, &ss.CancelOnDisconnect,
			&ss.ThrottlePerSecond, &ss.TradeCaptureReports, &ss.Suspended); err != nil {
			return err
		}
		ss.ID, ss.Firm, ss.Account = matching.SessionID(id), matching.FirmID(firm), matching.AccountID(acct)
		ss.PasswordHash = []byte(hash)
		switch kind {
		case "order-entry":
			ss.Kind = refdata.OrderEntry
		case "drop-copy":
			ss.Kind = refdata.DropCopy
		case "market-data":
			ss.Kind = refdata.MarketData
		}
		ss.Accounts = granted[ss.ID]
		d.Sessions = append(d.Sessions, ss)
	}
	return rows.Err()
}

// sessionAccounts reads fix_session_accounts: each session's granted
// accounts, ascending (refdata.Session.MayActFor searches them).
func sessionAccounts(ctx context.Context, tx *sql.Tx) (map[matching.SessionID][]matching.AccountID, error) {
	rows, err := tx.QueryContext(ctx, `SELECT session_id, account_id FROM fix_session_accounts ORDER BY session_id, account_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[matching.SessionID][]matching.AccountID{}
	for rows.Next() {
		var sess, acct int64
		if err := rows.Scan(&sess, &acct); err != nil {
			return nil, err
		}
		out[matching.SessionID(sess)] = append(out[matching.SessionID(sess)], matching.AccountID(acct))
	}
	return out, rows.Err()
}
