package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"venue/config"
	"venue/internal/pgtest"
	"venue/server"
)

// TestMigrateAndRebuild: `venue migrate` creates and migrates a database;
// a venue projects into it; `venue backoffice rebuild` rebuilds the same
// projection from the journal and `status` says nothing is behind.
func TestMigrateAndRebuild(t *testing.T) {
	dbURL := pgtest.URL(t, "bo_cmd_test") // made by venue migrate below; dropped at the end
	cleanEnv(t)
	t.Setenv("VENUE_DATABASE_URL", dbURL)

	venue := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("venue %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	if out := venue("migrate"); !strings.Contains(out, "created database") || !strings.Contains(out, "00002") {
		t.Errorf("migrate printed:\n%s", out)
	}
	if out := venue("migrate"); strings.Contains(out, "created database") || !strings.Contains(out, "0 migration(s) applied") {
		t.Errorf("second migrate printed:\n%s", out)
	}

	dataDir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir, cfg.Database.URL, cfg.Database.Required = dataDir, dbURL, true
	cfg.Log.Level = "warn"
	// Port 0: each listener its own free port (no race with other tests).
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	last := srv.Seq.Stats().LastSeq
	for deadline := time.Now().Add(20 * time.Second); srv.BackOffice.LastSeq() < last; {
		if time.Now().After(deadline) {
			t.Fatalf("not projected: %+v", srv.BackOffice.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	balances := func() string {
		rows, err := db.Query(`SELECT b::text FROM balances b ORDER BY account_id, asset_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var all []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			all = append(all, s)
		}
		return strings.Join(all, "\n")
	}
	before := balances()
	if before == "" {
		t.Fatal("no balances projected")
	}
	out := venue("backoffice", "rebuild", "--data", dataDir)
	if !strings.Contains(out, fmt.Sprintf("last seq %d", last)) {
		t.Errorf("rebuild printed %q, want last seq %d", out, last)
	}
	if after := balances(); after != before {
		t.Errorf("balances after rebuild:\n%s\nbefore:\n%s", after, before)
	}
	if out := venue("backoffice", "status", "--data", dataDir); !strings.Contains(out, "behind by 0 commands") {
		t.Errorf("status printed:\n%s", out)
	}
}
