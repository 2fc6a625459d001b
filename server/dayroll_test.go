package server_test

import (
	"context"
	"testing"
	"time"

	"venue/config"
	"venue/matching"
	"venue/server"
)

// TestDayRollAfterDowntime: a venue that was down over midnight UTC expires
// the Day orders and forgets the ClOrdIDs of the day before it takes
// anything else; GTC orders stay.
func TestDayRollAfterDowntime(t *testing.T) {
	dir := t.TempDir()
	start := func(clock func() int64) *server.Server {
		cfg := config.Default()
		cfg.DataDir = dir
		cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
		cfg.Log.Level = "warn"
		srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	order := func(srv *server.Server, cl string, tif matching.TIF) matching.Event {
		t.Helper()
		res, err := srv.Seq.Submit(context.Background(), &matching.Command{Kind: matching.CmdNewOrder,
			Session: 1, Firm: 1, Account: 2, Symbol: 1, Side: matching.Buy, Type: matching.Limit, TIF: tif,
			Px: 5_900_000, Qty: 1_000_000, ClOrdID: cl})
		if err != nil {
			t.Fatal(err)
		}
		return res.Events[0]
	}
	yesterday := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Hour).UnixNano() // 23:00 UTC yesterday
	srv := start(func() int64 { return yesterday })
	if ev := order(srv, "day-1", matching.Day); ev.Kind != matching.EvAccepted {
		t.Fatalf("day order: %+v", ev)
	}
	if ev := order(srv, "gtc-1", matching.GTC); ev.Kind != matching.EvAccepted {
		t.Fatalf("gtc order: %+v", ev)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv = start(nil) // today
	var open []string
	srv.Engine.OpenOrders(func(v matching.OrderView) { open = append(open, v.ClOrdID) })
	if len(open) != 1 || open[0] != "gtc-1" {
		t.Fatalf("open orders after the missed midnight: %v, want only gtc-1", open)
	}
	if ev := order(srv, "day-1", matching.Day); ev.Kind != matching.EvAccepted {
		t.Fatalf("yesterday's ClOrdID reused today: %+v (want accepted)", ev)
	}
	// A restart on the same day rolls nothing.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = start(nil)
	open = open[:0]
	srv.Engine.OpenOrders(func(v matching.OrderView) { open = append(open, v.ClOrdID) })
	if len(open) != 2 {
		t.Fatalf("open orders after a same-day restart: %v, want gtc-1 and day-1", open)
	}
}
