package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"venue/internal/pgtest"
)

// TestAdminRefdataCommands: `venue admin firm|account|session|symbol`
// against a fresh database: what they print, the field a bad input names
// (and that it changes nothing), the password read from stdin and never
// printed, and the audit rows.
func TestAdminRefdataCommands(t *testing.T) {
	dbURL := pgtest.URL(t, "admin_cmd_test") // made by venue migrate below; dropped at the end
	cleanEnv(t)
	t.Setenv("VENUE_DATABASE_URL", dbURL)
	venue := func(stdin string, args ...string) (int, string) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetIn(strings.NewReader(stdin))
		code := 0
		if err := root.Execute(); err != nil {
			fmt.Fprintf(&out, "venue: %v\n", err)
			code = 1
		}
		return code, out.String()
	}
	if code, out := venue("", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := func() string {
		var f, a, s, sa int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM firms), (SELECT count(*) FROM accounts),
			(SELECT count(*) FROM fix_sessions), (SELECT count(*) FROM fix_session_accounts)`).Scan(&f, &a, &s, &sa); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(f, a, s, sa)
	}

	op := []string{"admin", "--operator", "alice"}
	type adminCase struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
	}
	run := func(cases []adminCase) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := counts()
				code, out := venue(tc.stdin, append(op, tc.args...)...)
				if code != tc.code || !strings.Contains(out, tc.out) {
					t.Errorf("venue admin %s: exit %d:\n%s\nwant exit %d with %q", strings.Join(tc.args, " "), code, out, tc.code, tc.out)
				}
				if strings.Contains(out, "secret") || strings.Contains(out, "$2") {
					t.Errorf("printed a password or hash: %s", out)
				}
				if tc.code != 0 && counts() != before {
					t.Errorf("a refused command changed rows: %s -> %s", before, counts())
				}
			})
		}
	}
	run([]adminCase{
		{"firm", "", []string{"firm", "add", "--name", "FIRM_D"}, 0, "firm.add FIRM_D: ok (id 1)"},
		{"firm twice", "", []string{"firm", "add", "--name", "FIRM_D"}, 1, "admin: firm add: --name FIRM_D: a firm of that name exists"},
		{"unknown firm", "", []string{"account", "add", "--firm", "FIRM_X", "--name", "D1"}, 1, "admin: account add: --firm FIRM_X: unknown firm"},
		{"fee tier", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D1", "--fee-tier", "99"}, 1, "admin: account add: --fee-tier 99: must be 0..15"},
		{"stp", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D1", "--stp", "Z"}, 1, `admin: account add: --stp "Z": must be O`},
		{"malformed fee tier", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D1", "--fee-tier", "0.5"}, 1, `invalid argument "0.5" for "--fee-tier"`},
		{"no fee schedule", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D1", "--fee-tier", "2"}, 1, "admin: account add: --fee-tier 2: has no fee schedule"},
		{"malformed fee rate", "", []string{"fee-tier", "set", "--tier", "2", "--maker-bps", "1,5", "--taker-bps", "2"}, 1, `admin: fee-tier set: --maker-bps "1,5": not a number of basis points`},
		{"fee tier set", "", []string{"fee-tier", "set", "--tier", "2", "--maker-bps", "0.5", "--taker-bps", "2.25"}, 0, "fee-tier.set 2: ok"},
		{"fee tier list", "", []string{"fee-tier", "list"}, 0, "2     0.5        2.25"},
		{"account", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D1", "--fee-tier", "2", "--stp", "b", "--kyc-tier", "1"}, 0, "account.add D1: ok (id 2)"},
		{"session without password", "", []string{"session", "add", "--comp-id", "D1", "--kind", "order-entry", "--firm", "FIRM_D", "--account", "D1"}, 1,
			"admin: session add: --password-stdin: required"},
		{"session short password", "pw\n", []string{"session", "add", "--comp-id", "D1", "--kind", "order-entry", "--firm", "FIRM_D", "--account", "D1", "--password-stdin"}, 1,
			"--password-stdin: the password must be at least 8 bytes"},
		{"session bad kind", "d1-secret\n", []string{"session", "add", "--comp-id", "D1", "--kind", "quotes", "--firm", "FIRM_D", "--password-stdin"}, 1,
			`admin: session add: --kind "quotes": must be order-entry, drop-copy or market-data`},
		{"session", "d1-secret\n", []string{"session", "add", "--comp-id", "D1", "--kind", "order-entry", "--firm", "FIRM_D", "--account", "D1", "--throttle", "50", "--password-stdin"}, 0,
			"session.add D1: ok (id 1)"},
		{"duplicate CompID", "d1-secret\n", []string{"session", "add", "--comp-id", "D1", "--kind", "market-data", "--firm", "FIRM_D", "--password-stdin"}, 1,
			"admin: session add: --comp-id D1: a session of that CompID exists"},
		{"drop copy", "d1-dc-secret\n", []string{"session", "add", "--comp-id", "D1_DC", "--kind", "drop-copy", "--firm", "FIRM_D", "--trade-capture-reports", "--password-stdin"}, 0,
			"session.add D1_DC: ok (id 2)"},
		{"suspend account", "", []string{"account", "suspend", "D1"}, 0, "account.suspend D1: ok"},
		{"suspend unknown account", "", []string{"account", "suspend", "D9"}, 1, "admin: account suspend: ACCOUNT D9: unknown account"},
		{"resume account", "", []string{"account", "resume", "D1"}, 0, "account.resume D1: ok"},
		{"account set bad fee tier", "", []string{"account", "set", "D1", "--fee-tier", "99"}, 1, "admin: account set: --fee-tier 99: must be 0..15"},
		{"account set nothing", "", []string{"account", "set", "D1"}, 1, "say what to change"},
		{"account set", "", []string{"account", "set", "D1", "--stp", "o", "--kyc-tier", "3"}, 0, "account.set D1: ok"},
		{"suspend session", "", []string{"session", "suspend", "D1_DC"}, 0, "session.suspend D1_DC: ok"},
		{"set password", "d1-new-secret\n", []string{"session", "set-password", "D1", "--password-stdin"}, 0, "session.set-password D1: ok"},
		{"second account", "", []string{"account", "add", "--firm", "FIRM_D", "--name", "D2", "--fee-tier", "2"}, 0, "account.add D2: ok (id 3)"},
		{"grant", "", []string{"session", "grant", "D1", "--account", "D2"}, 0, "session.grant D1 D2: ok"},
		{"grant twice", "", []string{"session", "grant", "D1", "--account", "D2"}, 0, "session.grant D1 D2: ok (already granted)"},
		{"grant to a drop copy", "", []string{"session", "grant", "D1_DC", "--account", "D2"}, 1, "admin: session grant: --comp-id D1_DC: a drop-copy session places no orders"},
		{"revoke the default", "", []string{"session", "revoke", "D1", "--account", "D1"}, 1, "admin: session revoke: --account D1: is the session's default account, always granted"},
		{"grant unknown account", "", []string{"session", "grant", "D1", "--account", "D9"}, 1, "admin: session grant: --account D9: unknown account"},
		{"firm list", "", []string{"firm", "list"}, 0, "FIRM_D  active  2         2"},
		{"suspend firm", "", []string{"firm", "suspend", "FIRM_D"}, 0, "firm.suspend FIRM_D: ok"},
		{"suspend unknown firm", "", []string{"firm", "suspend", "FIRM_X"}, 1, "admin: firm suspend: FIRM FIRM_X: unknown firm"},
		{"suspended firm list", "", []string{"firm", "list"}, 0, "FIRM_D  suspended  2         2"},
		{"resume firm", "", []string{"firm", "resume", "FIRM_D"}, 0, "firm.resume FIRM_D: ok"},
		{"account list", "", []string{"account", "list"}, 0, "D1    active  3    2         O    10000"},
		{"session list", "", []string{"session", "list"}, 0, "D1      order-entry  FIRM_D  D1       D2       active     Y    50        N"},
		{"session list drop copy", "", []string{"session", "list"}, 0, "D1_DC   drop-copy    FIRM_D  -        -        suspended  N    default   Y"},
		{"symbol list", "", []string{"symbol", "list"}, 0, "ID  NAME  BASE"},
		{"symbol zero tick", "", []string{"symbol", "add", "--name", "ETH-USD", "--tick", "0", "--qty-step", "0.0001", "--min-qty", "0.01",
			"--max-qty", "1000", "--max-notional", "1000000", "--ref-px", "3000"}, 1, "admin: symbol add: --tick 0: must be positive"},
		{"symbol before the bootstrap", "", []string{"symbol", "add", "--name", "ETH-USD", "--tick", "0.01", "--qty-step", "0.00000001",
			"--min-qty", "0.01", "--max-qty", "1000", "--max-notional", "1000000", "--ref-px", "3000"}, 1,
			"admin: symbol add: --name ETH-USD: the back office holds no symbol yet: start the venue once"},
	})
	// What a venue's bootstrap writes for the dev configuration's BTC-USD.
	if _, err := db.Exec(`INSERT INTO assets (id, name, unit) VALUES (0, 'BTC', 0.00000001), (1, 'USD', 0.0000000001);
		INSERT INTO symbols (id, name, base_asset, quote_asset, tick, qty_step, min_qty, max_qty, max_notional, ref_px, band_bps)
		VALUES (1, 'BTC-USD', 0, 1, 0.01, 0.00000001, 0.0001, 1000, 100000000, 60000, 2000)`); err != nil {
		t.Fatal(err)
	}
	run([]adminCase{
		{"symbol quote unit", "", []string{"symbol", "add", "--name", "ETH-USD", "--tick", "0.01", "--qty-step", "0.0001", "--min-qty", "0.01",
			"--max-qty", "1000", "--max-notional", "1000000", "--ref-px", "3000"}, 1,
			"admin: symbol add: --tick 0.01: tick × qty step is 0.000001, but USD is counted in units of 0.0000000001"},
		{"symbol add", "", []string{"symbol", "add", "--name", "ETH-USD", "--tick", "0.01", "--qty-step", "0.00000001", "--min-qty", "0.01",
			"--max-qty", "1000", "--max-notional", "1000000", "--ref-px", "3000", "--halted"}, 0, "symbol.add ETH-USD: ok (id 2)"},
		{"symbol listed", "", []string{"symbol", "list"}, 0, "2   ETH-USD  ETH   USD    0.01  0.00000001  0.01     1000     1000000       3000    2000      halted"},
		{"user without password", "", []string{"user", "add", "--username", "ann", "--role", "operator"}, 1, "admin: user add: --password-stdin: required"},
		{"user bad role", "ann-secret\n", []string{"user", "add", "--username", "ann", "--role", "root", "--password-stdin"}, 1, `admin: user add: --role "root": must be admin, operator, viewer or trader`},
		{"user", "ann-secret\n", []string{"user", "add", "--username", "ann", "--role", "operator", "--firm", "FIRM_D", "--password-stdin"}, 0, "user.add ann: ok"},
		{"user twice", "ann-secret\n", []string{"user", "add", "--username", "ann", "--role", "viewer", "--password-stdin"}, 1, "admin: user add: --username ann: a user of that name exists"},
		{"user list", "", []string{"user", "list"}, 0, "ann       operator  FIRM_D  active"},
		{"suspend user", "", []string{"user", "suspend", "ann"}, 0, "user.suspend ann: ok"},
	})
	var n, refused int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE outcome LIKE 'refused:%') FROM audit_log
		WHERE actor = 'alice' AND source = 'cli'`).Scan(&n, &refused); err != nil {
		t.Fatal(err)
	}
	// 18 applied, 20 refused: the ones that reached the store (not the
	// missing or short password, not a flag cobra refused).
	if n != 38 || refused != 20 {
		t.Errorf("audit: %d rows, %d refused", n, refused)
	}
	var details string
	if err := db.QueryRow(`SELECT details::text FROM audit_log WHERE action = 'session.set-password'`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if details != `{"password": "set"}` {
		t.Errorf("set-password details %s", details)
	}
}
