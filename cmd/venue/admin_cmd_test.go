package main

import (
	"bytes"
	"strings"
	"testing"

	"venue/config"
	"venue/server"
)

func TestAdminCommands(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg.Ops.Addr = srv.Ops.Addr().String()
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"halt", "BTC-USD"}, 0, "halt BTC-USD: ok (seq "},
		{[]string{"halt", "XRP-USD"}, 1, `halt XRP-USD refused: unknown symbol "XRP-USD"`},
		{[]string{"kill", "FIRM_B"}, 0, "kill FIRM_B: ok"},
		{[]string{"mass-cancel", "--side", "up"}, 1, `side must be buy or sell, got "up"`},
		{[]string{"mass-cancel", "--symbol", "BTC-USD"}, 0, "0 orders canceled"},
		{[]string{"disconnect", "FIRM_A"}, 1, "session FIRM_A is not connected"},
		{[]string{"resume", "BTC-USD", "--token", "wrong"}, 1, "missing or wrong bearer token"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"admin", "--ops", cfg.Ops.Addr, "--operator", "tester"}, tc.args...)
		code := run(args, &out, &errOut)
		got := out.String() + errOut.String()
		if code != tc.code || !strings.Contains(got, tc.out) {
			t.Errorf("venue %s: exit %d, %q; want exit %d with %q", strings.Join(tc.args, " "), code, got, tc.code, tc.out)
		}
	}
}
