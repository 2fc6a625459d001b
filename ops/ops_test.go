package ops_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"venue/backoffice"
	"venue/config"
	"venue/internal/pgtest"
	"venue/matching"
	"venue/server"
)

func start(t *testing.T) (*server.Server, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Ops.AdminToken = "secret"
	cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable" // no back office in these tests
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg.Ops.Addr = srv.Ops.Addr().String()
	return srv, &cfg
}

func call(t *testing.T, method, url, token, operator string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if operator != "" {
		req.Header.Set("X-Operator", operator)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// order submits a limit buy for FIRM_A (account 2) and returns its events.
func order(t *testing.T, srv *server.Server, cl string) []matching.Event {
	t.Helper()
	res, err := srv.Seq.Submit(context.Background(), &matching.Command{Kind: matching.CmdNewOrder,
		Session: 1, Firm: 1, Account: 2, Symbol: 1, Side: matching.Buy, Type: matching.Limit, TIF: matching.GTC,
		Px: 5_900_000, Qty: 1_000_000, ClOrdID: cl})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

func TestHealthAndMetrics(t *testing.T) {
	srv, cfg := start(t)
	base := "http://" + cfg.Ops.Addr
	if code, body := call(t, "GET", base+"/healthz", "", ""); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := call(t, "GET", base+"/readyz", "", ""); code != 200 {
		t.Fatalf("readyz: %d %q", code, body)
	}
	order(t, srv, "m1")
	// The depth view follows the sequencer asynchronously: wait for it.
	var code int
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; {
		code, body = call(t, "GET", base+"/metrics", "", "")
		if strings.Contains(body, `venue_book_levels{symbol="BTC-USD",side="bid"} 1`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		"# TYPE venue_commands_total counter",
		"venue_journal_fsync_seconds_bucket{le=\"+Inf\"}",
		"venue_fix_ack_latency_seconds_count",
		`venue_fix_sessions_connected{kind="order-entry"} 0`,
		`venue_book_levels{symbol="BTC-USD",side="bid"} 1`,
		`venue_book_quantity{symbol="BTC-USD",side="bid"} 0.01`,
		`venue_fix_guard_cuts_total{kind="order-entry"} 0`,
		`venue_fix_sessions_connected{kind="market-data"} 0`,
		"venue_fix_drop_copy_store_errors_total 0",
		"# TYPE venue_md_last_seq gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics without %q:\n%s", want, body)
		}
	}
}

func TestAdminActionsAreAuthenticatedAppliedAndAudited(t *testing.T) {
	srv, cfg := start(t)
	base := "http://" + cfg.Ops.Addr + "/admin"

	if code, _ := call(t, "POST", base+"/symbols/BTC-USD/halt", "", "alice"); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := call(t, "POST", base+"/symbols/BTC-USD/halt", "wrong", "alice"); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if code, _ := call(t, "POST", base+"/symbols/BTC-USD/halt", "secret", ""); code != 400 {
		t.Fatalf("no operator: %d", code)
	}
	if code, body := call(t, "POST", base+"/symbols/DOGE-USD/halt", "secret", "alice"); code != 404 || !strings.Contains(body, "unknown symbol") {
		t.Fatalf("unknown symbol: %d %s", code, body)
	}

	if code, body := call(t, "POST", base+"/symbols/BTC-USD/halt", "secret", "alice"); code != 200 {
		t.Fatalf("halt: %d %s", code, body)
	}
	if evs := order(t, srv, "h1"); evs[0].Kind != matching.EvRejected || evs[0].Reason != matching.RejHalted {
		t.Fatalf("order while halted: %+v", evs[0])
	}
	if code, _ := call(t, "POST", base+"/symbols/BTC-USD/resume", "secret", "alice"); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	if evs := order(t, srv, "h2"); evs[0].Kind != matching.EvAccepted {
		t.Fatalf("order after resume: %+v", evs[0])
	}

	if code, _ := call(t, "POST", base+"/accounts/FIRM_A/kill", "secret", "bob"); code != 200 {
		t.Fatalf("kill: %d", code)
	}
	if evs := order(t, srv, "k1"); evs[0].Reason != matching.RejKillSwitch {
		t.Fatalf("order of a killed account: %+v", evs[0])
	}
	if code, _ := call(t, "POST", base+"/accounts/FIRM_A/unkill", "secret", "bob"); code != 200 {
		t.Fatalf("unkill: %d", code)
	}
	order(t, srv, "k2")
	order(t, srv, "k3")

	if code, body := call(t, "POST", base+"/mass-cancel", "secret", "bob"); code != 400 || !strings.Contains(body, "all=true") {
		t.Fatalf("mass cancel without a scope: %d %s", code, body)
	}
	code, body := call(t, "POST", base+"/mass-cancel?account=FIRM_A&side=buy", "secret", "bob")
	var res struct {
		OK    bool  `json:"ok"`
		Count int64 `json:"count"`
		Seq   uint64
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != 200 || !res.OK || res.Count != 2 {
		t.Fatalf("mass cancel: %d %s", code, body)
	}
	if code, _ := call(t, "POST", base+"/sessions/FIRM_A/disconnect", "secret", "bob"); code != 409 {
		t.Fatalf("disconnect of a session not connected: %d", code)
	}
	if code, _ := call(t, "POST", base+"/sessions/NOBODY/disconnect", "secret", "bob"); code != 404 {
		t.Fatalf("disconnect of an unknown session: %d", code)
	}

	// The audit trail: every authenticated action, refused ones included.
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "ops", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var actions []string
	for _, l := range lines {
		var e struct{ Operator, Action, Target, Outcome string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		actions = append(actions, e.Operator+" "+e.Action+" "+e.Target+" "+strings.SplitN(e.Outcome, ":", 2)[0])
	}
	want := []string{
		" halt BTC-USD header X-Operator must name the operator (1 to 64 characters)",
		"alice halt DOGE-USD unknown symbol \"DOGE-USD\"",
		"alice halt BTC-USD ok", "alice resume BTC-USD ok",
		"bob kill FIRM_A ok", "bob unkill FIRM_A ok",
		"bob mass-cancel  say account=, symbol= or side=, or all=true to cancel every order of the venue",
		"bob mass-cancel account FIRM_A, buys ok",
		"bob disconnect FIRM_A session FIRM_A is not connected",
		"bob disconnect NOBODY unknown session \"NOBODY\"",
	}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
}

// TestAdminAuditInPostgreSQL: with the back office live, admin actions are
// in audit_log too.
func TestAdminAuditInPostgreSQL(t *testing.T) {
	dbURL := freshDB(t)

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Ops.AdminToken = "secret"
	cfg.Database.URL = dbURL
	cfg.Database.Required = true
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg.Ops.Addr = srv.Ops.Addr().String()
	deadline := time.Now().Add(20 * time.Second)
	for srv.BackOffice.Status().State != "live" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := call(t, "POST", "http://"+cfg.Ops.Addr+"/admin/symbols/BTC-USD/halt", "secret", "carol"); code != 200 {
		t.Fatalf("halt: %d %s", code, body)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var actor, action, target, outcome, source string
	var seq int64
	if err := db.QueryRow(`SELECT actor, action, target, outcome, source, seq FROM audit_log ORDER BY id DESC LIMIT 1`).
		Scan(&actor, &action, &target, &outcome, &source, &seq); err != nil {
		t.Fatal(err)
	}
	if actor != "carol" || action != "halt" || target != "BTC-USD" || outcome != "ok" || source != "http" || seq == 0 {
		t.Fatalf("audit_log row: %s %s %s %s %s %d", actor, action, target, outcome, source, seq)
	}
	code, body := call(t, "GET", "http://"+cfg.Ops.Addr+"/metrics", "", "")
	if code != 200 || !strings.Contains(body, "venue_backoffice_lag_commands") {
		t.Fatalf("metrics without the back-office lag: %d\n%s", code, body)
	}
}

// TestUserLogin: venue users (`venue admin user add`) act on the ops
// endpoint with HTTP Basic as themselves; a wrong password is 401, a viewer
// 403, and the audit names the user.
func TestUserLogin(t *testing.T) {
	dbURL := freshDB(t)

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Database.URL, cfg.Database.Required = dbURL, true
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := "http://" + srv.Ops.Addr().String() + "/admin/symbols/BTC-USD/halt"

	ctx := context.Background()
	st, err := backoffice.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	who := backoffice.Actor{Name: "setup", Source: "cli"}
	for _, u := range []struct{ name, role string }{{"dana", "operator"}, {"vic", "viewer"}} {
		h, _ := bcrypt.GenerateFromPassword([]byte("pw-"+u.name), 4)
		if _, err := st.AddUser(ctx, who, backoffice.UserInput{Username: u.name, Role: u.role, PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), 4)
	if _, err := st.AddUser(ctx, who, backoffice.UserInput{Username: "eve", Role: "root", PasswordHash: h}); err == nil || !strings.Contains(err.Error(), "--role") {
		t.Fatalf("a user with role root: %v", err)
	}

	basic := func(user, pass string) (int, string) {
		req, _ := http.NewRequest("POST", addr, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := basic("dana", "wrong"); code != 401 {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	if code, body := basic("vic", "pw-vic"); code != 403 || !strings.Contains(body, "viewer") {
		t.Fatalf("viewer: %d %s", code, body)
	}
	if code, body := basic("dana", "pw-dana"); code != 200 {
		t.Fatalf("operator: %d %s", code, body)
	}
	var actor, outcome string
	if err := st.DB().QueryRow(`SELECT actor, outcome FROM audit_log WHERE action = 'halt' AND source = 'http' ORDER BY id DESC LIMIT 1`).
		Scan(&actor, &outcome); err != nil {
		t.Fatal(err)
	}
	if actor != "dana" || outcome != "ok" {
		t.Fatalf("audit of the user's halt: actor %q outcome %q", actor, outcome)
	}
	if _, err := st.SetUserStatus(ctx, who, "dana", "suspended"); err != nil {
		t.Fatal(err)
	}
	if code, _ := basic("dana", "pw-dana"); code != 401 {
		t.Fatalf("suspended user: %d", code)
	}
}

// freshDB is an empty database of the test's own (internal/pgtest).
func freshDB(t *testing.T) string { return pgtest.FreshDB(t, "venue_ops_test") }
