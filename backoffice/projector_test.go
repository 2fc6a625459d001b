package backoffice_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"venue/backoffice"
	"venue/matching"
	"venue/server"
)

// TestVenueAgrees runs generated commands through a real venue with the
// back office on, then checks that PostgreSQL agrees with the engine:
// trades, traded quantity, fees, execution reports and every balance.
func TestVenueAgrees(t *testing.T) {
	dbURL := freshDB(t)
	cfg := testConfig(t, t.TempDir(), dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)
	var tot totals
	submitAll(t, srv, newGen(1), 20_000, &tot)
	// A new order for a symbol that does not exist is rejected and
	// reported; the projector keeps going.
	res, err := srv.Seq.Submit(context.Background(), &matching.Command{Kind: matching.CmdNewOrder, Session: 1,
		Firm: 1, Account: 2, Symbol: 99, Side: matching.Buy, Type: matching.Limit, TIF: matching.GTC,
		Px: 1, Qty: 10_000, ClOrdID: "no-such-symbol"})
	if err != nil || len(res.Events) != 1 || res.Events[0].Kind != matching.EvRejected {
		t.Fatalf("unknown symbol: %+v, %v", res.Events, err)
	}
	tot.execReports++
	last := srv.Seq.Stats().LastSeq
	waitProjected(t, srv, last)
	if lag := srv.BackOffice.Lag(); lag != 0 {
		t.Errorf("lag %d after catching up", lag)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if tot.trades == 0 {
		t.Fatal("the generator made no trades")
	}
	db := openDB(t, dbURL)
	checkAgainstEngine(t, db, srv, tot)
}

// checkAgainstEngine compares the projection with the engine's totals and
// balances (the venue is closed: the engine is quiet).
func checkAgainstEngine(t *testing.T, db *sql.DB, srv *server.Server, tot totals) {
	t.Helper()
	sym := srv.Universe.Symbols()[0]
	var (
		trades          int
		qty, fees, notl string
	)
	if err := db.QueryRow(`SELECT count(*), COALESCE(sum(qty), 0), COALESCE(sum(maker_fee + taker_fee), 0),
		COALESCE(sum(notional), 0) FROM trades`).Scan(&trades, &qty, &fees, &notl); err != nil {
		t.Fatal(err)
	}
	if trades != tot.trades {
		t.Errorf("trades: database %d, engine %d", trades, tot.trades)
	}
	eq := func(name, got string, want decimal.Decimal) {
		t.Helper()
		d, err := decimal.NewFromString(got)
		if err != nil || !d.Equal(want) {
			t.Errorf("%s: database %s, engine %s", name, got, want)
		}
	}
	eq("traded quantity", qty, sym.QtyDec(tot.qty))
	eq("fees", fees, sym.QuoteDec(tot.fees))
	eq("notional", notl, sym.QuoteDec(tot.notional))
	var feeExec string
	if err := db.QueryRow(`SELECT COALESCE(sum(commission), 0) FROM executions WHERE exec_type = 'F'`).Scan(&feeExec); err != nil {
		t.Fatal(err)
	}
	eq("commissions of fills", feeExec, sym.QuoteDec(tot.fees))
	var execs int
	if err := db.QueryRow(`SELECT count(*) FROM executions`).Scan(&execs); err != nil {
		t.Fatal(err)
	}
	if execs != tot.execReports {
		t.Errorf("executions: database %d, engine events %d", execs, tot.execReports)
	}
	var last int64
	if err := db.QueryRow(`SELECT last_seq FROM projector_state`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if uint64(last) != srv.Seq.Stats().LastSeq {
		t.Errorf("projector_state.last_seq %d, sequencer %d", last, srv.Seq.Stats().LastSeq)
	}

	accounts := []matching.AccountID{matching.ExternalAccount, matching.FeeAccount}
	for _, a := range srv.Directory.Accounts() {
		accounts = append(accounts, a.Spec.ID)
	}
	for _, acct := range accounts {
		for _, as := range srv.Universe.Assets() {
			total, _ := srv.Engine.Balance(acct, as.ID)
			var got sql.NullString
			err := db.QueryRow(`SELECT amount FROM balances WHERE account_id = $1 AND asset_id = $2`,
				int64(acct), int64(as.ID)).Scan(&got)
			if err != nil && err != sql.ErrNoRows {
				t.Fatal(err)
			}
			if !got.Valid {
				got.String = "0"
			}
			eq("balance of account "+itoa(int64(acct))+" "+as.Name, got.String, decimal.NewFromInt(total).Mul(as.Unit))
		}
	}
	// Orders: every order the engine still has open is open in the
	// database with the same leaves.
	open := map[int64]int64{}
	srv.Engine.OpenOrders(func(v matching.OrderView) { open[int64(v.ID)] = v.Leaves })
	rows, err := db.Query(`SELECT order_id, leaves_qty FROM orders WHERE status IN ('0', '1')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var leaves string
		if err := rows.Scan(&id, &leaves); err != nil {
			t.Fatal(err)
		}
		n++
		want, ok := open[id]
		if !ok {
			t.Errorf("order %d open in the database, not in the engine", id)
			continue
		}
		eq("leaves of order "+itoa(id), leaves, sym.QtyDec(want))
	}
	if n != len(open) {
		t.Errorf("open orders: database %d, engine %d", n, len(open))
	}
}

func itoa(v int64) string { return decimal.NewFromInt(v).String() }

// TestKillAndRestart kills the projector in the middle of a run (stopped
// without draining, and its connection terminated by the server), goes
// on trading, starts it again: the projection has no gap and no
// duplicate, and equals a rebuild from the journal.
func TestKillAndRestart(t *testing.T) {
	dbURL := freshDB(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)
	db := openDB(t, dbURL)
	g := newGen(2)
	var tot totals
	submitAll(t, srv, g, 3_000, &tot)

	// 1. kill: stop at once, mid-batch, while commands flow.
	done := make(chan struct{})
	go func() {
		defer close(done)
		var more totals
		submitAll(t, srv, g, 6_000, &more)
		tot.add(more)
	}()
	time.Sleep(50 * time.Millisecond)
	_ = srv.BackOffice.Stop(0)
	<-done
	killedAt := srv.BackOffice.LastSeq()
	if killedAt >= srv.Seq.Stats().LastSeq {
		t.Logf("the projector had caught up before it was killed (seq %d)", killedAt)
	}

	// 2. restart it on the same database: it catches up from the journal.
	svc, err := backoffice.StartService(backoffice.ServiceConfig{URL: dbURL, Required: true,
		JournalDir: server.JournalDir(dataDir), RetryMin: 50 * time.Millisecond},
		srv.Universe, srv.Directory, srv.Seq)
	if err != nil {
		t.Fatal(err)
	}
	srv.BackOffice = svc

	// 3. kill its database connections while commands flow: it retries.
	done = make(chan struct{})
	go func() {
		defer close(done)
		var more totals
		submitAll(t, srv, g, 6_000, &more)
		tot.add(more)
	}()
	time.Sleep(30 * time.Millisecond)
	mustExec(t, db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	<-done
	last := srv.Seq.Stats().LastSeq
	waitProjected(t, srv, last)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	checkAgainstEngine(t, db, srv, tot)

	// No gap: ledger entries and executions cover every seq that had them;
	// the rebuild from the journal is identical row for row.
	live := dump(t, db)
	other := freshDB(t)
	st, err := backoffice.Open(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := backoffice.Rebuild(context.Background(), st, srv.Universe, server.JournalDir(dataDir)); err != nil {
		t.Fatal(err)
	}
	diffDumps(t, live, dump(t, st.DB()))
}

func (a *totals) add(b totals) {
	a.trades += b.trades
	a.qty += b.qty
	a.fees += b.fees
	a.notional += b.notional
	a.execReports += b.execReports
	a.lastSeq = max(a.lastSeq, b.lastSeq)
}

// TestRebuildEqualsLive: `venue backoffice rebuild` on the live database
// gives back exactly the live projection; projecting the same seqs again
// changes nothing.
func TestRebuildEqualsLive(t *testing.T) {
	dbURL := freshDB(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)
	var tot totals
	submitAll(t, srv, newGen(3), 5_000, &tot)
	waitProjected(t, srv, srv.Seq.Stats().LastSeq)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dbURL)
	live := dump(t, db)
	if len(live["trades"]) == 0 || len(live["ledger_postings"]) == 0 {
		t.Fatalf("nothing projected: %d trades", len(live["trades"]))
	}

	ctx := context.Background()
	st, err := backoffice.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := backoffice.Rebuild(ctx, st, srv.Universe, server.JournalDir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	if res.LastSeq != srv.Seq.Stats().LastSeq {
		t.Errorf("rebuild to seq %d, journal at %d", res.LastSeq, srv.Seq.Stats().LastSeq)
	}
	diffDumps(t, live, dump(t, db))

	// Idempotent: a projector replaying the journal from seq 1 against
	// the full projection writes nothing.
	p, err := backoffice.NewProjector(ctx, st, srv.Universe)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.CatchUp(ctx, server.JournalDir(dataDir), 0); err != nil {
		t.Fatal(err)
	}
	if p.Batches.Load() != 0 {
		t.Errorf("projecting projected seqs wrote %d batches", p.Batches.Load())
	}
	diffDumps(t, live, dump(t, db))
}

// TestDroppedSubscription: a projector whose subscription buffer is tiny
// is dropped by the sequencer again and again, never slows the engine,
// and still ends with every seq projected once.
func TestDroppedSubscription(t *testing.T) {
	dbURL := freshDB(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)
	_ = srv.BackOffice.Stop(0)
	svc, err := backoffice.StartService(backoffice.ServiceConfig{URL: dbURL, Required: true,
		JournalDir: server.JournalDir(dataDir), SubscriberBuffer: 2}, srv.Universe, srv.Directory, srv.Seq)
	if err != nil {
		t.Fatal(err)
	}
	srv.BackOffice = svc
	var tot totals
	submitAll(t, srv, newGen(4), 8_000, &tot)
	waitProjected(t, srv, srv.Seq.Stats().LastSeq)
	if d := srv.BackOffice.Status().Drops; d == 0 {
		t.Log("no subscription was dropped (the projector kept up)")
	} else {
		t.Logf("%d subscriptions dropped and caught up from the journal", d)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	checkAgainstEngine(t, openDB(t, dbURL), srv, tot)
}

// TestOptionalDatabase: with database.required false a venue starts when
// PostgreSQL does not answer and says so; with true it refuses to start.
func TestOptionalDatabase(t *testing.T) {
	down := "postgres://postgres@" + freeAddr(t) + "/venue?sslmode=disable&connect_timeout=1"
	cfg := testConfig(t, t.TempDir(), down)
	srv := startVenue(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for srv.BackOffice.Status().State != backoffice.StateUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("state %+v, want unavailable", srv.BackOffice.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := srv.BackOffice.Status(); st.Err == "" || st.Lag == 0 {
		t.Errorf("status %+v: want the error and a lag", st)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	cfg = testConfig(t, t.TempDir(), down)
	cfg.Database.Required = true
	if srv, err := server.Start(cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1}); err == nil {
		srv.Close()
		t.Fatal("started with database.required and no database")
	}
}

// TestForeignJournal: a database holding another journal's projection is
// refused, not mixed.
func TestForeignJournal(t *testing.T) {
	dbURL := freshDB(t)
	cfg := testConfig(t, t.TempDir(), dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)
	waitProjected(t, srv, srv.Seq.Stats().LastSeq)
	srv.Close()

	cfg2 := testConfig(t, t.TempDir(), dbURL) // another data dir: another journal
	srv2 := startVenue(t, cfg2)
	deadline := time.Now().Add(10 * time.Second)
	for srv2.BackOffice.Status().State != backoffice.StateUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("state %+v, want unavailable", srv2.BackOffice.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("refused: %s", srv2.BackOffice.Status().Err)
}
