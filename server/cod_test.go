package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"venue/config"
	"venue/fix"
	"venue/matching"
	"venue/refdata"
	"venue/server"
)

// startBare starts a dev venue on dataDir with every listener on a free
// port and no back office (its database does not answer).
func startBare(t *testing.T, dataDir string) (*server.Server, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	cfg.Log.Level = "error"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg.FIX.OrderEntryAddr = srv.OEAcc.Addr().String()
	return srv, &cfg
}

// TestCancelOnDisconnectAfterCrash: a venue that goes down without
// logging its sessions out (a crash: here, its data directory copied
// while it runs, as the disk would hold it) cancels, at the next start,
// the resting orders of the sessions that were logged on with
// cancel-on-disconnect, and only theirs: a session that logged on with
// 8013=N keeps its order. The cancel reaches the session at its Logon.
func TestCancelOnDisconnectAfterCrash(t *testing.T) {
	live := t.TempDir()
	srv, cfg := startBare(t, live)
	a := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon: %v", m)
	}
	b := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	b.send("A", "98=0\x01108=30\x01141=Y\x01553=FIRM_B\x01554="+refdata.DevPassword("FIRM_B")+"\x018013=N\x01")
	if m := b.read("A", "5"); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_B logon: %v", m)
	}
	if m := a.order("a-1", ""); m[150] != "0" {
		t.Fatalf("FIRM_A order: %v", m)
	}
	if m := b.order("b-1", ""); m[150] != "0" {
		t.Fatalf("FIRM_B order: %v", m)
	}
	ledgerPath := filepath.Join("fix", "cancel-on-disconnect")
	l, err := fix.OpenCODLedger(filepath.Join(live, ledgerPath))
	if err != nil {
		t.Fatal(err)
	}
	if p := l.Pending(); len(p) != 1 || p[0] != 1 {
		t.Fatalf("ledger of the running venue: %v, want FIRM_A's session 1 only", p)
	}

	// The crash: the disk as it is now, the venue never told.
	crashed := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("cp", "-a", live, crashed).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	// A clean Logout runs the cancel, and the ledger forgets the session
	// once that is journaled.
	a.send("5", "")
	if m := a.read("5"); m == nil {
		t.Fatal("no Logout answer")
	}
	waitFor(t, "the ledger empty after FIRM_A's Logout", func() bool {
		l, err := fix.OpenCODLedger(filepath.Join(live, ledgerPath))
		return err == nil && len(l.Pending()) == 0
	})
	_ = srv.Close()

	_, cfg2 := startBare(t, crashed)
	if l, err := fix.OpenCODLedger(filepath.Join(crashed, ledgerPath)); err != nil || len(l.Pending()) != 0 {
		t.Fatalf("ledger after the start: %v %v, want empty", l.Pending(), err)
	}
	a2 := dialFIX(t, cfg2.FIX.OrderEntryAddr, "FIRM_A")
	if m := a2.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon after the crash: %v", m)
	}
	if m := a2.read("8"); m[11] != "a-1" || m[150] != "4" || m[39] != "4" || m[58] != "cancel on disconnect" {
		t.Errorf("FIRM_A's order after the crash: %v", m)
	}
	b2 := dialFIX(t, cfg2.FIX.OrderEntryAddr, "FIRM_B")
	if m := b2.logon(refdata.DevPassword("FIRM_B")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_B logon after the crash: %v", m)
	}
	b2.send("H", "11=b-1\x0154=1\x0155=BTC-USD\x01")
	if m := b2.read("8"); m[11] != "b-1" || m[150] != "I" || m[39] != "0" {
		t.Errorf("FIRM_B's order (8013=N) after the crash: %v", m)
	}
}

// TestCODLedgerFile: the ledger survives a reopen, and a damaged file is
// refused with the line that is wrong instead of being read as empty.
func TestCODLedgerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cod")
	l, err := fix.OpenCODLedger(path)
	if err != nil || len(l.Pending()) != 0 {
		t.Fatalf("new ledger: %v %v", l.Pending(), err)
	}
	for _, id := range []uint32{7, 3, 101} {
		if err := l.Add(matching.SessionID(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Remove(3); err != nil {
		t.Fatal(err)
	}
	if l, err = fix.OpenCODLedger(path); err != nil || !slices.Equal(l.Pending(), []matching.SessionID{7, 101}) {
		t.Fatalf("reopened: %v %v", l.Pending(), err)
	}
	if err := os.WriteFile(path, []byte("7\nseven\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fix.OpenCODLedger(path); err == nil || !strings.Contains(err.Error(), `line 2: "seven" is not a session id`) {
		t.Errorf("damaged ledger: %v", err)
	}
}

// TestCODLedgerWriteFailure: a write that fails leaves the ledger as it
// was on disk, so the next Add writes instead of taking it for done.
func TestCODLedgerWriteFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fix")
	l, err := fix.OpenCODLedger(filepath.Join(dir, "cod")) // the directory is not there yet
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(5); err == nil {
		t.Fatal("Add into a missing directory succeeded")
	}
	if p := l.Pending(); len(p) != 0 {
		t.Fatalf("a failed Add is in memory: %v", p)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(5); err != nil {
		t.Fatal(err)
	}
	if l2, err := fix.OpenCODLedger(filepath.Join(dir, "cod")); err != nil || !slices.Equal(l2.Pending(), []matching.SessionID{5}) {
		t.Fatalf("on disk after the retry: %v %v", l2.Pending(), err)
	}
}
