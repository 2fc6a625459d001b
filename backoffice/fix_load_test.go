package backoffice_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"venue/loadtest"
	"venue/sequencer"
	"venue/server"
)

// TestFIXLoadAgrees: after a load run through FIX (venue loadtest's
// traders over TCP: makers, takers, cancels), PostgreSQL agrees with the
// engine (trade count, traded quantity, notional, fees, every account's
// balance, open orders) and with what the FIX clients saw (trades, BTC
// volume, USD notional).
func TestFIXLoadAgrees(t *testing.T) {
	dbURL := freshDB(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, dbURL)
	cfg.Database.Required = true
	srv := startVenue(t, cfg)

	lc := loadtest.DefaultConfig()
	lc.Addr = srv.OEAcc.Addr().String()
	lc.Duration = 2 * time.Second
	lc.Window = 16
	lc.Makers, lc.Takers = 2, 1
	res, err := loadtest.Run(context.Background(), lc)
	if err != nil {
		t.Fatalf("load run: %v", err)
	}
	if res.Trades == 0 {
		t.Fatal("the load run made no trades")
	}
	last := srv.Seq.Stats().LastSeq
	waitProjected(t, srv, last)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// What the engine did, from its journal.
	var tot totals
	if _, err := sequencer.ReplayEvents(nil, server.JournalDir(dataDir), 1, 0, func(p *sequencer.Published) error {
		tot.count(p.Events)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dbURL)
	checkAgainstEngine(t, db, srv, tot)

	// And what the FIX clients counted.
	var trades int64
	var btc, usd string
	if err := db.QueryRow(`SELECT count(*), COALESCE(sum(qty), 0), COALESCE(sum(notional), 0) FROM trades`).
		Scan(&trades, &btc, &usd); err != nil {
		t.Fatal(err)
	}
	if trades != res.Trades {
		t.Errorf("trades: database %d, FIX clients %d", trades, res.Trades)
	}
	for _, c := range []struct {
		name, got string
		want      decimal.Decimal
	}{{"BTC volume", btc, res.VolumeBTC}, {"USD notional", usd, res.NotionalUSD}} {
		if d, err := decimal.NewFromString(c.got); err != nil || !d.Equal(c.want) {
			t.Errorf("%s: database %s, FIX clients %s", c.name, c.got, c.want)
		}
	}
	t.Logf("%d trades, %s BTC, %s USD through FIX; %d execution rows", trades, btc, usd, tot.execReports)
}
