package fix_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"venue/fix"
	"venue/fix/guard"

	"venue/matching"
	"venue/refdata"
	"venue/server"
)

// The market-data tests drive server.Start's market-data acceptor with
// quickfixgo initiators over loopback, orders coming in through order
// entry or straight through the sequencer.

var allTypes = []string{"0", "1", "2"}

func entry(t *testing.T, m *mdMsg, i int, want map[int]string) {
	t.Helper()
	if i >= len(m.entries) {
		t.Fatalf("%s has %d entries, want entry %d %v: %v", m.typ, len(m.entries), i, want, m.entries)
	}
	for tag, v := range want {
		if m.entries[i][tag] != v {
			t.Fatalf("%s entry %d: tag %d = %q, want %q: %v", m.typ, i, tag, m.entries[i][tag], v, m.entries)
		}
	}
}

func TestMDSnapshotThenUpdates(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	b := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	bid := a.order("1", "0.0100", "59000.00")
	a.expect("35=8", "11="+bid, "150=0")
	ask := b.order("2", "0.0200", "61000.00")
	b.expect("35=8", "11="+ask, "150=0")
	waitMDFolded(t, srv)

	md := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md.subscribe("s1", "1", 0, allTypes, "BTC-USD")
	w := md.expect("35=W", "262=s1")
	if w.body[55] != "BTC-USD" || w.body[83] != "0" || len(w.entries) != 2 {
		t.Fatalf("snapshot: %v %v", w.body, w.entries)
	}
	entry(t, w, 0, map[int]string{269: "0", 270: "59000", 271: "0.01"})
	entry(t, w, 1, map[int]string{269: "1", 270: "61000", 271: "0.02"})

	// A new level, then more at the same price, then a cancel.
	bid2 := a.order("1", "0.0300", "59500.00")
	x := md.expect("35=X", "262=s1")
	entry(t, x, 0, map[int]string{279: "0", 269: "0", 55: "BTC-USD", 270: "59500", 271: "0.03", 83: "1"})
	bid3 := a.order("1", "0.0100", "59500.00")
	x = md.expect("35=X", "262=s1")
	entry(t, x, 0, map[int]string{279: "1", 269: "0", 270: "59500", 271: "0.04", 83: "2"})
	a.send("F", "11=c1", "41="+bid3, "55=BTC-USD", "54=1", now())
	x = md.expect("35=X", "262=s1")
	entry(t, x, 0, map[int]string{279: "1", 269: "0", 270: "59500", 271: "0.03", 83: "3"})
	a.send("F", "11=c2", "41="+bid2, "55=BTC-USD", "54=1", now())
	x = md.expect("35=X", "262=s1")
	entry(t, x, 0, map[int]string{279: "2", 269: "0", 270: "59500", 83: "4"})
	if _, has := x.entries[0][271]; has {
		t.Errorf("delete with a size: %v", x.entries[0])
	}

	// A trade: a sell taking part of the bid. The trade (aggressor sell),
	// then the level's new size, each with the next RptSeq.
	sell := b.order("2", "0.0040", "59000.00")
	b.expect("35=8", "11="+sell, "150=F")
	x = md.expect("35=X", "262=s1")
	entry(t, x, 0, map[int]string{279: "0", 269: "2", 270: "59000", 271: "0.004", 54: "2", 83: "5"})
	entry(t, x, 1, map[int]string{279: "1", 269: "0", 270: "59000", 271: "0.006", 83: "6"})
	if e := x.entries[0]; len(e[272]) != 8 || len(e[273]) != 12 {
		t.Errorf("trade time 272/273: %v", e)
	}

	// A second subscription of another kind has its own feed and RptSeq;
	// a snapshot-only request gets a W and nothing more.
	md.subscribe("s2", "1", 1, []string{"1"}, "BTC-USD")
	w = md.expect("35=W", "262=s2")
	if len(w.entries) != 1 || w.body[83] != "0" {
		t.Fatalf("top-1 offers snapshot: %v %v", w.body, w.entries)
	}
	entry(t, w, 0, map[int]string{269: "1", 270: "61000", 271: "0.02"})
	md.subscribe("snap", "0", 0, allTypes, "BTC-USD")
	w = md.expect("35=W", "262=snap")
	if len(w.entries) != 2 || w.body[83] != "6" {
		t.Fatalf("snapshot of the existing feed: %v %v", w.body, w.entries)
	}

	// Unsubscribe s1: a new bid reaches nobody (s2 wants offers only);
	// a new best offer reaches s2 only.
	md.send("V", "262=s1", "263=2", "264=0", "267=1", "269=0", "146=1", "55=BTC-USD")
	time.Sleep(100 * time.Millisecond)
	a.expect("35=8", "11="+a.order("1", "0.01", "58000.00"), "150=0")
	md.quiet(300*time.Millisecond, "35=X")
	b.expect("35=8", "11="+b.order("2", "0.01", "60500.00"), "150=0")
	x = md.expect("35=X")
	if x.body[262] != "s2" || len(x.entries) != 2 {
		t.Fatalf("after unsubscribe: %v %v", x.body, x.entries)
	}
	entry(t, x, 0, map[int]string{279: "2", 269: "1", 270: "61000", 83: "1"})
	entry(t, x, 1, map[int]string{279: "0", 269: "1", 270: "60500", 271: "0.01", 83: "2"})
	md.quiet(300*time.Millisecond, "35=X")
}

// TestMDTopN: when a level of the top N goes, the next one moves in as
// new (279=0); changes below the top N are not sent.
func TestMDTopN(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	var ids []string
	for _, px := range []string{"59000", "59100", "59200"} {
		cl := a.order("1", "0.01", px)
		a.expect("35=8", "11="+cl, "150=0")
		ids = append(ids, cl)
	}
	waitMDFolded(t, srv)
	md := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md.subscribe("top2", "1", 2, []string{"0", "1"}, "BTC-USD")
	w := md.expect("35=W", "262=top2")
	if len(w.entries) != 2 {
		t.Fatalf("top-2 snapshot: %v", w.entries)
	}
	entry(t, w, 0, map[int]string{269: "0", 270: "59200"})
	entry(t, w, 1, map[int]string{269: "0", 270: "59100"})

	// Below the top 2: nothing.
	a.expect("35=8", "11="+a.order("1", "0.01", "59000"), "150=0")
	md.quiet(300*time.Millisecond, "35=X")
	// The best goes: delete it, 59000 comes in as new with its size.
	a.send("F", "11=c1", "41="+ids[2], "55=BTC-USD", "54=1", now())
	x := md.expect("35=X", "262=top2")
	if len(x.entries) != 2 {
		t.Fatalf("top-2 after the best left: %v", x.entries)
	}
	entry(t, x, 0, map[int]string{279: "2", 269: "0", 270: "59200", 83: "1"})
	entry(t, x, 1, map[int]string{279: "0", 269: "0", 270: "59000", 271: "0.02", 83: "2"})
	// A new best pushes 59000 out.
	a.expect("35=8", "11="+a.order("1", "0.05", "59300"), "150=0")
	x = md.expect("35=X", "262=top2")
	entry(t, x, 0, map[int]string{279: "2", 270: "59000", 83: "3"})
	entry(t, x, 1, map[int]string{279: "0", 270: "59300", 271: "0.05", 83: "4"})
}

func TestMDRejects(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	md := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md.subscribe("dup", "1", 0, allTypes, "BTC-USD")
	md.expect("35=W", "262=dup")
	many := make([]string, 17)
	for i := range many {
		many[i] = "BTC-USD"
	}
	for _, tc := range []struct {
		name    string
		reqID   string
		sub     string
		depth   int
		types   []string
		symbols []string
		reason  string
		text    string
	}{
		{"unknown symbol", "r0", "1", 0, allTypes, []string{"BTC-USD", "DOGE-USD"}, "0", "DOGE-USD"},
		{"duplicate MDReqID", "dup", "1", 0, allTypes, []string{"BTC-USD"}, "1", "duplicate"},
		{"negative depth", "r5a", "1", -1, allTypes, []string{"BTC-USD"}, "5", "MarketDepth"},
		{"depth beyond the limit", "r5b", "0", 101, allTypes, []string{"BTC-USD"}, "5", "1 to 100"},
		{"unsupported entry type", "r8", "1", 0, []string{"0", "4"}, []string{"BTC-USD"}, "8", "MDEntryType"},
		{"too many symbols", "r2", "1", 0, allTypes, many, "2", "at most 16 symbols"},
	} {
		md.subscribe(tc.reqID, tc.sub, tc.depth, tc.types, tc.symbols...)
		y := md.expect("35=Y", "262="+tc.reqID)
		if y.body[281] != tc.reason || !strings.Contains(y.body[58], tc.text) {
			t.Errorf("%s: 281=%s 58=%q, want 281=%s with %q", tc.name, y.body[281], y.body[58], tc.reason, tc.text)
		}
	}
	// Incremental refresh only (265=0 refused); aggregated only (266=N).
	md.send("V", "262=r6", "263=1", "264=0", "265=0", "267=1", "269=0", "146=1", "55=BTC-USD")
	if y := md.expect("35=Y", "262=r6"); y.body[281] != "6" {
		t.Errorf("MDUpdateType 0: %v", y.body)
	}
	md.send("V", "262=r7", "263=1", "264=0", "266=N", "267=1", "269=0", "146=1", "55=BTC-USD")
	if y := md.expect("35=Y", "262=r7"); y.body[281] != "7" {
		t.Errorf("AggregatedBook N: %v", y.body)
	}
	// Unsubscribing an unknown MDReqID.
	md.send("V", "262=nope", "263=2", "264=0", "267=1", "269=0", "146=1", "55=BTC-USD")
	if y := md.expect("35=Y", "262=nope"); !strings.Contains(y.body[58], "unknown MDReqID") {
		t.Errorf("unsubscribe unknown: %v", y.body)
	}
	// The subscription limit: 32 per session.
	for i := 1; i < 32; i++ {
		md.subscribe(fmt.Sprintf("lim%d", i), "1", 0, allTypes, "BTC-USD")
		md.expect("35=W", fmt.Sprintf("262=lim%d", i))
	}
	md.subscribe("lim32", "1", 0, allTypes, "BTC-USD")
	if y := md.expect("35=Y", "262=lim32"); y.body[281] != "2" || !strings.Contains(y.body[58], "32 subscriptions") {
		t.Errorf("subscription limit: %v", y.body)
	}
}

func TestMDHaltAndResume(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	md := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md.subscribe("s", "1", 0, allTypes, "BTC-USD")
	md.expect("35=W", "262=s")
	setStatus := func(st matching.SymbolStatus) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := srv.Seq.Submit(ctx, &matching.Command{Kind: matching.CmdSetStatus, Symbol: 1, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(matching.StatusHalted)
	f := md.expect("35=f")
	if f.body[55] != "BTC-USD" || f.body[326] != "2" || f.body[325] != "Y" || f.body[60] == "" {
		t.Fatalf("halt: %v", f.body)
	}
	// A subscription made during the halt hears of it after its W.
	md.subscribe("s2", "1", 5, allTypes, "BTC-USD")
	md.expect("35=W", "262=s2")
	if f := md.expect("35=f"); f.body[326] != "2" || f.body[325] != "N" {
		t.Fatalf("status after subscribing during a halt: %v", f.body)
	}
	setStatus(matching.StatusOpen)
	if f := md.expect("35=f"); f.body[326] != "3" {
		t.Fatalf("resume: %v", f.body)
	}
	// One f per session, not per subscription.
	md.quiet(300*time.Millisecond, "35=f")
}

func TestMDSessionRules(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	addr := cfg.FIX.MarketDataAddr
	if typ, text := rawLogon(t, addr, "FIRM_A", "firm_a"); typ != "5" || !strings.Contains(text, "not market data") {
		t.Errorf("order-entry CompID on market data: 35=%s 58=%q", typ, text)
	}
	if typ, text := rawLogon(t, addr, "NOBODY", "x"); typ != "5" || !strings.Contains(text, "unknown CompID") {
		t.Errorf("unknown CompID: 35=%s 58=%q", typ, text)
	}
	if typ, text := rawLogon(t, addr, "MD_1", "wrong"); typ != "5" || !strings.Contains(text, "wrong Username (553) or Password (554)") {
		t.Errorf("wrong password: 35=%s 58=%q", typ, text)
	}
	if typ, text := rawLogon(t, cfg.FIX.OrderEntryAddr, "MD_1", "md_1"); typ != "5" || !strings.Contains(text, "not order entry") {
		t.Errorf("market-data CompID on order entry: 35=%s 58=%q", typ, text)
	}
	md := mdLogon(t, addr, "MD_1")
	// A second connection while MD_1 is logged on is closed; the first stays.
	if typ := rawLogonNoFail(t, addr, "MD_1", "md_1"); typ == "A" {
		t.Errorf("second connection for MD_1 logged on")
	}
	for _, mt := range []struct {
		typ    string
		fields []string
	}{
		{"D", []string{"11=o1", "55=BTC-USD", "54=1", now(), "38=0.01", "40=2", "44=59000"}},
		{"F", []string{"11=c1", "41=o1", "55=BTC-USD", "54=1", now()}},
		{"G", []string{"11=r1", "41=o1", "55=BTC-USD", "54=1", now(), "38=0.01", "40=2", "44=59000"}},
		{"q", []string{"11=m1", "530=7", now()}},
	} {
		md.send(mt.typ, mt.fields...)
		j := md.expect("35=j", "372="+mt.typ)
		if j.body[380] != "3" || !strings.Contains(j.body[58], "do not accept orders") {
			t.Errorf("%s on market data: %v", mt.typ, j.body)
		}
	}
	md.subscribe("still", "1", 0, allTypes, "BTC-USD")
	md.expect("35=W", "262=still")
}

// TestMDSubscriptionsEndWithTheSession: a session that logs out and back
// on starts with no subscription.
func TestMDSubscriptionsEndWithTheSession(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	md := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md.subscribe("s", "1", 0, allTypes, "BTC-USD")
	md.expect("35=W", "262=s")
	md.init.Stop()
	waitFor(t, "MD_1 logged out", func() bool { return srv.MD.Stats().Sessions == 0 })
	if st := srv.MD.Stats(); st.Subscriptions != 0 || st.Feeds != 0 {
		t.Fatalf("after logout: %+v", st)
	}
	md2 := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	md2.subscribe("s", "1", 0, allTypes, "BTC-USD")
	if w := md2.expect("35=W", "262=s"); w.body[83] != "0" {
		t.Fatalf("resubscribe: %v", w.body)
	}
}

// waitMDFolded waits until market data has folded every command the
// sequencer has published into its books. It follows the sequencer on its
// own goroutine, so an order acknowledged over FIX is in the books a
// moment later, not at once: a test that subscribes after its orders and
// checks the snapshot waits for this first.
func waitMDFolded(t testing.TB, srv *server.Server) {
	t.Helper()
	acked := srv.Seq.Stats().LastSeq
	waitFor(t, "market data to fold the orders", func() bool { return srv.MD.Stats().LastSeq >= acked })
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	fix.PollUntil(t, 10*time.Second, what, ok)
}

// addMDSessions puts n more market-data sessions MD_2.. into the
// directory (password: the CompID in lower case).
func addMDSessions(t testing.TB, srv *server.Server, n int) []string {
	t.Helper()
	var comps []string
	for i := 0; i < n; i++ {
		comp := fmt.Sprintf("MD_%d", i+2)
		s := refdata.Session{CompID: comp, ID: matching.SessionID(1000 + i), Kind: refdata.MarketData}
		h, err := bcryptHash(strings.ToLower(comp))
		if err != nil {
			t.Fatal(err)
		}
		s.PasswordHash = h
		srv.Directory.PutSession(s)
		comps = append(comps, comp)
	}
	return comps
}

// TestMDConsistency: 100,000 random orders and cancels straight through
// the sequencer; a full-book client and a top-10 client subscribed from
// the start, and a full-book client that subscribes while orders flow,
// each rebuild the book from W and X (checking RptSeq has no gap and every
// 279 fits the book they hold) and equal the engine's book at every
// checkpoint.
func TestMDConsistency(t *testing.T) {
	const (
		total  = 100_000
		chunks = 4
		seed   = 6
	)
	srv, cfg := startVenue(t, venueOpts{})
	t.Logf("seed %d", seed)
	addr := cfg.FIX.MarketDataAddr
	comps := addMDSessions(t, srv, 2)
	stop := make(chan struct{})
	defer close(stop)
	follow := func(comp, reqID string, depth int) *clientBook {
		c := mdLogon(t, addr, comp)
		b := newClientBook(depth)
		c.subscribe(reqID, "1", depth, allTypes, "BTC-USD")
		go b.follow(c, stop)
		return b
	}
	full := follow("MD_1", "full", 0)
	top := follow(comps[0], "top10", 10)
	gen := newOrderGen(srv, seed)
	var late *clientBook
	// Small windows make small sequencer batches, so many X of few
	// entries; large ones make large netted X.
	windows := [chunks]int{32, 2048, 512, 128}
	for i := 0; i < chunks; i++ {
		if i == 2 {
			// Subscribe in the middle of the run, while orders flow.
			done := make(chan struct{})
			go func() { defer close(done); gen.run(t, total/chunks, windows[i]) }()
			time.Sleep(200 * time.Millisecond)
			late = follow(comps[1], "late", 0)
			<-done
		} else {
			gen.run(t, total/chunks, windows[i])
		}
		want, want10 := engineBook(srv, 0), engineBook(srv, 10)
		full.converge(t, fmt.Sprintf("full book after %d commands", (i+1)*total/chunks), want)
		top.converge(t, fmt.Sprintf("top 10 after %d commands", (i+1)*total/chunks), want10)
		if late != nil {
			late.converge(t, fmt.Sprintf("late subscriber after %d commands", (i+1)*total/chunks), want)
		}
	}
	full.mu.Lock()
	defer full.mu.Unlock()
	st := srv.MD.Stats()
	t.Logf("%d bids, %d offers; full-book client: %d X, %d trades, RptSeq %d; stats %+v",
		len(full.sides[0]), len(full.sides[1]), full.xs, full.trades, full.rpt, st)
	if full.trades == 0 || len(full.sides[0]) == 0 || len(full.sides[1]) == 0 {
		t.Fatalf("the run traded nothing or emptied a side")
	}
	if st.Cut != 0 {
		t.Fatalf("%d sessions cut", st.Cut)
	}
}

// TestMDSlowReaderIsCut: a session that asks for snapshots and never
// reads fills its queue and is cut (Logout, then its connection closed),
// while the engine and another subscriber carry on.
func TestMDSlowReaderIsCut(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	comps := addMDSessions(t, srv, 1)
	// A deep book: 2,000 levels a side, so one W is about 100 KB.
	deep := func(round int) []matching.Command {
		var cmds []matching.Command
		for i := 0; i < 2000; i++ {
			for _, side := range []matching.Side{matching.Buy, matching.Sell} {
				px, acct := int64(5_997_000-i), matching.AccountID(2)
				if side == matching.Sell {
					px, acct = int64(6_003_000+i), 3
				}
				cmds = append(cmds, matching.Command{Kind: matching.CmdNewOrder, Session: matching.SessionID(900 + acct),
					Firm: matching.FirmID(acct - 1), Account: acct, Symbol: 1, Side: side, Type: matching.Limit,
					TIF: matching.GTC, Px: px, Qty: 10_000, ClOrdID: fmt.Sprintf("deep%d-%d-%d", round, side, i)})
			}
		}
		return cmds
	}
	cmds := deep(0)
	submitAll(t, srv, cmds)
	good := mdLogon(t, cfg.FIX.MarketDataAddr, "MD_1")
	gb := newClientBook(0)
	stop := make(chan struct{})
	defer close(stop)
	good.subscribe("good", "1", 0, allTypes, "BTC-USD")
	go gb.follow(good, stop)

	slow, typ := dialRawMD(t, cfg.FIX.MarketDataAddr, comps[0], strings.ToLower(comps[0]))
	if typ != "A" {
		t.Fatalf("raw logon: %q", typ)
	}
	defer slow.conn.Close()
	// 30 subscriptions: every change goes to it 30 times.
	for i := 0; i < 30; i++ {
		slow.subscribe(t, fmt.Sprintf("sub%d", i), "1")
	}
	// Snapshots until its session stops taking requests: quickfixgo's
	// session goroutine is then stuck writing to the full socket.
	for i, last := 0, uint64(0); i < 200; i++ {
		slow.subscribe(t, fmt.Sprintf("snap%d", i), "0")
		time.Sleep(20 * time.Millisecond)
		if r := srv.MD.Stats().Requests; r == last {
			break
		} else {
			last = r
		}
	}
	// Then the whole book goes and comes back until its queue is full.
	for i := 1; i <= 10 && srv.MD.Stats().Cut == 0; i++ {
		submitAll(t, srv, []matching.Command{{Kind: matching.CmdMassCancel, Symbol: 1, Reason: matching.ReasonAdmin}})
		submitAll(t, srv, deep(i))
	}
	waitFor(t, "the slow session cut", func() bool { return srv.MD.Stats().Cut == 1 })
	// Its connection closes: reading it to the end finishes.
	_ = slow.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, slow.conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slow session's connection still open after %d bytes", n)
	}
	// The engine and the other subscriber carry on.
	gen := newOrderGen(srv, 1)
	gen.run(t, 2000, 256)
	gb.converge(t, "the reading subscriber", engineBook(srv, 0))
	if st := srv.MD.Stats(); st.Cut != 1 || st.Sessions != 1 {
		t.Fatalf("stats after the cut: %+v", st)
	}
}

// TestMDRawFramesAreValid: the X messages written around a shared,
// pre-rendered body (quickfix.SendRawToTarget) are whole FIX frames:
// BodyLength and CheckSum right (guard.Validate checks both), the header
// the session's own (SenderCompID, TargetCompID), MsgSeqNum one more than
// the last message's, and every entry group counted right.
func TestMDRawFramesAreValid(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	r, typ := dialRawMD(t, cfg.FIX.MarketDataAddr, "MD_1", "md_1")
	if typ != "A" {
		t.Fatalf("logon answered %q", typ)
	}
	r.subscribe(t, "raw", "1")
	gen := make(chan struct{})
	go func() {
		defer close(gen)
		newOrderGen(srv, 7).run(t, 20000, 8)
	}()
	defer func() { <-gen }()
	sc := guard.NewScanner(r.conn, guard.Options{})
	lastSeq, xs := 0, 0
	for xs < 30 {
		_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		frame, err := sc.Next()
		if err != nil {
			t.Fatalf("after %d X: %v", xs, err)
		}
		if err := guard.Validate(frame, guard.Options{}); err != nil {
			t.Fatalf("invalid frame %q: %v", frame, err)
		}
		f := map[string]string{}
		entries, counted := 0, -1
		for _, kv := range strings.Split(strings.TrimSuffix(string(frame), "\x01"), "\x01") {
			k, v, _ := strings.Cut(kv, "=")
			if _, dup := f[k]; !dup {
				f[k] = v
			}
			switch k {
			case "268":
				counted, _ = strconv.Atoi(v)
			case "279":
				entries++
			}
		}
		seq, _ := strconv.Atoi(f["34"])
		if lastSeq != 0 && seq != lastSeq+1 {
			t.Fatalf("MsgSeqNum %d after %d", seq, lastSeq)
		}
		lastSeq = seq
		if f["35"] != "X" {
			continue
		}
		xs++
		if f["49"] != "VENUE" || f["56"] != "MD_1" || f["262"] != "raw" || f["52"] == "" {
			t.Fatalf("X header or MDReqID: %q", frame)
		}
		if counted != entries || entries == 0 {
			t.Fatalf("268=%d with %d entries: %q", counted, entries, frame)
		}
	}
}
