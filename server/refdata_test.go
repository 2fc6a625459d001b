package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/shopspring/decimal"
	"golang.org/x/crypto/bcrypt"

	"venue/backoffice"
	"venue/config"
	"venue/internal/pgtest"
	"venue/journal"
	"venue/matching"
	"venue/refdata"
	"venue/server"
)

// freshDB is an empty database of the test's own (internal/pgtest).
func freshDB(t *testing.T) string { return pgtest.FreshDB(t, "srv_test") }

// fixClient is a minimal FIX 4.4 initiator over a raw connection.
type fixClient struct {
	t    *testing.T
	comp string
	conn net.Conn
	r    *bufio.Reader
	seq  int
}

func dialFIX(t *testing.T, addr, comp string) *fixClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fixClient{t: t, comp: comp, conn: conn, r: bufio.NewReader(conn)}
}

func (c *fixClient) send(msgType, fields string) {
	c.t.Helper()
	c.seq++
	body := fmt.Sprintf("35=%s\x0149=%s\x0156=VENUE\x0134=%d\x0152=%s\x01%s", msgType, c.comp, c.seq,
		time.Now().UTC().Format("20060102-15:04:05.000"), fields)
	head := fmt.Sprintf("8=FIX.4.4\x019=%d\x01", len(body))
	sum := 0
	for _, b := range []byte(head + body) {
		sum += int(b)
	}
	if _, err := fmt.Fprintf(c.conn, "%s%s10=%03d\x01", head, body, sum%256); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message of one of the types, skipping others
// (heartbeats); nil if the connection ends first.
func (c *fixClient) read(types ...string) map[int]string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m := map[int]string{}
		for {
			field, err := c.r.ReadString('\x01')
			if err != nil {
				return nil
			}
			k, v, _ := strings.Cut(strings.TrimSuffix(field, "\x01"), "=")
			tag, _ := strconv.Atoi(k)
			m[tag] = v
			if tag == 10 {
				break
			}
		}
		for _, ty := range types {
			if m[35] == ty {
				return m
			}
		}
	}
}

// readEntries reads the next message of one of the types, skipping
// others, and returns its type and its repeating-group entries: each a map
// of its fields, a new entry at every first tag (279 for market data).
func (c *fixClient) readEntries(first int, types ...string) (string, []map[int]string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var typ string
		var entries []map[int]string
		for {
			field, err := c.r.ReadString('\x01')
			if err != nil {
				return "", nil
			}
			k, v, _ := strings.Cut(strings.TrimSuffix(field, "\x01"), "=")
			tag, _ := strconv.Atoi(k)
			switch {
			case tag == 35:
				typ = v
			case tag == first:
				entries = append(entries, map[int]string{tag: v})
			case len(entries) > 0:
				entries[len(entries)-1][tag] = v
			}
			if tag == 10 {
				break
			}
		}
		if slices.Contains(types, typ) {
			return typ, entries
		}
	}
}

func (c *fixClient) logon(password string) map[int]string {
	c.t.Helper()
	c.send("A", "98=0\x01108=30\x01141=Y\x01553="+c.comp+"\x01554="+password+"\x01")
	return c.read("A", "5")
}

func (c *fixClient) order(clOrdID, account string) map[int]string {
	c.t.Helper()
	return c.orderSide(clOrdID, account, "1")
}

func (c *fixClient) orderSide(clOrdID, account, side string) map[int]string {
	c.t.Helper()
	acct := ""
	if account != "" {
		acct = "1=" + account + "\x01"
	}
	c.send("D", acct+"11="+clOrdID+"\x0155=BTC-USD\x0154="+side+"\x0138=0.001\x0140=2\x0144=60000\x0159=1\x0160="+
		time.Now().UTC().Format("20060102-15:04:05.000")+"\x01")
	return c.read("8")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVenueFollowsRefdata: a running venue picks up, without a restart,
// a firm, account and order-entry session added in the back office (the
// session logs on over FIX, the account trades once funded) and a
// market-data session, charges the new account its fee tier's rates, refuses the
// new orders of a suspended account with the reason, lets it trade again
// when resumed, and refuses a suspended session at Logon.
func TestVenueFollowsRefdata(t *testing.T) {
	srv, cfg, st := startFollowing(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "tester", Source: "cli"}

	// 1. a new firm, account and order-entry session.
	if _, err := st.AddFirm(ctx, who, "FIRM_D"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetFeeTier(ctx, who, 1, "5", "10"); err != nil {
		t.Fatal(err)
	}
	acctID, err := st.AddAccount(ctx, who, backoffice.AccountInput{Firm: "FIRM_D", Name: "FIRM_D", FeeTier: 1, STP: "N", MaxOpenOrders: 100})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("firm-d-secret"), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSession(ctx, who, backoffice.SessionInput{CompID: "FIRM_D", Kind: "order-entry", Firm: "FIRM_D",
		Account: "FIRM_D", CancelOnDisconnect: true, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "session FIRM_D in the directory", func() bool { _, ok := srv.Directory.Session("FIRM_D"); return ok })
	if a, ok := srv.Directory.AccountByName("FIRM_D"); !ok || a.Spec.ID != matching.AccountID(acctID) || a.Spec.Firm != 4 {
		t.Fatalf("account FIRM_D in the directory: %+v %v", a, ok)
	}
	if f, ok := srv.Directory.Firm(4); !ok || f.Name != "FIRM_D" {
		t.Errorf("firm 4: %+v %v", f, ok)
	}
	if m := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_D").logon("wrong-password"); m == nil || m[35] != "5" {
		t.Errorf("wrong password: %v", m)
	}
	d := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_D")
	if m := d.logon("firm-d-secret"); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_D logon: %v", m)
	}
	// The engine knows the account: unfunded it is refused for funds
	// (103=3), funded it trades.
	if m := d.order("d-1", ""); m[150] != "8" || m[103] != "3" {
		t.Errorf("unfunded order: %v", m)
	}
	if _, err := srv.Seq.Submit(ctx, &matching.Command{Kind: matching.CmdDeposit, Account: matching.AccountID(acctID),
		Asset: 1, Amount: 1 << 40, Key: "test:FIRM_D:USD"}); err != nil {
		t.Fatal(err)
	}
	if m := d.order("d-2", "FIRM_D"); m[150] != "0" {
		t.Errorf("funded order: %v", m)
	}

	// A new market-data session logs on too.
	if _, err := st.AddSession(ctx, who, backoffice.SessionInput{CompID: "MD_D", Kind: "market-data", Firm: "FIRM_D",
		PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "session MD_D in the directory", func() bool { _, ok := srv.Directory.Session("MD_D"); return ok })
	if m := dialFIX(t, cfg.FIX.MarketDataAddr, "MD_D").logon("firm-d-secret"); m == nil || m[35] != "A" {
		t.Errorf("MD_D logon: %v", m)
	}

	// 2. a suspended account: new orders refused with the reason.
	a := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon: %v", m)
	}
	if _, err := st.SetAccountStatus(ctx, who, "FIRM_A", backoffice.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FIRM_A suspended", func() bool { x, _ := srv.Directory.AccountByName("FIRM_A"); return x.Suspended })
	for _, acct := range []string{"", "FIRM_A"} { // the session's default account, then named
		m := a.order("a-susp-"+acct, acct)
		if m[150] != "8" || m[39] != "8" || m[103] != "99" || m[58] != "account FIRM_A is suspended" {
			t.Errorf("order of a suspended account (Account %q): %v", acct, m)
		}
	}
	if _, err := st.SetAccountStatus(ctx, who, "FIRM_A", backoffice.StatusActive); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FIRM_A resumed", func() bool { x, _ := srv.Directory.AccountByName("FIRM_A"); return !x.Suspended })
	// FIRM_A sells into FIRM_D's resting buy: FIRM_D pays tier 1's maker
	// fee (5 bp of 60 USD), FIRM_A tier 0's taker fee (2 bp).
	if m := a.orderSide("a-resumed", "", "2"); m[150] != "0" {
		t.Errorf("order after resume: %v", m)
	}
	if m := a.read("8"); m[150] != "F" || m[12] != "0.012" {
		t.Errorf("FIRM_A's fill: %v", m)
	}
	if m := d.read("8"); m[150] != "F" || m[11] != "d-2" || m[12] != "0.03" {
		t.Errorf("FIRM_D's fill: %v", m)
	}

	// 3. a suspended session: disconnected, then refused at Logon.
	if _, err := st.SetSessionStatus(ctx, who, "FIRM_D", backoffice.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FIRM_D suspended", func() bool { s, _ := srv.Directory.Session("FIRM_D"); return s.Suspended })
	if m := d.read("A", "8"); m != nil {
		t.Errorf("suspended session still connected: %v", m)
	}
	if m := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_D").logon("firm-d-secret"); m == nil || m[35] != "5" || m[58] != "session FIRM_D is suspended" {
		t.Errorf("suspended session logon: %v", m)
	}
	// 4. a new password, at once.
	newHash, _ := bcrypt.GenerateFromPassword([]byte("firm-b-new-secret"), 4)
	if _, err := st.SetSessionPassword(ctx, who, "FIRM_B", newHash); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FIRM_B's password", func() bool { s, _ := srv.Directory.Session("FIRM_B"); return s.CheckPassword("firm-b-new-secret") })
	if m := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B").logon("firm_b"); m == nil || m[35] != "5" {
		t.Errorf("old password: %v", m)
	}
	if m := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B").logon("firm-b-new-secret"); m == nil || m[35] != "A" {
		t.Errorf("new password: %v", m)
	}
}

// startFollowing starts a dev venue on a fresh back-office database with
// every listener on a free port, and opens the back office for the test.
func startFollowing(t *testing.T) (*server.Server, *config.Config, *backoffice.Store) {
	t.Helper()
	dbURL := freshDB(t)
	srv, cfg := startVenue(t, dbURL, t.TempDir())
	return srv, cfg, openStore(t, dbURL)
}

// openStore opens the back office for the test, closed at its end.
func openStore(t *testing.T, dbURL string) *backoffice.Store {
	t.Helper()
	st, err := backoffice.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// startVenue starts a dev venue on a database and data directory, every
// listener on a free port; cfg has the addresses it took.
func startVenue(t *testing.T, dbURL, dataDir string) (*server.Server, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Database.URL, cfg.Database.Required = dbURL, true
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Log.Level = "warn"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg.FIX.OrderEntryAddr = srv.OEAcc.Addr().String()
	cfg.FIX.DropCopyAddr = srv.DCAcc.Addr().String()
	cfg.FIX.MarketDataAddr = srv.MD.Addr().String()
	cfg.Ops.Addr = srv.Ops.Addr().String()
	return srv, &cfg
}

// TestVenueFollowsGrantsAndFirmStatus: an order-entry session acts only
// for its default account and the accounts granted to it, even within its
// firm; a grant and a revoke reach the running venue; a suspended firm's
// sessions are disconnected and refused at Logon until it is resumed.
func TestVenueFollowsGrantsAndFirmStatus(t *testing.T) {
	srv, cfg, st := startFollowing(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "tester", Source: "cli"}

	id, err := st.AddAccount(ctx, who, backoffice.AccountInput{Firm: "FIRM_A", Name: "FIRM_A_2", STP: "N", MaxOpenOrders: 100})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "account FIRM_A_2", func() bool { _, ok := srv.Directory.AccountByName("FIRM_A_2"); return ok })
	if _, err := srv.Seq.Submit(ctx, &matching.Command{Kind: matching.CmdDeposit, Account: matching.AccountID(id),
		Asset: 1, Amount: 1 << 40, Key: "test:FIRM_A_2:USD"}); err != nil {
		t.Fatal(err)
	}
	a := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon: %v", m)
	}
	const notGranted = "account FIRM_A_2 is not granted to session FIRM_A (venue admin session grant)"
	if m := a.order("g-1", "FIRM_A_2"); m[150] != "8" || m[103] != "15" || m[58] != notGranted {
		t.Errorf("order for an account of the firm not granted: %v", m)
	}
	granted := func(want bool) func() bool {
		return func() bool {
			s, _ := srv.Directory.Session("FIRM_A")
			return s.MayActFor(matching.AccountID(id)) == want
		}
	}
	if out, err := st.SetSessionAccount(ctx, who, "FIRM_A", "FIRM_A_2", true); err != nil || out != "ok" {
		t.Fatalf("grant: %q %v", out, err)
	}
	waitFor(t, "FIRM_A_2 granted", granted(true))
	if m := a.order("g-2", "FIRM_A_2"); m[150] != "0" || m[1] != "FIRM_A_2" {
		t.Errorf("order for a granted account: %v", m)
	}
	if out, err := st.SetSessionAccount(ctx, who, "FIRM_A", "FIRM_A_2", false); err != nil || out != "ok" {
		t.Fatalf("revoke: %q %v", out, err)
	}
	waitFor(t, "FIRM_A_2 revoked", granted(false))
	if m := a.order("g-3", "FIRM_A_2"); m[150] != "8" || m[103] != "15" || m[58] != notGranted {
		t.Errorf("order after the revoke: %v", m)
	}
	if m := a.order("g-4", ""); m[150] != "0" { // the default account is still the session's
		t.Errorf("order for the default account: %v", m)
	}
	if _, err := st.SetSessionAccount(ctx, who, "FIRM_A", "FIRM_A", false); err == nil ||
		err.Error() != "--account FIRM_A: is the session's default account, always granted" {
		t.Errorf("revoke of the default account: %v", err)
	}

	// A suspended firm: its session is cut and refused, another firm's is not.
	b := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	if m := b.logon(refdata.DevPassword("FIRM_B")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_B logon: %v", m)
	}
	if out, err := st.SetFirmStatus(ctx, who, "FIRM_A", backoffice.StatusSuspended); err != nil || out != "ok" {
		t.Fatalf("firm suspend: %q %v", out, err)
	}
	waitFor(t, "FIRM_A's account suspended", func() bool { x, _ := srv.Directory.AccountByName("FIRM_A"); return x.Suspended })
	if m := a.read("A", "8"); m != nil {
		t.Errorf("a suspended firm's session still connected: %v", m)
	}
	if m := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A").logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "5" {
		t.Errorf("a suspended firm's logon: %v", m)
	}
	if m := b.order("b-1", ""); m[150] != "0" {
		t.Errorf("another firm's order: %v", m)
	}
	if out, err := st.SetFirmStatus(ctx, who, "FIRM_A", backoffice.StatusActive); err != nil || out != "ok" {
		t.Fatalf("firm resume: %q %v", out, err)
	}
	waitFor(t, "FIRM_A's session resumed", func() bool { s, _ := srv.Directory.Session("FIRM_A"); return !s.Suspended })
	a = dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon after resume: %v", m)
	}
	// The cancels of its orders by cancel-on-disconnect come first.
	m := a.order("g-5", "")
	for canceled := map[string]bool{}; m != nil && m[11] != "g-5"; m = a.read("8") {
		if m[150] != "4" || m[58] != "cancel on disconnect" || canceled[m[11]] {
			t.Errorf("before the new order's report: %v", m)
		}
		canceled[m[11]] = true
	}
	if m == nil || m[150] != "0" {
		t.Errorf("order after the firm's resume: %v", m)
	}
	if _, err := st.SetFirmStatus(ctx, who, "FIRM_X", backoffice.StatusSuspended); err == nil || err.Error() != "FIRM FIRM_X: unknown firm" {
		t.Errorf("unknown firm: %v", err)
	}
}

// ethOrder sends a limit order on ETH-USD and returns its first report.
func (c *fixClient) ethOrder(clOrdID, side, qty, px string) map[int]string {
	c.t.Helper()
	c.send("D", "11="+clOrdID+"\x0155=ETH-USD\x0154="+side+"\x0138="+qty+"\x0140=2\x0144="+px+"\x0159=1\x0160="+
		time.Now().UTC().Format("20060102-15:04:05.000")+"\x01")
	return c.read("8")
}

// TestVenueListsSymbol: `symbol add` lists ETH-USD, with ETH a new asset,
// while the venue runs: it appears in SecurityList, is refused while
// listed halted, trades once resumed (fills in its units, market data on
// it, the trade projected into PostgreSQL in its units), and is still
// there, without being listed twice, after a restart. Bad definitions are
// refused with the field and change nothing.
func TestVenueListsSymbol(t *testing.T) {
	dbURL := freshDB(t)
	dataDir := t.TempDir()
	srv, cfg := startVenue(t, dbURL, dataDir)
	ctx := context.Background()
	st := openStore(t, dbURL)
	who := backoffice.Actor{Name: "tester", Source: "cli"}
	eth := backoffice.SymbolInput{Name: "ETH-USD", Tick: "0.01", QtyStep: "0.00000001", MinQty: "0.001", MaxQty: "10000",
		MaxNotional: "10000000", RefPx: "3000", BandBps: 2000, Halted: true}

	for _, tc := range []struct {
		name string
		edit func(*backoffice.SymbolInput)
		want string
	}{
		{"zero tick", func(in *backoffice.SymbolInput) { in.Tick = "0" }, "--tick 0: must be positive"},
		{"malformed tick", func(in *backoffice.SymbolInput) { in.Tick = "1,5" }, `--tick "1,5": not a decimal number`},
		{"bad name", func(in *backoffice.SymbolInput) { in.Name = "ETHUSD" }, `--name "ETHUSD": must be BASE-QUOTE`},
		{"min off the step", func(in *backoffice.SymbolInput) { in.MinQty = "0.000000001" }, "--min-qty 0.000000001: not a whole multiple of --qty-step"},
		{"ref off the tick", func(in *backoffice.SymbolInput) { in.RefPx = "3000.001" }, "--ref-px 3000.001: not a whole multiple of --tick"},
		{"band", func(in *backoffice.SymbolInput) { in.BandBps = 10000 }, "--band-bps 10000: must be 1..9999"},
		{"max below min", func(in *backoffice.SymbolInput) { in.MaxQty = "0.0001" }, "--max-qty 0.0001: below min_qty"},
		{"quote unit", func(in *backoffice.SymbolInput) { in.Tick = "0.1" },
			"--tick 0.1: tick × qty step is 0.000000001, but USD is counted in units of 0.0000000001"},
		{"base unit", func(in *backoffice.SymbolInput) { in.Name, in.QtyStep, in.Tick = "BTC-GBP", "0.0001", "0.01" },
			"--qty-step 0.0001: BTC is counted in units of 0.00000001"},
		{"existing", func(in *backoffice.SymbolInput) { in.Name, in.QtyStep = "BTC-USD", "0.00000001" }, "--name BTC-USD: a symbol of that name exists"},
	} {
		in := eth
		tc.edit(&in)
		if _, err := st.AddSymbol(ctx, who, in); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	var n int
	if err := st.DB().QueryRow(`SELECT (SELECT count(*) FROM symbols) + (SELECT count(*) FROM assets)`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("refused symbols changed the tables: %d symbols and assets (%v)", n, err)
	}

	id, err := st.AddSymbol(ctx, who, eth)
	if err != nil || id != 2 {
		t.Fatalf("symbol add: %d %v", id, err)
	}
	waitFor(t, "ETH-USD in the universe", func() bool { _, ok := srv.Universe.SymbolByName("ETH-USD"); return ok })
	ethAsset, ok := srv.Universe.AssetByName("ETH")
	if !ok || ethAsset.ID != 2 || !ethAsset.Unit.Equal(decimal.RequireFromString("0.00000001")) {
		t.Fatalf("asset ETH: %+v %v", ethAsset, ok)
	}

	a := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon: %v", m)
	}
	a.send("x", "320=sl-1\x01559=4\x01")
	if m := a.read("y"); m[146] != "2" || m[55] != "ETH-USD" || m[969] != "0.01" {
		t.Errorf("SecurityList: %v", m)
	}
	// Listed halted: the engine has it (the reject is the halt's, not an
	// unknown symbol's) and refuses orders until it is resumed.
	var m map[int]string
	for deadline := time.Now().Add(10 * time.Second); ; {
		m = a.ethOrder("e-halted", "1", "1", "3000")
		if m[103] != "1" || time.Now().After(deadline) { // 1: the engine has not listed it yet
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m[150] != "8" || m[103] != "2" || m[58] != "symbol is not open for trading" {
		t.Errorf("order on a symbol listed halted: %v", m)
	}
	if code, body := opsCall(t, "POST", "http://"+cfg.Ops.Addr+"/admin/symbols/ETH-USD/resume", srv.OpsToken, "tester"); code != 200 {
		t.Fatalf("resume ETH-USD: %d %s", code, body)
	}

	md := dialFIX(t, cfg.FIX.MarketDataAddr, "MD_1")
	if m := md.logon(refdata.DevPassword("MD_1")); m == nil || m[35] != "A" {
		t.Fatalf("MD_1 logon: %v", m)
	}
	md.send("V", "262=md-eth\x01263=1\x01264=0\x01265=1\x01267=3\x01269=0\x01269=1\x01269=2\x01146=1\x0155=ETH-USD\x01")
	if w := md.read("W", "Y"); w[35] != "W" || w[55] != "ETH-USD" {
		t.Fatalf("ETH-USD snapshot: %v", w)
	}

	// FIRM_B sells ETH it was credited with; FIRM_A buys with its USD.
	if _, err := srv.Seq.Submit(ctx, &matching.Command{Kind: matching.CmdDeposit, Account: 3, Asset: ethAsset.ID,
		Amount: 10 * 100_000_000, Key: "test:FIRM_B:ETH"}); err != nil {
		t.Fatal(err)
	}
	b := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	if m := b.logon(refdata.DevPassword("FIRM_B")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_B logon: %v", m)
	}
	if m := b.ethOrder("e-sell", "2", "1.5", "3000.25"); m[150] != "0" {
		t.Fatalf("ETH-USD sell: %v", m)
	}
	if m := a.ethOrder("e-buy", "1", "1.5", "3000.25"); m[150] != "0" {
		t.Fatalf("ETH-USD buy: %v", m)
	}
	// 1.5 × 3000.25 = 4500.375 USD; the taker pays 2 bp (0.900075).
	if m := a.read("8"); m[150] != "F" || m[31] != "3000.25" || m[32] != "1.5" || m[12] != "0.900075" || m[13] != "3" {
		t.Errorf("ETH-USD fill: %v", m)
	}
	for traded := false; !traded; {
		typ, entries := md.readEntries(279, "X")
		if typ == "" {
			t.Fatal("no ETH-USD trade in market data")
		}
		for _, e := range entries {
			if e[269] == "2" {
				if e[55] != "ETH-USD" || e[270] != "3000.25" || e[271] != "1.5" {
					t.Errorf("ETH-USD trade entry: %v", e)
				}
				traded = true
			}
		}
	}
	var price, qty, fee string
	waitFor(t, "the ETH-USD trade in PostgreSQL", func() bool {
		err := st.DB().QueryRow(`SELECT price::text, qty::text, taker_fee::text FROM trades WHERE symbol_id = 2`).Scan(&price, &qty, &fee)
		return err == nil
	})
	if price != "3000.25" || qty != "1.50000000" && qty != "1.5" || fee != "0.900075" && fee != "0.9000750000" {
		t.Errorf("projected trade: price %s qty %s fee %s", price, qty, fee)
	}

	// A restart: ETH-USD comes back from the back office and the journal,
	// listed once.
	srv.Close()
	srv, cfg = startVenue(t, dbURL, dataDir)
	if _, ok := srv.Universe.SymbolByName("ETH-USD"); !ok {
		t.Fatal("ETH-USD unknown after a restart")
	}
	a = dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon after restart: %v", m)
	}
	if m := a.ethOrder("e-after", "1", "0.5", "2999"); m[150] != "0" || m[55] != "ETH-USD" {
		t.Errorf("ETH-USD order after a restart: %v", m)
	}
	time.Sleep(1500 * time.Millisecond) // a follower poll or more
	var adds int
	if err := journalAddSymbols(dataDir, &adds); err != nil {
		t.Fatal(err)
	}
	if adds != 2 { // BTC-USD at the first start, ETH-USD once
		t.Errorf("%d CmdAddSymbol in the journal, want 2", adds)
	}
}

// journalAddSymbols counts the CmdAddSymbol commands in a data
// directory's journal.
func journalAddSymbols(dataDir string, n *int) error {
	_, err := journal.Replay(journal.OSFS{}, server.JournalDir(dataDir), 1, func(_ uint64, payload []byte) error {
		var c matching.Command
		if err := journal.DecodeCommand(payload, &c); err != nil {
			return err
		}
		if c.Kind == matching.CmdAddSymbol {
			*n++
		}
		return nil
	})
	return err
}

// opsCall sends an admin request to the ops endpoint.
func opsCall(t *testing.T, method, url, token, operator string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Operator", operator)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestVenueAddsDropCopySession: a drop-copy session added in the back
// office while the venue runs logs on without a restart and receives its
// firm's history from the journal, in order, then what happens next, each
// report once.
func TestVenueAddsDropCopySession(t *testing.T) {
	srv, cfg, st := startFollowing(t)
	ctx := context.Background()
	who := backoffice.Actor{Name: "tester", Source: "cli"}

	a := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	if m := a.logon(refdata.DevPassword("FIRM_A")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A logon: %v", m)
	}
	b := dialFIX(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	if m := b.logon(refdata.DevPassword("FIRM_B")); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_B logon: %v", m)
	}
	if m := a.order("a-1", ""); m[150] != "0" {
		t.Fatalf("a-1: %v", m)
	}
	if m := b.orderSide("b-1", "", "2"); m[150] != "0" {
		t.Fatalf("b-1: %v", m)
	}
	if m := a.read("8"); m[150] != "F" || m[11] != "a-1" {
		t.Fatalf("a-1's fill: %v", m)
	}

	hash, err := bcrypt.GenerateFromPassword([]byte("firm-a-dc2-secret"), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSession(ctx, who, backoffice.SessionInput{CompID: "FIRM_A_DC2", Kind: "drop-copy", Firm: "FIRM_A",
		PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the drop copy's third session", func() bool { return srv.DC.Metrics().Sessions == 3 })

	dc := dialFIX(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC2")
	dc.send("A", "98=0\x01108=30\x01553=FIRM_A_DC2\x01554=firm-a-dc2-secret\x01")
	if m := dc.read("A", "5"); m == nil || m[35] != "A" {
		t.Fatalf("FIRM_A_DC2 logon: %v", m)
	}
	// What the store holds from before the Logon comes by ordinary resend,
	// as a back office's FIX engine asks for it on the sequence gap.
	dc.send("2", "7=1\x0116=0\x01")
	if m := a.order("a-2", ""); m[150] != "0" { // live, after the session joined
		t.Fatalf("a-2: %v", m)
	}
	bySeq := map[int]string{}
	for len(bySeq) < 3 {
		m := dc.read("8")
		if m == nil {
			t.Fatalf("drop copy got %v, then nothing", bySeq)
		}
		n, _ := strconv.Atoi(m[34])
		if _, dup := bySeq[n]; dup {
			t.Fatalf("MsgSeqNum %d twice", n)
		}
		bySeq[n] = m[11] + " " + m[150]
	}
	var got []string
	for _, n := range slices.Sorted(maps.Keys(bySeq)) {
		got = append(got, bySeq[n])
	}
	if want := []string{"a-1 0", "a-1 F", "a-2 0"}; !slices.Equal(got, want) {
		t.Errorf("FIRM_A_DC2's reports in MsgSeqNum order: %v, want %v", got, want)
	}
}
