package backoffice_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"venue/backoffice"
	"venue/config"
	"venue/refdata"
)

// adminStore is a fresh, migrated database with the dev reference data
// bootstrapped, as a running venue leaves it.
func adminStore(t *testing.T) (*backoffice.Store, *sql.DB, *refdata.Universe) {
	t.Helper()
	dbURL := freshDB(t)
	ctx := context.Background()
	st, err := backoffice.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	uni, err := refdata.FromConfig(config.Default().Symbols)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := refdata.Dev(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Bootstrap(ctx, uni, dir); err != nil {
		t.Fatal(err)
	}
	return st, openDB(t, dbURL), uni
}

func hashOf(t *testing.T, pw string) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// refRows is every reference-data row, as text: what a refused action
// must leave alone.
func refRows(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, name, status FROM firms ORDER BY id`,
		`SELECT id, firm_id, name, kyc_tier, status, fee_tier, default_stp, max_open_orders FROM accounts ORDER BY id`,
		`SELECT id, comp_id, kind, firm_id, COALESCE(default_account_id, -1), password_hash, cancel_on_disconnect,
			COALESCE(throttle_per_second, 0), trade_capture_reports, status FROM fix_sessions ORDER BY id`,
		`SELECT session_id, account_id FROM fix_session_accounts ORDER BY 1, 2`,
		`SELECT tier, maker_ppm, taker_ppm FROM fee_tiers ORDER BY 1`,
		`SELECT id, name, tick FROM symbols ORDER BY id`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				b.WriteString(v.String + "|")
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdminRefusesBadInput: every bad field is named, nothing changes,
// and the refusal is audited.
func TestAdminRefusesBadInput(t *testing.T) {
	st, db, _ := adminStore(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "alice", Source: "cli"}
	acct := func(mod func(*backoffice.AccountInput)) backoffice.AccountInput {
		in := backoffice.AccountInput{Firm: "FIRM_A", Name: "FIRM_A_2", STP: "N", MaxOpenOrders: 100}
		mod(&in)
		return in
	}
	sess := func(mod func(*backoffice.SessionInput)) backoffice.SessionInput {
		in := backoffice.SessionInput{CompID: "FIRM_A_2", Kind: "order-entry", Firm: "FIRM_A", Account: "FIRM_A",
			CancelOnDisconnect: true, PasswordHash: hashOf(t, "secret-pw"), VenueCompID: "VENUE"}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"firm no name", func() error { _, err := st.AddFirm(ctx, who, ""); return err }, "--name: required"},
		{"firm duplicate", func() error { _, err := st.AddFirm(ctx, who, "FIRM_A"); return err }, "--name FIRM_A: a firm of that name exists"},
		{"firm bad name", func() error { _, err := st.AddFirm(ctx, who, "FIRM A"); return err }, `--name "FIRM A": must be`},
		{"account unknown firm", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.Firm = "FIRM_X" }))
			return err
		}, "--firm FIRM_X: unknown firm"},
		{"account fee tier", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.FeeTier = 99 }))
			return err
		}, "--fee-tier 99: must be 0..15"},
		{"account stp", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.STP = "X" }))
			return err
		}, `--stp "X": must be O`},
		{"account kyc", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.KYCTier = -1 }))
			return err
		}, "--kyc-tier -1: must be 0..9"},
		{"account without fee schedule", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.FeeTier = 5 }))
			return err
		}, "--fee-tier 5: has no fee schedule"},
		{"fee rate not a number", func() error { _, err := st.SetFeeTier(ctx, who, 1, "abc", "2"); return err }, `--maker-bps "abc": not a number of basis points`},
		{"fee rate too fine", func() error { _, err := st.SetFeeTier(ctx, who, 1, "1", "0.001"); return err }, "--taker-bps 0.001: must be a whole number of 0.01 bp"},
		{"fee rate negative", func() error { _, err := st.SetFeeTier(ctx, who, 1, "-1", "2"); return err }, "--maker-bps -1: must be 0..10000 basis points"},
		{"fee tier out of range", func() error { _, err := st.SetFeeTier(ctx, who, 16, "1", "2"); return err }, "--tier 16: must be 0..15"},
		{"account max open", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.MaxOpenOrders = 2_000_000 }))
			return err
		}, "--max-open-orders 2000000: must be 0..1000000"},
		{"account duplicate", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.Name = "FIRM_B" }))
			return err
		}, "--name FIRM_B: an account of that name exists"},
		{"account of the venue", func() error {
			_, err := st.AddAccount(ctx, who, acct(func(in *backoffice.AccountInput) { in.Firm = "VENUE" }))
			return err
		}, "--firm VENUE: the venue's own firm has no trading accounts"},
		{"suspend unknown account", func() error {
			_, err := st.SetAccountStatus(ctx, who, "FIRM_X", backoffice.StatusSuspended)
			return err
		}, "ACCOUNT FIRM_X: unknown account"},
		{"suspend fee account", func() error {
			_, err := st.SetAccountStatus(ctx, who, "FEES", backoffice.StatusSuspended)
			return err
		}, "ACCOUNT FEES: a reserved account"},
		{"session duplicate CompID", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.CompID = "FIRM_B" }))
			return err
		}, "--comp-id FIRM_B: a session of that CompID exists"},
		{"session venue CompID", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.CompID = "VENUE" }))
			return err
		}, "--comp-id VENUE: is the venue's own CompID"},
		{"session kind", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Kind = "trading" }))
			return err
		}, `--kind "trading": must be order-entry, drop-copy or market-data`},
		{"session unknown firm", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Firm = "FIRM_X" }))
			return err
		}, "--firm FIRM_X: unknown firm"},
		{"session other firm's account", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Account = "FIRM_B" }))
			return err
		}, "--account FIRM_B: not an account of firm FIRM_A"},
		{"session fee account", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Account = "FEES" }))
			return err
		}, "--account FEES: a reserved account of the venue"},
		{"grant the fee account", func() error {
			_, err := st.SetSessionAccount(ctx, who, "FIRM_A", "FEES", true)
			return err
		}, "--account FEES: a reserved account of the venue"},
		{"grant another firm's account", func() error {
			_, err := st.SetSessionAccount(ctx, who, "FIRM_A", "FIRM_B", true)
			return err
		}, "--account FIRM_B: not an account of the session's firm"},
		{"set the fee account", func() error {
			stp := "O"
			_, err := st.SetAccount(ctx, who, "FEES", backoffice.AccountChanges{STP: &stp})
			return err
		}, "ACCOUNT FEES: a reserved account of the venue"},
		{"session no account", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Account = "" }))
			return err
		}, "--account: required"},
		{"drop copy with account", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Kind = "drop-copy"; in.CancelOnDisconnect = false }))
			return err
		}, "--account FIRM_A: only an order-entry session has a default account"},
		{"session throttle", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.Throttle = -5 }))
			return err
		}, "--throttle -5: must be 0"},
		{"session plain password", func() error {
			_, err := st.AddSession(ctx, who, sess(func(in *backoffice.SessionInput) { in.PasswordHash = []byte("secret-pw") }))
			return err
		}, "--password-stdin: not a bcrypt hash"},
		{"password of unknown session", func() error {
			_, err := st.SetSessionPassword(ctx, who, "NOPE", hashOf(t, "secret-pw"))
			return err
		}, "--comp-id NOPE: unknown session"},
		{"no operator", func() error { _, err := st.AddFirm(ctx, backoffice.Actor{}, "FIRM_Z"); return err }, "--operator: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := refRows(t, db)
			audits := count(t, db, `SELECT count(*) FROM audit_log`)
			err := tc.do()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if after := refRows(t, db); after != before {
				t.Errorf("a refused action changed the reference data:\nbefore\n%s\nafter\n%s", before, after)
			}
			want := audits + 1
			if tc.name == "no operator" {
				want = audits // nobody to record
			}
			if n := count(t, db, `SELECT count(*) FROM audit_log`); n != want {
				t.Errorf("%d audit rows, want %d", n, want)
			}
			if want > audits {
				var outcome string
				if err := db.QueryRow(`SELECT outcome FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&outcome); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(outcome, "refused: ") || !strings.Contains(outcome, tc.want) {
					t.Errorf("audit outcome %q", outcome)
				}
			}
		})
	}
}

// TestAdminActions: firm, account and session added, suspended, resumed,
// a password set: each audited with who and what (never the hash), and
// LoadDirectory sees the result.
func TestAdminActions(t *testing.T) {
	st, db, _ := adminStore(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "alice", Source: "cli"}
	firm, err := st.AddFirm(ctx, who, "FIRM_D")
	if err != nil || firm != 4 {
		t.Fatalf("firm %d, %v", firm, err)
	}
	if _, err := st.SetFeeTier(ctx, who, 3, "0.5", "2.25"); err != nil {
		t.Fatal(err)
	}
	acct, err := st.AddAccount(ctx, who, backoffice.AccountInput{Firm: "FIRM_D", Name: "FIRM_D", KYCTier: 2, FeeTier: 3, STP: "O", MaxOpenOrders: 50})
	if err != nil || acct != 5 {
		t.Fatalf("account %d, %v", acct, err)
	}
	hash := hashOf(t, "firm-d-secret")
	sess, err := st.AddSession(ctx, who, backoffice.SessionInput{CompID: "FIRM_D", Kind: "order-entry", Firm: "FIRM_D",
		Account: "FIRM_D", CancelOnDisconnect: true, Throttle: 20, PasswordHash: hash})
	if err != nil || sess != 104 {
		t.Fatalf("session %d, %v", sess, err)
	}
	if _, err := st.AddSession(ctx, who, backoffice.SessionInput{CompID: "FIRM_D_DC", Kind: "drop-copy", Firm: "FIRM_D",
		TradeCaptureReports: true, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if out, err := st.SetAccountStatus(ctx, who, "FIRM_D", backoffice.StatusSuspended); err != nil || out != "ok" {
		t.Fatalf("suspend: %q, %v", out, err)
	}
	if out, err := st.SetAccountStatus(ctx, who, "FIRM_D", backoffice.StatusSuspended); err != nil || out != "ok (already suspended)" {
		t.Fatalf("suspend again: %q, %v", out, err)
	}
	if _, err := st.SetSessionStatus(ctx, who, "FIRM_A", backoffice.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	newHash := hashOf(t, "firm-b-secret")
	if _, err := st.SetSessionPassword(ctx, who, "FIRM_B", newHash); err != nil {
		t.Fatal(err)
	}

	rows, err := db.Query(`SELECT actor, source, action, target, outcome, details::text FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var actor, source, action, target, outcome, details string
		if err := rows.Scan(&actor, &source, &action, &target, &outcome, &details); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(details, "$2") {
			t.Errorf("audit details carry a hash: %s", details)
		}
		got = append(got, strings.Join([]string{actor, source, action, target, outcome}, " "))
		if action == "account.add" && !strings.Contains(details, `"fee_tier": 3`) {
			t.Errorf("account.add details %s", details)
		}
	}
	rows.Close()
	want := []string{
		"alice cli firm.add FIRM_D ok",
		"alice cli fee-tier.set 3 ok",
		"alice cli account.add FIRM_D ok",
		"alice cli session.add FIRM_D ok",
		"alice cli session.add FIRM_D_DC ok",
		"alice cli account.suspend FIRM_D ok",
		"alice cli account.suspend FIRM_D ok (already suspended)",
		"alice cli session.suspend FIRM_A ok",
		"alice cli session.set-password FIRM_B ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := count(t, db, `SELECT count(*) FROM fix_session_accounts WHERE session_id = 104 AND account_id = 5`); n != 1 {
		t.Errorf("session FIRM_D may act for account FIRM_D: %d rows", n)
	}

	d, err := st.LoadDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a refdata.Account
	for _, x := range d.Accounts {
		if x.Name == "FIRM_D" {
			a = x
		}
	}
	if a.Spec.ID != 5 || a.Spec.Firm != 4 || a.Spec.FeeTier != 3 || a.Spec.STP != 'O' || a.Spec.MaxOpenOrders != 50 ||
		a.KYCTier != 2 || !a.Suspended {
		t.Errorf("account FIRM_D loaded as %+v", a)
	}
	sessions := map[string]refdata.Session{}
	for _, s := range d.Sessions {
		sessions[s.CompID] = s
	}
	if s := sessions["FIRM_D"]; s.ID != 104 || s.Kind != refdata.OrderEntry || s.Account != 5 || s.ThrottlePerSecond != 20 ||
		!s.CancelOnDisconnect || s.Suspended || !s.CheckPassword("firm-d-secret") {
		t.Errorf("session FIRM_D loaded as %+v", s)
	}
	if s := sessions["FIRM_D_DC"]; s.Kind != refdata.DropCopy || !s.TradeCaptureReports || s.Account != 0 {
		t.Errorf("session FIRM_D_DC loaded as %+v", s)
	}
	if fb := sessions["FIRM_B"]; !sessions["FIRM_A"].Suspended || !fb.CheckPassword("firm-b-secret") {
		t.Errorf("FIRM_A %+v, FIRM_B %+v", sessions["FIRM_A"], sessions["FIRM_B"])
	}
	if !sessions["FIRM_B_DC"].TradeCaptureReports || sessions["FIRM_A_DC"].TradeCaptureReports {
		t.Errorf("dev drop copies' TradeCaptureReports not bootstrapped")
	}
	if fmt.Sprint(d.FeeTiers) != "[{0 100 200} {3 50 225}]" {
		t.Errorf("fee tiers %v", d.FeeTiers)
	}
	if len(d.Firms) != 4 {
		t.Errorf("firms %+v", d.Firms)
	}

	for _, list := range []func() (int, error){
		func() (int, error) { r, err := st.ListFirms(ctx); return len(r), err },
		func() (int, error) { r, err := st.ListAccounts(ctx); return len(r), err },
		func() (int, error) { r, err := st.ListSessions(ctx); return len(r), err },
		func() (int, error) { r, err := st.ListSymbols(ctx); return len(r), err },
		func() (int, error) { r, err := st.ListFeeTiers(ctx); return len(r), err },
	} {
		if n, err := list(); err != nil || n == 0 {
			t.Errorf("list: %d rows, %v", n, err)
		}
	}
}

// TestBootstrapKeepsOperatorChanges: starting the venue again (Bootstrap
// with freshly hashed dev passwords) reverts no suspension, password or
// fee schedule an operator set.
func TestBootstrapKeepsOperatorChanges(t *testing.T) {
	st, db, uni := adminStore(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "alice", Source: "cli"}
	if _, err := st.SetAccountStatus(ctx, who, "FIRM_A", backoffice.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSessionStatus(ctx, who, "FIRM_B", backoffice.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSessionPassword(ctx, who, "FIRM_C", hashOf(t, "firm-c-secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddFirm(ctx, who, "FIRM_D"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetFeeTier(ctx, who, 0, "3", "4"); err != nil {
		t.Fatal(err)
	}
	before := refRows(t, db)
	dir, err := refdata.Dev(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Bootstrap(ctx, uni, dir); err != nil {
		t.Fatal(err)
	}
	if after := refRows(t, db); after != before {
		t.Errorf("bootstrap changed operator data:\nbefore\n%s\nafter\n%s", before, after)
	}
	d, err := st.LoadDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sessions {
		if s.CompID == "FIRM_C" && (s.CheckPassword("firm_c") || !s.CheckPassword("firm-c-secret")) {
			t.Errorf("FIRM_C's password reverted")
		}
		if s.CompID == "FIRM_B" && !s.Suspended {
			t.Errorf("FIRM_B's suspension reverted")
		}
	}
	for _, a := range d.Accounts {
		if a.Name == "FIRM_A" && !a.Suspended {
			t.Errorf("FIRM_A's suspension reverted")
		}
	}
}

// TestBootstrapRefusesRenamedAsset: a back office whose asset ids disagree
// with the venue's configuration (a configuration whose symbols changed
// order, or assets written before the venue's first start) stops the
// bootstrap with both names, instead of renaming the asset under the rows
// that use it.
func TestBootstrapRefusesRenamedAsset(t *testing.T) {
	st, db, uni := adminStore(t)
	if _, err := db.Exec(`UPDATE assets SET name = 'ETH' WHERE id = 0`); err != nil {
		t.Fatal(err)
	}
	dir, err := refdata.Dev(4)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Bootstrap(context.Background(), uni, dir)
	if err == nil || !strings.Contains(err.Error(), "asset id 0 is ETH in the back office but BTC in the venue's configuration") {
		t.Fatalf("bootstrap over a renamed asset: %v", err)
	}
	var name string
	if err := db.QueryRow(`SELECT name FROM assets WHERE id = 0`).Scan(&name); err != nil || name != "ETH" {
		t.Errorf("asset 0 is %q after the refused bootstrap (%v)", name, err)
	}
}

// FuzzSymbolInput: whatever the operator types, symbol add's validation
// either names a flag or yields a definition whose units are exact (the
// engine's minimum and maximum are whole quantity steps, the reference a
// whole number of ticks), and never panics.
func FuzzSymbolInput(f *testing.F) {
	f.Add("ETH-USD", "0.01", "0.00000001", "0.001", "1000", "10000000", "3000", 2000)
	f.Add("ETH-USD", "0", "1", "1", "1", "1", "1", 1)
	f.Add("X", "1e-40", "1e40", "-1", "NaN", "", "3000.001", 10000)
	f.Fuzz(func(t *testing.T, name, tick, step, minQty, maxQty, notional, ref string, band int) {
		in := backoffice.SymbolInput{Name: name, Tick: tick, QtyStep: step, MinQty: minQty, MaxQty: maxQty,
			MaxNotional: notional, RefPx: ref, BandBps: band}
		d, err := in.Def()
		if err != nil {
			var fe *backoffice.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "--") {
				t.Fatalf("not a flag's error: %v", err)
			}
			return
		}
		s, err := d.Build()
		if err != nil {
			t.Fatalf("validated but not built: %v", err)
		}
		if !s.QtyDec(s.Spec.MinQty).Equal(d.MinQty) || !s.QtyDec(s.Spec.MaxQty).Equal(d.MaxQty) || !s.PxDec(s.Spec.RefPx).Equal(d.RefPx) {
			t.Fatalf("units not exact: %+v from %+v", s.Spec, d)
		}
	})
}
