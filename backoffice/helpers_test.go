package backoffice_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"venue/config"
	"venue/internal/pgtest"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
	"venue/server"
)

// The tests run against the real PostgreSQL (127.0.0.1:5432, trust auth;
// VENUE_DATABASE_URL overrides the server), each on a fresh database
// dropped at the end.

// freshDB is an empty database of the test's own (internal/pgtest).
func freshDB(t testing.TB) string { return pgtest.FreshDB(t, "bo_test") }

func openDB(t testing.TB, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// testConfig is the dev configuration on free ports with dbURL.
func testConfig(t testing.TB, dataDir, dbURL string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Database.URL = dbURL
	// Port 0: each listener its own free port (startVenue reads them back).
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Log.Level = "warn"
	return &cfg
}

func startVenue(t testing.TB, cfg *config.Config) *server.Server {
	t.Helper()
	srv, err := server.Start(cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatalf("start venue: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg.FIX.OrderEntryAddr = srv.OEAcc.Addr().String()
	cfg.FIX.DropCopyAddr = srv.DCAcc.Addr().String()
	cfg.FIX.MarketDataAddr = srv.MD.Addr().String()
	cfg.Ops.Addr = srv.Ops.Addr().String()
	return srv
}

// gen makes a seeded stream of trading commands for the three dev
// accounts (FIRM_A..C: session i, firm i, account i+1): limit orders a
// few ticks around 60,000.00, crossing IOC orders, cancels and replaces
// of earlier orders, and now and then a deposit.
type gen struct {
	r    *rand.Rand
	n    int
	live [3][]string // ClOrdIDs per session that may still work
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 7))} }

func (g *gen) next() matching.Command {
	g.n++
	k := g.r.IntN(3)
	base := matching.Command{Session: matching.SessionID(k + 1), Firm: matching.FirmID(k + 1),
		Account: matching.AccountID(k + 2), Symbol: 1}
	cl := fmt.Sprintf("c%d", g.n)
	x := g.r.IntN(100)
	switch {
	case x < 15 && len(g.live[k]) > 0:
		i := g.r.IntN(len(g.live[k]))
		c := base
		c.Kind, c.ClOrdID, c.OrigClOrdID = matching.CmdCancel, cl, g.live[k][i]
		g.live[k] = append(g.live[k][:i], g.live[k][i+1:]...)
		return c
	case x < 20 && len(g.live[k]) > 0:
		i := g.r.IntN(len(g.live[k]))
		c := base
		c.Kind, c.ClOrdID, c.OrigClOrdID = matching.CmdReplace, cl, g.live[k][i]
		c.Type, c.TIF = matching.Limit, matching.GTC
		c.Side = matching.Side(1 + g.r.IntN(2)) // a wrong side is refused: a cancel reject
		c.Px = 6_000_000 + int64(g.r.IntN(41)-20)
		c.Qty = 10_000 * int64(1+g.r.IntN(50))
		g.live[k][i] = cl
		return c
	case x < 21:
		c := base
		c.Kind, c.Asset, c.Amount, c.Key = matching.CmdDeposit, matching.AssetID(g.r.IntN(2)),
			int64(1+g.r.IntN(1_000_000)), fmt.Sprintf("gen-deposit-%d", g.n)
		return c
	}
	c := base
	c.Kind, c.ClOrdID, c.Type = matching.CmdNewOrder, cl, matching.Limit
	c.Side = matching.Side(1 + g.r.IntN(2))
	c.Qty = 10_000 * int64(1+g.r.IntN(100))
	if x < 40 { // crossing, immediate or cancel
		c.TIF = matching.IOC
		if c.Side == matching.Buy {
			c.Px = 6_000_000 + 30
		} else {
			c.Px = 6_000_000 - 30
		}
		return c
	}
	c.TIF = matching.GTC
	off := int64(1 + g.r.IntN(20))
	if g.r.IntN(4) == 0 {
		off = -off // some rest through the spread: they trade at once
	}
	if c.Side == matching.Buy {
		c.Px = 6_000_000 - off
	} else {
		c.Px = 6_000_000 + off
	}
	if len(g.live[k]) > 2000 {
		g.live[k] = g.live[k][1:]
	}
	g.live[k] = append(g.live[k], cl)
	return c
}

// bootstrapCommands are what server.Start submits before trading: the
// symbols, the fee tier, the dev accounts and their funding.
func bootstrapCommands(t testing.TB, uni *refdata.Universe, dir *refdata.Directory) []matching.Command {
	var out []matching.Command
	for _, s := range uni.Symbols() {
		sp := s.Spec
		out = append(out, matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &sp})
	}
	out = append(out, matching.Command{Kind: matching.CmdSetFeeTier, MakerPpm: refdata.DevMakerPpm, TakerPpm: refdata.DevTakerPpm})
	for _, a := range dir.Accounts() {
		sp := a.Spec
		out = append(out, matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &sp})
		for _, as := range uni.Assets() {
			amt := refdata.DevFunding[as.Name]
			out = append(out, matching.Command{Kind: matching.CmdDeposit, Account: a.Spec.ID, Asset: as.ID,
				Amount: amt.Div(as.Unit).IntPart(), Key: "dev-funding:" + a.Name + ":" + as.Name})
		}
	}
	return out
}

// submitAll submits n generated commands through the venue's sequencer
// and returns the engine's totals from the results.
type totals struct {
	trades      int
	qty, fees   int64
	execReports int
	lastSeq     uint64
	notional    int64
}

// count counts one command's events: trades, traded quantity, fees and
// notional, and the ExecutionReports they make (two per trade).
func (tot *totals) count(evs []matching.Event) {
	for i := range evs {
		ev := &evs[i]
		switch ev.Kind {
		case matching.EvTrade:
			tot.trades++
			tot.qty += ev.Qty
			tot.fees += ev.MakerFee + ev.TakerFee
			tot.notional += ev.Px * ev.Qty
			tot.execReports += 2
		case matching.EvAccepted, matching.EvRejected, matching.EvCanceled, matching.EvReplaced,
			matching.EvRestated, matching.EvExpired, matching.EvTriggered:
			tot.execReports++
		}
		tot.lastSeq = max(tot.lastSeq, ev.Seq)
	}
}

func submitAll(t testing.TB, srv *server.Server, g *gen, n int, tot *totals) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const window = 256
	done := make(chan []matching.Event, window)
	errs := make(chan error, 1)
	inflight := 0
	for i := 0; i < n; i++ {
		if inflight == window {
			tot.count(<-done)
			inflight--
		}
		c := g.next()
		err := srv.Seq.SubmitAsync(&c, func(r sequencer.Result) {
			if r.Err != nil {
				select {
				case errs <- r.Err:
				default:
				}
			}
			evs := append([]matching.Event(nil), r.Events...)
			done <- evs
		})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		inflight++
	}
	for ; inflight > 0; inflight-- {
		select {
		case evs := <-done:
			tot.count(evs)
		case <-ctx.Done():
			t.Fatal("timed out waiting for results")
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("command failed: %v", err)
	default:
	}
}

// waitProjected waits until the back office has projected seq.
func waitProjected(t testing.TB, srv *server.Server, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		st := srv.BackOffice.Status()
		if st.LastSeq >= seq {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("back office did not reach seq %d: %+v", seq, srv.BackOffice.Status())
}

// dump returns every projection table's rows as text, in key order; the
// projection is a function of the journal, so equal journals give equal
// dumps.
func dump(t testing.TB, db *sql.DB) map[string][]string {
	t.Helper()
	keys := map[string]string{
		"orders": "order_id", "executions": "exec_id", "trades": "trade_id",
		"ledger_postings": "seq, event_index, posting_index", "ledger_entries": "seq, event_index",
		"balances": "account_id, asset_id", "balance_movements": "seq, event_index",
		"symbol_state": "symbol_id", "account_state": "account_id",
	}
	out := map[string][]string{}
	for table, key := range keys {
		rows, err := db.Query(`SELECT t::text FROM ` + table + ` t ORDER BY ` + key)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], s)
		}
		rows.Close()
	}
	var last int64
	if err := db.QueryRow(`SELECT last_seq FROM projector_state`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	out["projector_state"] = []string{fmt.Sprint(last)}
	return out
}

func diffDumps(t testing.TB, a, b map[string][]string) {
	t.Helper()
	for table, ra := range a {
		rb := b[table]
		if len(ra) != len(rb) {
			t.Errorf("%s: %d rows vs %d", table, len(ra), len(rb))
			continue
		}
		for i := range ra {
			if ra[i] != rb[i] {
				t.Errorf("%s row %d:\n %s\n %s", table, i, ra[i], rb[i])
				break
			}
		}
	}
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", strings.TrimSpace(q), err)
	}
}
