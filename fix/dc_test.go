package fix_test

import (
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/store/file"

	"venue/matching"
	"venue/server"
)

// dcClient is a back office's drop-copy session: a quickfixgo initiator
// with a file store, so its sequence numbers survive its own restarts and
// it recovers what it missed by ordinary resend (141=N).
func dcClient(t testing.TB, addr, comp, storeDir string) *client {
	t.Helper()
	c := &client{t: t, comp: comp, password: strings.ToLower(comp),
		id:     quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: comp, TargetCompID: "VENUE"},
		in:     make(chan fixMsg, 100_000),
		logons: make(chan struct{}, 1), logouts: make(chan string, 16)}
	c.init = newInitiator(t, c, addr, comp,
		map[string]string{"ResetOnLogon": "N", "FileStorePath": storeDir, "FileStoreSync": "N"},
		func(st *quickfix.Settings) quickfix.MessageStoreFactory { return file.NewStoreFactory(st) })
	return c
}

// reports collects n messages of type mt and fails on a duplicate ExecID.
func (c *client) reports(t testing.TB, n int, conds ...string) []fixMsg {
	t.Helper()
	var out []fixMsg
	seen := map[string]bool{}
	for len(out) < n {
		if testing.Verbose() && len(out)%5000 == 0 {
			t.Logf("%s: %d of %d reports", c.comp, len(out), n)
		}
		m := c.expect(conds...)
		id := m[17]
		if m[35] == "AE" {
			id = m[571]
		}
		if seen[id] {
			t.Fatalf("%s: report %s delivered twice (PossDup %s)", c.comp, id, m[43])
		}
		seen[id] = true
		out = append(out, m)
	}
	return out
}

func TestDropCopyMirrorsOrderEntry(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	dc := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", t.TempDir())
	dc.connect()
	t.Cleanup(dc.stop)
	tcr := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_B_DC", t.TempDir())
	tcr.connect()
	t.Cleanup(tcr.stop)
	a := newClient(t, cfg.FIX.OrderEntryAddr, "FIRM_A", "firm_a")
	a.connect()
	b := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_B")

	buy := a.order("1", "0.02", "59000")
	ack := a.expect("35=8", "11="+buy, "150=0")
	sell := b.order("2", "0.005", "59000")
	fill := a.expect("35=8", "11="+buy, "150=F")
	b.expect("35=8", "11="+sell, "150=F")

	// The drop copy has the same reports with the same ExecIDs.
	if m := dc.expect("35=8", "11="+buy, "150=0"); m[17] != ack[17] || m[37] != ack[37] {
		t.Fatalf("drop copy ack %v, order entry %v", m, ack)
	}
	if m := dc.expect("35=8", "11="+buy, "150=F"); m[17] != fill[17] || m[31] != fill[31] || m[880] != fill[880] {
		t.Fatalf("drop copy fill %v, order entry %v", m, fill)
	}
	// FIRM_B's drop copy takes trades as TradeCaptureReports with its side.
	ae := tcr.expect("35=AE")
	if ae[570] != "N" || ae[552] != "1" || ae[54] != "2" || ae[11] != sell || ae[880] != fill[880] || ae[851] != "2" {
		t.Fatalf("trade capture report: %v", ae)
	}
	if !ae.dec(t, 32).Equal(d("0.005")) || !ae.dec(t, 31).Equal(d("59000")) {
		t.Fatalf("trade capture report price/qty: %v", ae)
	}
	// What the venue does on its own: cancel on disconnect.
	a.stop()
	if m := dc.expect("35=8", "11="+buy, "150=4"); !strings.Contains(m[58], "disconnect") {
		t.Fatalf("drop copy of cancel on disconnect: %v", m)
	}
	// The drop copy accepts no orders.
	dc.send("D", "11=x", "55=BTC-USD", "54=1", now(), "38=0.01", "40=2", "44=59000")
	if m := dc.expect("35=j"); m[380] != "3" {
		t.Fatalf("order on drop copy: %v", m)
	}
	// Other firms' activity never reaches FIRM_A's drop copy.
	c := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_C")
	cl := c.order("1", "0.01", "58000")
	c.expect("35=8", "11="+cl)
	dc.quiet(300*time.Millisecond, "11="+cl)
}

// TestDropCopyCatchesUp: a back office away for 1,000 fills gets every one
// exactly once, in order, by resend after it logs on again; the same after a
// restart of the venue.
func TestDropCopyCatchesUp(t *testing.T) {
	const fills = 1000
	data := filepath.Join(t.TempDir(), "venue")
	srv, cfg := startVenue(t, venueOpts{dataDir: data})
	store := t.TempDir()
	dc := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", store)
	dc.connect()
	a := newClient(t, cfg.FIX.OrderEntryAddr, "FIRM_A", "firm_a")
	a.cod = "N"
	a.connect()
	buy := a.order("1", "100", "59000")
	a.expect("35=8", "11="+buy, "150=0")
	dc.expect("35=8", "11="+buy, "150=0")
	dc.stop()

	c := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_C")
	take := func(n int) {
		for i := 0; i < n; i++ {
			c.order("2", "0.01", "59000", "59=3")
		}
		for i := 0; i < n; i++ {
			if testing.Verbose() && i%100 == 0 {
				t.Logf("fill %d", i)
			}
			c.expect("35=8", "150=F")
		}
	}
	take(fills)

	check := func(dc *client, want int, firstCum string) {
		t.Helper()
		got := dc.reports(t, want, "35=8", "11="+buy, "150=F")
		prev := position(t, got[0][17])
		if !got[0].dec(t, 14).Equal(d(firstCum)) {
			t.Fatalf("first fill after the gap has CumQty %s, want %s", got[0][14], firstCum)
		}
		for i, m := range got[1:] {
			p := position(t, m[17])
			if p <= prev {
				t.Fatalf("fill %d out of order: %s after %s", i+1, m[17], got[i][17])
			}
			prev = p
		}
		dc.quiet(300*time.Millisecond, "35=8", "11="+buy, "150=F")
	}
	dc2 := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", store)
	dc2.connect()
	check(dc2, fills, "0.01")
	dc2.stop()

	// Restart the venue on the same data and ports; trade more while the
	// back office is away; it gets exactly the new fills.
	c.stop()
	a.stop()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := *cfg
	srv2, err := server.Start(&restarted, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv2.Close() })
	c = logon(t, restarted.FIX.OrderEntryAddr, "FIRM_C")
	c.n = 1_000_000 // ClOrdIDs are unique per day, across restarts
	take(200)
	dc3 := dcClient(t, restarted.FIX.DropCopyAddr, "FIRM_A_DC", store)
	dc3.connect()
	t.Cleanup(dc3.stop)
	check(dc3, 200, "10.01")
}

// position turns an ExecID "<seq>-<i>[MT]" into a number that orders them.
func position(t testing.TB, id string) int64 {
	t.Helper()
	seqStr, rest, ok := strings.Cut(id, "-")
	if !ok {
		t.Fatalf("ExecID %q", id)
	}
	side := int64(0)
	switch {
	case strings.HasSuffix(rest, "M"):
		side, rest = 1, strings.TrimSuffix(rest, "M")
	case strings.HasSuffix(rest, "T"):
		side, rest = 2, strings.TrimSuffix(rest, "T")
	}
	seq, err1 := strconv.ParseInt(seqStr, 10, 64)
	i, err2 := strconv.ParseInt(rest, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("ExecID %q", id)
	}
	return seq<<20 | i<<2 | side
}

// TestDropCopySlowReaderIsCut: a back office that stops reading never slows
// matching; the venue cuts it once its backlog passes the limit, and when it
// reads again it reconnects and gets every report exactly once.
func TestDropCopySlowReaderIsCut(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{dcBacklog: 500})
	dc := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", t.TempDir())
	dc.connect()
	t.Cleanup(dc.stop)
	dc.hold.Lock() // the back office stops taking messages

	const pairs = 15_000
	var cmds []matching.Command
	for i := 0; i < pairs; i++ {
		cmds = append(cmds, crossingPair(i)...)
	}
	start := time.Now()
	trades := 0
	for _, r := range submitAll(t, srv, cmds) {
		for _, ev := range r.Events {
			if ev.Kind == matching.EvTrade {
				trades++
			}
		}
	}
	t.Logf("%d commands, %d trades in %s with the drop copy not reading", 2*pairs, trades, time.Since(start))
	if trades != pairs {
		t.Fatalf("%d trades, want %d", trades, pairs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.DC.Cuts() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if srv.DC.Cuts() == 0 {
		t.Fatal("the drop copy that stopped reading was not cut")
	}
	dc.hold.Unlock()
	// It reconnects by itself (ReconnectInterval 1) and resends fill the gap.
	got := dc.reports(t, 2*pairs, "35=8")
	fills := 0
	for _, m := range got {
		if m[150] == "F" {
			fills++
		}
	}
	if fills != pairs {
		t.Fatalf("%d fills on the drop copy, want %d", fills, pairs)
	}
}

// crossingPair is FIRM_A (session 1, account 2) resting a sell, ClOrdID
// s<i>, that FIRM_C (session 3, account 4) takes at once, b<i>: an ack
// and a fill on FIRM_A's drop copy.
func crossingPair(i int) []matching.Command {
	return []matching.Command{{Kind: matching.CmdNewOrder, Session: 1, Firm: 1, Account: 2, Symbol: 1,
		Side: matching.Sell, Type: matching.Limit, TIF: matching.GTC, Px: 5_900_000, Qty: 10_000,
		ClOrdID: "s" + strconv.Itoa(i)},
		{Kind: matching.CmdNewOrder, Session: 3, Firm: 3, Account: 4, Symbol: 1,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.IOC, Px: 5_900_000, Qty: 10_000,
			ClOrdID: "b" + strconv.Itoa(i)}}
}

// TestDropCopyRefusesReset: a drop-copy Logon with 141=Y would delete what
// the back office has not read yet: refused with a Text.
func TestDropCopyRefusesReset(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	typ, text := rawLogon(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", "firm_a_dc") // rawLogon sends 141=Y
	if typ != "5" || !strings.Contains(text, "141") {
		t.Fatalf("drop-copy Logon with 141=Y: 35=%s 58=%q", typ, text)
	}
}

// TestDropCopyAddAfterStop: a static session cannot be added to an
// acceptor that is stopping (its session would never be stopped).
func TestDropCopyAddAfterStop(t *testing.T) {
	srv, _ := startVenue(t, venueOpts{})
	if err := srv.DCAcc.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.DCAcc.AddStaticSession("LATE_DC"); err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("added to a stopped acceptor: %v", err)
	}
}

// outageStores are drop-copy stores that refuse every save while down is
// set, as a full disk would.
type outageStores struct {
	inner   quickfix.MessageStoreFactory
	down    *atomic.Bool
	refused *atomic.Int64
}

func (f outageStores) Create(id quickfix.SessionID) (quickfix.MessageStore, error) {
	st, err := f.inner.Create(id)
	if err != nil {
		return nil, err
	}
	return &outageStore{MessageStore: st, f: f}, nil
}

type outageStore struct {
	quickfix.MessageStore
	f outageStores
}

var errDiskFull = errors.New("no space left on device")

func (s *outageStore) SaveMessageAndIncrNextSenderMsgSeqNum(seq int, msg []byte) error {
	if s.f.down.Load() {
		s.f.refused.Add(1)
		return errDiskFull
	}
	return s.MessageStore.SaveMessageAndIncrNextSenderMsgSeqNum(seq, msg)
}

func (s *outageStore) SaveMessagesAndIncrNextSenderMsgSeqNum(first int, msgs [][]byte) (int, error) {
	if s.f.down.Load() {
		s.f.refused.Add(1)
		return 0, errDiskFull
	}
	return quickfix.SaveBatch(s.MessageStore, first, msgs)
}

// TestDropCopyStoreOutage: the drop copy's store refuses every write (a
// full disk) while the firm trades. Matching goes on: the drop copy's
// queue fills, its router blocks and the sequencer drops it; when the
// store works again the router catches up from the journal, skipping what
// was stored, and the back office gets every report exactly once, in
// order. (With a backlog bound this small, the burst after the outage may
// cut it; it reconnects by itself and resends fill the rest.)
func TestDropCopyStoreOutage(t *testing.T) {
	var down atomic.Bool
	var refused atomic.Int64
	// Each burst is smaller than the router's buffer, so a router that
	// only lags cannot be dropped in one; the second burst overflows it
	// only if the router is not reading at all.
	const buffer = 8192
	srv, cfg := startVenue(t, venueOpts{dcBacklog: 200, routerBuffer: buffer,
		dcStores: func(f quickfix.MessageStoreFactory) quickfix.MessageStoreFactory {
			return outageStores{inner: f, down: &down, refused: &refused}
		}})
	dc := dcClient(t, cfg.FIX.DropCopyAddr, "FIRM_A_DC", t.TempDir())
	dc.connect()
	t.Cleanup(dc.stop)

	next := 0
	pairs := func(n int) []matching.Command {
		var cmds []matching.Command
		for range n {
			cmds = append(cmds, crossingPair(next)...)
			next++
		}
		return cmds
	}
	trade := func(cmds []matching.Command) {
		t.Helper()
		trades := 0
		for _, r := range submitAll(t, srv, cmds) {
			for _, ev := range r.Events {
				if ev.Kind == matching.EvTrade {
					trades++
				}
			}
		}
		if trades != len(cmds)/2 {
			t.Fatalf("%d trades, want %d", trades, len(cmds)/2)
		}
	}
	const before = 50
	trade(pairs(before))
	dc.reports(t, 2*before, "35=8")

	down.Store(true)
	first := 3 * buffer / 8 // pairs: two commands each, under the buffer
	trade(pairs(first))
	waitForLong(t, "the drop copy's store to refuse", func() bool {
		return refused.Load() > 0 && srv.DC.Metrics().StoreErrors > 0
	})
	// Operations see it: the counter is served (it only grows, so it is
	// at least what was counted a moment ago).
	counted := srv.DC.Metrics().StoreErrors
	resp, err := http.Get("http://" + cfg.Ops.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var served uint64
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, "venue_fix_drop_copy_store_errors_total "); ok {
			served, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	if served < counted || served == 0 {
		t.Fatalf("/metrics serves venue_fix_drop_copy_store_errors_total %d, the drop copy counted %d", served, counted)
	}
	// Its queue (2 x 200 reports) is full: the router cannot take more.
	drops := srv.Seq.Drops("fix-drop-copy")
	second := 3 * buffer / 8
	trade(pairs(second))
	waitForLong(t, "the sequencer to drop the blocked drop-copy router", func() bool {
		return srv.Seq.Drops("fix-drop-copy") > drops
	})
	down.Store(false)

	during := first + second
	got := dc.reports(t, 2*during, "35=8") // fails on a duplicate ExecID
	prev := int64(0)
	fills := 0
	for i, m := range got {
		p := position(t, m[17])
		if p <= prev {
			t.Fatalf("report %d out of order: %s after %s", i, m[17], got[max(i-1, 0)][17])
		}
		prev = p
		if m[150] == "F" {
			fills++
		}
		if want := "s" + strconv.Itoa(before+i/2); m[11] != want {
			t.Fatalf("report %d is for %s, want %s", i, m[11], want)
		}
	}
	if fills != during {
		t.Fatalf("%d fills after the outage, want %d", fills, during)
	}
	dc.quiet(300*time.Millisecond, "35=8")
}
