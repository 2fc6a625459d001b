package fix_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/log/screen"
	"github.com/shopspring/decimal"

	"venue/config"
	"venue/matching"
	"venue/refdata"
	"venue/server"
	"venue/spec"
)

// The tests here drive the venue (server.Start: journal, engine, order
// entry behind the guard) with quickfixgo's initiator over loopback.

type venueOpts struct {
	dataDir   string
	throttle  int
	dcBacklog int
	oeBacklog int
	// mdInterval overrides fix.market_data_interval when set.
	mdInterval *time.Duration
	// routerBuffer overrides server.Options.RouterBuffer.
	routerBuffer int
	// writeTimeout overrides fix.client_write_timeout.
	writeTimeout time.Duration
	// sessions are added to the dev directory before the start.
	sessions []refdata.Session
	// dcStores wraps the drop copy's store factory.
	dcStores func(quickfix.MessageStoreFactory) quickfix.MessageStoreFactory
}

func startVenue(t testing.TB, o venueOpts) (*server.Server, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = o.dataDir
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	// Port 0: each listener gets a free port of its own (picking free
	// ports first races with other tests); the addresses are read back
	// after the start. A restart passes the addresses of the first start.
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0"
	if o.throttle > 0 {
		cfg.FIX.ThrottlePerSecond = o.throttle
	}
	if o.writeTimeout > 0 {
		cfg.FIX.ClientWriteTimeout = o.writeTimeout
	}
	if o.mdInterval != nil {
		cfg.FIX.MarketDataInterval = *o.mdInterval
	}
	if o.oeBacklog > 0 {
		cfg.FIX.OrderEntryMaxBacklog = o.oeBacklog
	}
	if o.dcBacklog > 0 {
		cfg.FIX.DropCopyMaxBacklog = o.dcBacklog
	}
	cfg.Log.Level = "warn"
	// No back office here: these tests are about FIX (backoffice/ tests it).
	cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1, RouterBuffer: o.routerBuffer,
		Sessions: o.sessions, DropCopyStores: o.dcStores})
	if err != nil {
		t.Fatalf("start venue: %v", err)
	}
	cfg.FIX.OrderEntryAddr = srv.OEAcc.Addr().String()
	cfg.FIX.DropCopyAddr = srv.DCAcc.Addr().String()
	cfg.FIX.MarketDataAddr = srv.MD.Addr().String()
	cfg.Ops.Addr = srv.Ops.Addr().String()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, &cfg
}

// fixMsg is a received message as tag -> value (the last of repeated tags).
type fixMsg map[int]string

func (m fixMsg) typ() string { return m[35] }

func (m fixMsg) dec(t testing.TB, tag int) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(m[tag])
	if err != nil {
		t.Fatalf("tag %d %q: %v in %v", tag, m[tag], err, m)
	}
	return d
}

func parse(msg *quickfix.Message) fixMsg {
	out := fixMsg{}
	for _, part := range strings.Split(msg.String(), "\x01") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		var tag int
		fmt.Sscan(k, &tag)
		out[tag] = v
	}
	return out
}

// client is one quickfixgo initiator session.
type client struct {
	t        testing.TB
	comp     string
	password string
	cod      string
	id       quickfix.SessionID
	init     *quickfix.Initiator
	in       chan fixMsg
	logons   chan struct{}
	logouts  chan string
	mu       sync.Mutex
	n        int
	// hold, write-locked by a test, stops the application from taking
	// messages: the initiator stops reading its socket.
	hold sync.RWMutex
}

func (c *client) OnCreate(quickfix.SessionID) {}
func (c *client) OnLogon(quickfix.SessionID) {
	select {
	case c.logons <- struct{}{}:
	default:
	}
}
func (c *client) OnLogout(quickfix.SessionID) {}
func (c *client) ToAdmin(msg *quickfix.Message, _ quickfix.SessionID) {
	if mt, _ := msg.Header.GetString(35); mt == "A" {
		msg.Body.SetString(553, c.comp)
		msg.Body.SetString(554, c.password)
		if c.cod != "" {
			msg.Body.SetString(8013, c.cod)
		}
	}
}
func (c *client) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (c *client) FromAdmin(msg *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	m := parse(msg)
	switch m.typ() {
	case "5":
		select {
		case c.logouts <- m[58]:
		default:
		}
	case "3":
		c.in <- m
	}
	return nil
}
func (c *client) FromApp(msg *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	c.hold.RLock()
	c.in <- parse(msg)
	c.hold.RUnlock()
	return nil
}

var dictOnce sync.Once
var dictPath string

func dictionary(t testing.TB) string {
	dictOnce.Do(func() {
		dir, err := os.MkdirTemp("", "venue-fix-dict")
		if err != nil {
			t.Fatal(err)
		}
		dictPath, err = spec.WriteFIX44(dir)
		if err != nil {
			t.Fatal(err)
		}
	})
	return dictPath
}

func newClient(t testing.TB, addr, comp, password string) *client {
	t.Helper()
	c := &client{t: t, comp: comp, password: password,
		id:     quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: comp, TargetCompID: "VENUE"},
		in:     make(chan fixMsg, 100_000),
		logons: make(chan struct{}, 1), logouts: make(chan string, 16)}
	c.init = newInitiator(t, c, addr, comp, map[string]string{"ResetOnLogon": "Y"}, nil)
	return c
}

// newInitiator is a quickfixgo initiator of one session to the venue's
// addr with the venue's dictionary; extra settings override, and stores
// (nil: in memory) makes the message store from the settings.
func newInitiator(t testing.TB, app quickfix.Application, addr, comp string, extra map[string]string,
	stores func(*quickfix.Settings) quickfix.MessageStoreFactory) *quickfix.Initiator {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	settings := quickfix.NewSettings()
	s := quickfix.NewSessionSettings()
	for k, v := range map[string]string{
		"BeginString": "FIX.4.4", "SenderCompID": comp, "TargetCompID": "VENUE",
		"SocketConnectHost": host, "SocketConnectPort": port, "HeartBtInt": "30",
		"ReconnectInterval": "1", "DataDictionary": dictionary(t),
	} {
		s.Set(k, v)
	}
	for k, v := range extra {
		s.Set(k, v)
	}
	if _, err := settings.AddSession(s); err != nil {
		t.Fatal(err)
	}
	logs := quickfix.NewNullLogFactory()
	if os.Getenv("FIX_TEST_LOG") != "" {
		logs = screen.NewLogFactory()
	}
	store := quickfix.NewMemoryStoreFactory()
	if stores != nil {
		store = stores(settings)
	}
	init, err := quickfix.NewInitiator(app, store, settings, logs)
	if err != nil {
		t.Fatal(err)
	}
	return init
}

// connect starts the initiator and waits for its Logon.
func (c *client) connect() {
	c.t.Helper()
	if err := c.init.Start(); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-c.logons:
	case text := <-c.logouts:
		c.t.Fatalf("%s: logon refused: %s", c.comp, text)
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: no logon", c.comp)
	}
}

func (c *client) stop() { c.init.Stop() }

func logon(t testing.TB, addr, comp string) *client {
	t.Helper()
	c := newClient(t, addr, comp, strings.ToLower(comp))
	c.connect()
	t.Cleanup(c.stop)
	return c
}

func (c *client) nextID(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return fmt.Sprintf("%s-%s-%d", c.comp, prefix, c.n)
}

// send sends msgType with the fields given as "tag=value" pairs.
func (c *client) send(msgType string, fields ...string) {
	c.t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(35, msgType)
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		var tag int
		fmt.Sscan(k, &tag)
		m.Body.SetString(quickfix.Tag(tag), v)
	}
	if err := quickfix.SendToTarget(m, c.id); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func now() string { return "60=" + time.Now().UTC().Format("20060102-15:04:05.000") }

// order sends a NewOrderSingle and returns its ClOrdID.
func (c *client) order(side, qty, px string, extra ...string) string {
	cl := c.nextID("o")
	f := []string{"11=" + cl, "55=BTC-USD", "54=" + side, now(), "38=" + qty}
	if px != "" {
		f = append(f, "40=2", "44="+px)
	} else {
		f = append(f, "40=1")
	}
	c.send("D", append(f, extra...)...)
	return cl
}

// expect returns the next message matching every "tag=value" condition,
// skipping others; it fails after a timeout.
func (c *client) expect(conds ...string) fixMsg {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.in:
			if matches(m, conds) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("%s: no message with %v", c.comp, conds)
			return nil
		}
	}
}

// quiet fails if a message matching conds arrives within d.
func (c *client) quiet(d time.Duration, conds ...string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.in:
			if matches(m, conds) {
				c.t.Fatalf("%s: unexpected %v", c.comp, m)
			}
		case <-deadline:
			return
		}
	}
}

func matches(m fixMsg, conds []string) bool {
	for _, cond := range conds {
		k, v, _ := strings.Cut(cond, "=")
		var tag int
		fmt.Sscan(k, &tag)
		if m[tag] != v {
			return false
		}
	}
	return true
}

// checkQty asserts the FIX 4.4 quantity rules of an ExecutionReport.
func checkQty(t testing.TB, m fixMsg) {
	t.Helper()
	qty, cum, leaves := m.dec(t, 38), m.dec(t, 14), m.dec(t, 151)
	switch m[39] {
	case "2", "4", "8", "C":
		if !leaves.IsZero() {
			t.Errorf("terminal 39=%s with 151=%s: %v", m[39], leaves, m)
		}
	default:
		if !cum.Add(leaves).Equal(qty) {
			t.Errorf("14 %s + 151 %s != 38 %s: %v", cum, leaves, qty, m)
		}
	}
	for _, tag := range []int{37, 17, 150, 39, 55, 54, 6, 60, 11} {
		if _, ok := m[tag]; !ok {
			t.Errorf("ExecutionReport without tag %d: %v", tag, m)
		}
	}
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestOrderLifecycle(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{})
	_ = srv
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	b := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_B")

	// Ack.
	buy := a.order("1", "0.0100", "59000.00")
	ack := a.expect("35=8", "11="+buy)
	if ack[150] != "0" || ack[39] != "0" || !ack.dec(t, 14).IsZero() || !ack.dec(t, 151).Equal(d("0.01")) {
		t.Fatalf("ack: %v", ack)
	}
	checkQty(t, ack)
	orderID := ack[37]

	// Replace up: same OrderID, 150=5, 41 the prior ClOrdID.
	rep := a.nextID("r")
	a.send("G", "11="+rep, "41="+buy, "55=BTC-USD", "54=1", now(), "38=0.0200", "40=2", "44=59000.00")
	r := a.expect("35=8", "11="+rep)
	if r[150] != "5" || r[41] != buy || r[37] != orderID || !r.dec(t, 38).Equal(d("0.02")) {
		t.Fatalf("replace: %v", r)
	}
	checkQty(t, r)

	// A partial fill from another firm: both sides 150=F, one trade id.
	sell := b.order("2", "0.0050", "59000.00")
	taker := b.expect("35=8", "11="+sell, "150=F")
	maker := a.expect("35=8", "11="+rep, "150=F")
	if maker[39] != "1" || maker[851] != "1" || !maker.dec(t, 31).Equal(d("59000")) || !maker.dec(t, 32).Equal(d("0.005")) {
		t.Fatalf("maker fill: %v", maker)
	}
	if taker[39] != "2" || taker[851] != "2" || taker[880] != maker[880] || taker[880] == "" {
		t.Fatalf("taker fill: %v (maker %v)", taker, maker)
	}
	if taker[17] == maker[17] {
		t.Fatalf("ExecID shared by both sides: %s", taker[17])
	}
	// Fees: maker 1 bp, taker 2 bp of 295 USD.
	if !maker.dec(t, 12).Equal(d("0.0295")) || maker[13] != "3" || maker[479] != "USD" {
		t.Errorf("maker commission: %v", maker)
	}
	if !taker.dec(t, 12).Equal(d("0.059")) {
		t.Errorf("taker commission: %v", taker)
	}
	if !maker.dec(t, 6).Equal(d("59000")) || !maker.dec(t, 14).Equal(d("0.005")) {
		t.Errorf("maker AvgPx/CumQty: %v", maker)
	}
	checkQty(t, maker)
	checkQty(t, taker)

	// Status request: current state, 150=I.
	a.send("H", "11="+rep, "37="+orderID, "55=BTC-USD", "54=1", "790=st1")
	st := a.expect("35=8", "150=I")
	if st[39] != "1" || !st.dec(t, 14).Equal(d("0.005")) || st[790] != "st1" {
		t.Fatalf("status: %v", st)
	}

	// Another firm's order looks unknown.
	b.send("F", "11="+b.nextID("c"), "41="+rep, "37="+orderID, "55=BTC-USD", "54=1", now())
	rej := b.expect("35=9")
	if rej[102] != "1" || rej[434] != "1" {
		t.Fatalf("cancel of another firm's order: %v", rej)
	}
	b.send("H", "11=x", "37="+orderID, "55=BTC-USD", "54=1")
	if st := b.expect("35=8", "150=I"); st[39] != "8" || st[37] != "NONE" {
		t.Fatalf("status of another firm's order: %v", st)
	}

	// An OrderID (37) not written the way the venue writes it names no
	// order: the cancel is refused (102=1) and the order stays live.
	for _, bad := range []string{"0" + orderID, "+" + orderID, orderID + "x", "99999999999999999999", "0"} {
		a.send("F", "11="+a.nextID("c"), "41="+rep, "37="+bad, "55=BTC-USD", "54=1", now())
		if rej := a.expect("35=9"); rej[102] != "1" {
			t.Fatalf("cancel with 37=%s: %v", bad, rej)
		}
	}

	// Cancel the rest.
	cxl := a.nextID("c")
	a.send("F", "11="+cxl, "41="+rep, "55=BTC-USD", "54=1", now())
	c := a.expect("35=8", "11="+cxl)
	if c[150] != "4" || c[39] != "4" || c[41] != rep || !c.dec(t, 14).Equal(d("0.005")) {
		t.Fatalf("cancel: %v", c)
	}
	checkQty(t, c)

	// Too late: the order is done.
	a.send("F", "11="+a.nextID("c"), "41="+cxl, "55=BTC-USD", "54=1", now())
	if rej := a.expect("35=9"); rej[102] != "0" {
		t.Fatalf("cancel of a done order: %v", rej)
	}
	// Unknown.
	a.send("F", "11="+a.nextID("c"), "41=nope", "55=BTC-USD", "54=1", now())
	if rej := a.expect("35=9"); rej[102] != "1" || rej[37] != "NONE" {
		t.Fatalf("cancel of an unknown order: %v", rej)
	}
}

func TestRejectsNameTheReason(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	for _, tc := range []struct {
		name       string
		side, qty  string
		px         string
		extra      []string
		code, text string
	}{
		{"off the tick", "1", "0.01", "59000.001", nil, "99", "multiple of the tick"},
		{"off the step", "1", "0.000000001", "59000", nil, "13", "multiple of"},
		{"below the minimum", "1", "0.00001", "59000", nil, "13", "minimum"},
		{"outside the band", "1", "0.01", "80000", nil, "3", "band"},
		{"price beyond int64 ticks", "1", "0.01", "100000000000000000000000", nil, "3", "band"},
		{"quantity beyond int64 units", "1", "1000000000000000", "59000", nil, "3", "maximum"},
		{"negative price", "1", "0.01", "-59000", nil, "99", "positive"},
		{"unsupported TIF", "1", "0.01", "59000", []string{"59=2"}, "11", "TimeInForce"},
		{"over the maximum quantity", "1", "1001", "59000", nil, "3", "maximum"},
		{"another firm's account", "1", "0.01", "59000", []string{"1=FIRM_B"}, "15", "account"},
	} {
		cl := a.order(tc.side, tc.qty, tc.px, tc.extra...)
		m := a.expect("35=8", "11="+cl)
		if m[150] != "8" || m[39] != "8" || m[103] != tc.code || !strings.Contains(m[58], tc.text) {
			t.Errorf("%s: got 150=%s 103=%s 58=%q, want 103=%s with %q", tc.name, m[150], m[103], m[58], tc.code, tc.text)
		}
	}
	// Unknown symbol.
	a.send("D", "11=sym1", "55=ETH-USD", "54=1", now(), "38=1", "40=2", "44=100")
	if m := a.expect("35=8", "11=sym1"); m[103] != "1" {
		t.Errorf("unknown symbol: %v", m)
	}
	// Limit without a price: conditionally required field missing.
	a.send("D", "11=nopx", "55=BTC-USD", "54=1", now(), "38=1", "40=2")
	if m := a.expect("35=j", "372=D"); m[380] != "5" || m[58] == "" {
		t.Errorf("limit without price: %v", m)
	}
	// Missing a required field: session-level Reject naming the tag.
	a.send("D", "11=noside", "55=BTC-USD", now(), "38=1", "40=2", "44=100")
	if m := a.expect("35=3"); m[371] != "54" || m[373] != "1" {
		t.Errorf("missing side: %v", m)
	}
	// Unsupported message type: BusinessMessageReject 380=3.
	a.send("B", "148=hello", "33=1", "58=x")
	if m := a.expect("35=j", "372=B"); m[380] != "3" {
		t.Errorf("unsupported message: %v", m)
	}
	// Duplicate ClOrdID, the first order untouched.
	a.send("D", "11=dup", "55=BTC-USD", "54=1", now(), "38=0.01", "40=2", "44=59000")
	first := a.expect("35=8", "11=dup")
	a.send("D", "11=dup", "55=BTC-USD", "54=1", now(), "38=0.02", "40=2", "44=59000")
	second := a.expect("35=8", "11=dup")
	if first[150] != "0" || second[150] != "8" || second[103] != "6" {
		t.Fatalf("duplicate ClOrdID: %v then %v", first, second)
	}
	a.send("H", "11=dup", "55=BTC-USD", "54=1")
	if st := a.expect("35=8", "150=I"); st[37] != first[37] || !st.dec(t, 38).Equal(d("0.01")) || st[39] != "0" {
		t.Fatalf("first order changed by the duplicate: %v", st)
	}
}

func TestPossDupResendCreatesNothing(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	cl := a.order("1", "0.01", "59000")
	ack := a.expect("35=8", "11="+cl)
	m := quickfix.NewMessage()
	m.Header.SetString(35, "D")
	m.Header.SetString(97, "Y")
	for tag, v := range map[quickfix.Tag]string{11: cl, 55: "BTC-USD", 54: "1", 38: "0.01", 40: "2", 44: "59000", 60: strings.TrimPrefix(now(), "60=")} {
		m.Body.SetString(tag, v)
	}
	if err := quickfix.SendToTarget(m, a.id); err != nil {
		t.Fatal(err)
	}
	st := a.expect("35=8", "11="+cl)
	if st[150] != "I" || st[37] != ack[37] {
		t.Fatalf("PossResend of a known order: %v", st)
	}
	a.send("AF", "584=all", "585=7")
	if r := a.expect("35=8", "584=all"); r[911] != "1" || r[912] != "Y" || r[37] != ack[37] {
		t.Fatalf("mass status after the resend: %v", r)
	}
}

// rawLogon sends one Logon over a plain TCP connection and returns the
// venue's answer: "A" when it logged on, else the Logout's Text. quickfixgo's
// initiator does not hand a refused Logon's Text to the application.
func rawLogon(t testing.TB, addr, comp, password string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf("35=A\x0149=%s\x0156=VENUE\x0134=1\x0152=%s\x0198=0\x01108=30\x01141=Y\x01553=%s\x01554=%s\x01",
		comp, time.Now().UTC().Format("20060102-15:04:05.000"), comp, password)
	head := fmt.Sprintf("8=FIX.4.4\x019=%d\x01", len(body))
	sum := 0
	for _, c := range []byte(head + body) {
		sum += int(c)
	}
	frame := fmt.Sprintf("%s%s10=%03d\x01", head, body, sum%256)
	if _, err := conn.Write([]byte(frame)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		fields := fixMsg{}
		for _, part := range strings.Split(string(buf), "\x01") {
			if k, v, ok := strings.Cut(part, "="); ok {
				var tag int
				fmt.Sscan(k, &tag)
				fields[tag] = v
			}
		}
		if _, done := fields[10]; done {
			return fields[35], fields[58]
		}
		if err != nil {
			t.Fatalf("%s: no answer to Logon: %v", comp, err)
		}
	}
}

func TestLogonRules(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	addr := cfg.FIX.OrderEntryAddr

	if typ, text := rawLogon(t, addr, "NOBODY", "x"); typ != "5" || !strings.Contains(text, "unknown CompID") {
		t.Errorf("unknown CompID: 35=%s 58=%q", typ, text)
	}
	// The market-data CompID is refused with a Text. (A drop-copy CompID's
	// connection is closed without one: its static drop-copy session holds
	// the session id in quickfixgo's process-wide registry.)
	if typ, text := rawLogon(t, addr, "MD_1", "md_1"); typ != "5" || !strings.Contains(text, "not order entry") {
		t.Errorf("market-data CompID on order entry: 35=%s 58=%q", typ, text)
	}
	// Five wrong passwords lock the CompID; then even the right one is refused.
	for i := 1; i <= 5; i++ {
		typ, text := rawLogon(t, addr, "FIRM_C", "wrong")
		if typ != "5" || !strings.Contains(text, "wrong Username (553) or Password (554)") {
			t.Fatalf("wrong password %d: 35=%s 58=%q", i, typ, text)
		}
		if locked := strings.Contains(text, "locked"); locked != (i == 5) {
			t.Fatalf("wrong password %d: 58=%q", i, text)
		}
	}
	if typ, text := rawLogon(t, addr, "FIRM_C", "firm_c"); typ != "5" || !strings.Contains(text, "locked") {
		t.Errorf("locked CompID with the right password: 35=%s 58=%q", typ, text)
	}
	// Another CompID is not affected, and the right password logs on.
	if typ, text := rawLogon(t, addr, "FIRM_B", "firm_b"); typ != "A" {
		t.Errorf("FIRM_B: 35=%s 58=%q", typ, text)
	}
}

func TestCancelOnDisconnect(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	addr := cfg.FIX.OrderEntryAddr
	a := newClient(t, addr, "FIRM_A", "firm_a")
	a.connect()
	cl := a.order("1", "0.01", "59000")
	a.expect("35=8", "11="+cl, "150=0")
	keep := newClient(t, addr, "FIRM_B", "firm_b")
	keep.cod = "N"
	keep.connect()
	kept := keep.order("2", "0.01", "61000")
	keep.expect("35=8", "11="+kept, "150=0")
	keep.stop()
	a.stop()

	// While both are away, FIRM_C sees FIRM_A's bid gone and FIRM_B's ask still there.
	c := logon(t, addr, "FIRM_C")
	time.Sleep(200 * time.Millisecond)
	cs := c.order("2", "0.01", "59000", "59=3")
	if m := c.expect("35=8", "11="+cs, "39=4"); !m.dec(t, 14).IsZero() {
		t.Fatalf("FIRM_A's order still traded after its disconnect: %v", m)
	}
	cb := c.order("1", "0.002", "61000", "59=3")
	if m := c.expect("35=8", "11="+cb, "150=F"); !m.dec(t, 32).Equal(d("0.002")) {
		t.Fatalf("FIRM_B's order (8013=N) did not stay: %v", m)
	}

	// FIRM_A's cancel report waits for its next logon.
	a2 := logon(t, addr, "FIRM_A")
	m := a2.expect("35=8", "11="+cl)
	if m[150] != "4" || !strings.Contains(m[58], "disconnect") {
		t.Fatalf("cancel-on-disconnect report: %v", m)
	}
}

func TestMassCancelAndSecurityList(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	var ids []string
	for i := 0; i < 3; i++ {
		cl := a.order("1", "0.01", fmt.Sprintf("5900%d", i))
		a.expect("35=8", "11="+cl, "150=0")
		ids = append(ids, cl)
	}
	a.send("q", "11=mc", "530=7", now())
	r := a.expect("35=r")
	if r[531] != "7" || r[533] != "3" || r[11] != "mc" {
		t.Fatalf("mass cancel report: %v", r)
	}
	for _, cl := range ids {
		if m := a.expect("35=8", "11="+cl); m[150] != "4" {
			t.Fatalf("mass cancel: %v", m)
		}
	}
	a.send("q", "11=mc2", "530=3", now())
	if r := a.expect("35=r"); r[531] != "0" {
		t.Fatalf("unsupported mass cancel type: %v", r)
	}
	a.send("AF", "584=none", "585=7")
	if r := a.expect("35=8", "584=none"); r[911] != "0" || r[912] != "Y" {
		t.Fatalf("mass status with no orders: %v", r)
	}
	a.send("x", "320=sl", "559=4")
	y := a.expect("35=y")
	if y[320] != "sl" || y[560] != "0" || y[55] != "BTC-USD" || y[969] != "0.01" || y[562] != "0.0001" || y[561] != "0.00000001" {
		t.Fatalf("security list: %v", y)
	}
	a.send("x", "320=sl2", "559=0", "55=DOGE-USD")
	if y := a.expect("35=y", "320=sl2"); y[560] != "2" {
		t.Fatalf("security list of an unknown symbol: %v", y)
	}
}

func TestThrottleKeepsTheSession(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{throttle: 5})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	var cls []string
	for i := 0; i < 20; i++ {
		cls = append(cls, a.order("1", "0.01", "59000"))
	}
	// Throttle rejects overtake the acks (those wait for the fsync).
	first := map[string]fixMsg{}
	for len(first) < len(cls) {
		m := a.expect("35=8")
		if _, seen := first[m[11]]; !seen {
			first[m[11]] = m
		}
	}
	throttled := 0
	for _, cl := range cls {
		if m := first[cl]; m[150] == "8" && m[103] == "99" && strings.Contains(m[58], "throttle") {
			throttled++
		}
	}
	if throttled < 10 {
		t.Fatalf("%d of 20 orders throttled at 5/s", throttled)
	}
	time.Sleep(1100 * time.Millisecond)
	cl := a.order("1", "0.01", "59000")
	if m := a.expect("35=8", "11="+cl); m[150] != "0" {
		t.Fatalf("after the throttle window: %v", m)
	}
}

func TestRestartKeepsOrders(t *testing.T) {
	dir := t.TempDir()
	srv, cfg := startVenue(t, venueOpts{dataDir: filepath.Join(dir, "v")})
	a := newClient(t, cfg.FIX.OrderEntryAddr, "FIRM_A", "firm_a")
	a.cod = "N"
	a.connect()
	cl := a.order("1", "0.01", "59000")
	ack := a.expect("35=8", "11="+cl, "150=0")
	a.stop()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	_, cfg2 := startVenue(t, venueOpts{dataDir: filepath.Join(dir, "v")})
	a2 := logon(t, cfg2.FIX.OrderEntryAddr, "FIRM_A")
	a2.send("H", "11="+cl, "55=BTC-USD", "54=1")
	if st := a2.expect("35=8", "150=I"); st[37] != ack[37] || st[39] != "0" {
		t.Fatalf("order after restart: %v", st)
	}
	// The ClOrdID is still taken for the day.
	a2.send("D", "11="+cl, "55=BTC-USD", "54=1", now(), "38=0.01", "40=2", "44=59000")
	if m := a2.expect("35=8", "11="+cl, "150=8"); m[103] != "6" {
		t.Fatalf("duplicate after restart: %v", m)
	}
}

// TestSlowOrderEntryReaderIsCut: a session that stops reading its reports
// never slows matching or the other sessions: once its queue is full it is
// disconnected, and its reports wait for its next Logon.
func TestSlowOrderEntryReaderIsCut(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{oeBacklog: 500})
	a := newClient(t, cfg.FIX.OrderEntryAddr, "FIRM_A", "firm_a")
	a.connect()
	t.Cleanup(a.stop)
	b := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_B")
	c := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_C")
	a.hold.Lock() // FIRM_A's application stops taking messages

	// 15,000 IOC orders of FIRM_A's session with nothing to meet: an ack
	// and a cancel each, 30,000 reports for FIRM_A.
	const n = 15_000
	submitAll(t, srv, iocs("ioc", 0, n))
	// The other sessions trade as usual, the router not held up by FIRM_A.
	for i := 0; i < 20; i++ {
		sell := b.order("2", "0.01", "59000")
		b.expect("35=8", "11="+sell, "150=0")
		buy := c.order("1", "0.01", "59000")
		if m := c.expect("35=8", "11="+buy, "150=F"); m[39] != "2" {
			t.Fatalf("trade %d: %v", i, m)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.OE.Metrics().Cuts == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.OE.Metrics().Cuts == 0 {
		t.Fatal("the session that stopped reading was not cut")
	}
	a.hold.Unlock()
	// It reconnects by itself and gets the newest reports, up to the last.
	a.expect("35=8", "11=ioc"+strconv.Itoa(n-1), "150=4")
}

// TestRouterCatchesUpFromJournal: a router that falls behind the sequencer
// is dropped; it catches up from the journal, and the session gets every
// report exactly once, in order, and the venue keeps running.
func TestRouterCatchesUpFromJournal(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{routerBuffer: 1})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	// Rounds of 3,000 IOC orders, submitted as fast as the sequencer takes
	// them, until the router has been dropped at least once.
	const round = 3_000
	n := 0
	for r := 0; r < 10 && srv.Seq.Stats().SubscribersDropped == 0; r++ {
		submitAll(t, srv, iocs("r", n, round))
		n += round
	}
	if srv.Seq.Stats().SubscribersDropped == 0 {
		t.Fatal("no subscriber was dropped with a buffer of one command: the test tests nothing")
	}
	seen := map[string]bool{}
	for i := 0; i < 2*n; i++ {
		m := a.expect("35=8")
		if seen[m[17]] {
			t.Fatalf("report %s twice", m[17])
		}
		seen[m[17]] = true
		want := "r" + strconv.Itoa(i/2)
		if m[11] != want {
			t.Fatalf("report %d is for %s, want %s (order lost or out of order)", i, m[11], want)
		}
	}
	select {
	case err := <-srv.Err():
		t.Fatalf("the venue stopped: %v", err)
	default:
	}
	cl := a.order("1", "0.01", "58000")
	a.expect("35=8", "11="+cl, "150=0")
}

// TestStuckClientIsCut: a client that keeps its connection open and takes
// nothing off it is cut after fix.client_write_timeout: its session ends and
// cancel-on-disconnect cancels its resting order.
func TestStuckClientIsCut(t *testing.T) {
	srv, cfg := startVenue(t, venueOpts{writeTimeout: 500 * time.Millisecond})
	conn, err := net.Dial("tcp", cfg.FIX.OrderEntryAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	logon := fmt.Sprintf("35=A\x0149=FIRM_A\x0156=VENUE\x0134=1\x0152=%s\x0198=0\x01108=30\x01141=Y\x01553=FIRM_A\x01554=firm_a\x01",
		time.Now().UTC().Format("20060102-15:04:05.000"))
	if _, err := conn.Write(frame(logon)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.OE.Metrics().SessionsOnline == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	submit := func(cmd matching.Command) {
		if _, err := srv.Seq.Submit(context.Background(), &cmd); err != nil {
			t.Fatal(err)
		}
	}
	submit(matching.Command{Kind: matching.CmdNewOrder, Session: 1, Firm: 1, Account: 2, Symbol: 1,
		Side: matching.Buy, Type: matching.Limit, TIF: matching.GTC, Px: 5_000_000, Qty: 10_000, ClOrdID: "resting"})
	// Watch for the cancel-on-disconnect of the resting order.
	sub := srv.Seq.Subscribe("test-cod", 1<<17)
	defer sub.Close()
	cod := make(chan struct{})
	go func() {
		for p := range sub.C {
			for _, ev := range p.Events {
				if ev.Kind == matching.EvCanceled && ev.Order.ClOrdID == "resting" && ev.Reason == matching.ReasonDisconnect {
					close(cod)
					return
				}
			}
		}
	}()
	// Reports it never reads, until its socket and the proxy's buffers are full.
	for i := 0; i < 20_000 && srv.OE.Metrics().SessionsOnline > 0; i++ {
		cmd := matching.Command{Kind: matching.CmdNewOrder, Session: 1, Firm: 1, Account: 2, Symbol: 1,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.IOC, Px: 5_000_000, Qty: 10_000,
			ClOrdID: "stuck" + strconv.Itoa(i)}
		for srv.Seq.SubmitAsync(&cmd, nil) != nil {
			time.Sleep(time.Millisecond)
		}
	}
	deadline = time.Now().Add(20 * time.Second)
	for srv.OE.Metrics().SessionsOnline > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.OE.Metrics().SessionsOnline > 0 {
		t.Fatal("a client that reads nothing is still logged on")
	}
	// Cancel-on-disconnect: the resting order goes.
	select {
	case <-cod:
	case <-time.After(10 * time.Second):
		t.Fatal("cancel-on-disconnect did not cancel the stuck client's resting order")
	}
}

// TestReplaceKeepsWhatItLeavesOut: a replace that omits TimeInForce and
// ExpireTime keeps the order's (a GTD stays GTD with its expiry).
func TestReplaceKeepsWhatItLeavesOut(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	expire := time.Now().UTC().Add(time.Hour).Format("20060102-15:04:05.000")
	cl := a.order("1", "0.01", "59000", "59=6", "126="+expire)
	ack := a.expect("35=8", "11="+cl, "150=0")
	rep := a.nextID("r")
	a.send("G", "11="+rep, "41="+cl, "55=BTC-USD", "54=1", now(), "38=0.02", "40=2", "44=59000")
	r := a.expect("35=8", "11="+rep)
	if r[150] != "5" || r[59] != "6" || r[126] != ack[126] || r[126] == "" {
		t.Fatalf("replace of a GTD order without 59 and 126: %v (ack %v)", r, ack)
	}
}

// TestResendFromRingStore: within a connection, a ResendRequest gets the
// reports again from the session's ring store, marked PossDup (43=Y).
func TestResendFromRingStore(t *testing.T) {
	_, cfg := startVenue(t, venueOpts{})
	conn, err := net.Dial("tcp", cfg.FIX.OrderEntryAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	seq := 0
	send := func(msgType, body string) {
		seq++
		h := fmt.Sprintf("35=%s\x0149=FIRM_A\x0156=VENUE\x0134=%d\x0152=%s\x01", msgType, seq, time.Now().UTC().Format("20060102-15:04:05.000"))
		if _, err := conn.Write(frame(h + body)); err != nil {
			t.Fatal(err)
		}
	}
	var buf []byte
	next := func(conds ...string) fixMsg {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		tmp := make([]byte, 4096)
		for {
			for {
				i := strings.Index(string(buf), "\x0110=")
				if i < 0 || len(buf) < i+8 {
					break
				}
				m := fixMsg{}
				for _, part := range strings.Split(string(buf[:i+8]), "\x01") {
					if k, v, ok := strings.Cut(part, "="); ok {
						var tag int
						fmt.Sscan(k, &tag)
						m[tag] = v
					}
				}
				buf = buf[i+8:]
				if matches(m, conds) {
					return m
				}
			}
			n, err := conn.Read(tmp)
			if err != nil {
				t.Fatalf("waiting for %v: %v", conds, err)
			}
			buf = append(buf, tmp[:n]...)
		}
	}
	send("A", "98=0\x01108=30\x01141=Y\x01553=FIRM_A\x01554=firm_a\x01")
	next("35=A")
	send("D", "11=rs1\x0155=BTC-USD\x0154=1\x0160=20260101-00:00:00\x0138=0.01\x0140=2\x0144=59000\x01")
	ack := next("35=8", "11=rs1")
	send("2", "7=2\x0116=0\x01")
	again := next("35=8", "11=rs1", "43=Y")
	if again[17] != ack[17] || again[34] != ack[34] {
		t.Fatalf("resent report %v, first %v", again, ack)
	}
}

// iocs are n IOC buys of FIRM_A's session (1, account 2) far below the
// market, ClOrdIDs prefix+from.., each an ack and a cancel.
func iocs(prefix string, from, n int) []matching.Command {
	out := make([]matching.Command, n)
	for i := range out {
		out[i] = matching.Command{Kind: matching.CmdNewOrder, Session: 1, Firm: 1, Account: 2, Symbol: 1,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.IOC, Px: 5_000_000, Qty: 10_000,
			ClOrdID: prefix + strconv.Itoa(from+i)}
	}
	return out
}
