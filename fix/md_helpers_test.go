package fix_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"golang.org/x/crypto/bcrypt"

	"venue/fix"
	"venue/matching"
	"venue/sequencer"
	"venue/server"
)

// Market-data test helpers: a quickfixgo initiator that keeps each
// message's fields in order (W and X carry repeating groups), a client-side
// book rebuilt from W and X, and a generator of engine commands.

// mdMsg is a received message: body fields, and the entries of its
// NoMDEntries group in order (an X entry starts at 279, a W entry at 269).
type mdMsg struct {
	typ     string
	body    map[int]string
	entries []map[int]string
}

func parseMD(raw string) *mdMsg {
	m := &mdMsg{body: map[int]string{}}
	delim := 0
	for _, part := range strings.Split(raw, "\x01") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		tag, _ := strconv.Atoi(k)
		switch {
		case tag == 35:
			m.typ = v
			m.body[tag] = v
		case tag == 268:
			m.body[tag] = v
			delim = 269
			if m.typ == "X" {
				delim = 279
			}
		case delim != 0 && tag == delim:
			m.entries = append(m.entries, map[int]string{tag: v})
		case delim != 0 && tag != 10 && len(m.entries) > 0:
			m.entries[len(m.entries)-1][tag] = v
		default:
			m.body[tag] = v
		}
	}
	return m
}

// mdClient is a quickfixgo initiator on the market-data port.
type mdClient struct {
	t        testing.TB
	comp     string
	password string
	id       quickfix.SessionID
	init     *quickfix.Initiator
	in       chan *mdMsg
	logons   chan struct{}
	logouts  chan string

	mu      sync.Mutex
	rejects []string // session-level rejects the client sent: the venue's message broke the dictionary
}

func (c *mdClient) OnCreate(quickfix.SessionID) {}
func (c *mdClient) OnLogon(quickfix.SessionID) {
	select {
	case c.logons <- struct{}{}:
	default:
	}
}
func (c *mdClient) OnLogout(quickfix.SessionID) {}
func (c *mdClient) ToAdmin(msg *quickfix.Message, _ quickfix.SessionID) {
	switch mt, _ := msg.Header.GetString(35); mt {
	case "A":
		msg.Body.SetString(553, c.comp)
		msg.Body.SetString(554, c.password)
	case "3":
		c.mu.Lock()
		c.rejects = append(c.rejects, msg.String())
		c.mu.Unlock()
	}
}
func (c *mdClient) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (c *mdClient) FromAdmin(msg *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if mt, _ := msg.Header.GetString(35); mt == "5" {
		text, _ := msg.Body.GetString(58)
		select {
		case c.logouts <- text:
		default:
		}
	}
	return nil
}
func (c *mdClient) FromApp(msg *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	c.in <- parseMD(msg.String())
	return nil
}

func newMDClient(t testing.TB, addr, comp, password string) *mdClient {
	t.Helper()
	c := &mdClient{t: t, comp: comp, password: password,
		id:     quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: comp, TargetCompID: "VENUE"},
		in:     make(chan *mdMsg, 1<<17),
		logons: make(chan struct{}, 1), logouts: make(chan string, 16)}
	c.init = newInitiator(t, c, addr, comp, map[string]string{"ResetOnLogon": "Y"}, nil)
	return c
}

// mdLogon connects comp (password: the CompID in lower case) and waits
// for its Logon.
func mdLogon(t testing.TB, addr, comp string) *mdClient {
	t.Helper()
	c := newMDClient(t, addr, comp, strings.ToLower(comp))
	if err := c.init.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.init.Stop)
	select {
	case <-c.logons:
	case text := <-c.logouts:
		t.Fatalf("%s: logon refused: %s", comp, text)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no logon", comp)
	}
	return c
}

// send sends msgType with "tag=value" fields in the order given (groups
// included), as a raw body quickfixgo passes through.
func (c *mdClient) send(msgType string, fields ...string) {
	c.t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(35, msgType)
	// Repeating groups: quickfixgo keeps one value per tag in a FieldMap,
	// so build each group with a RepeatingGroup.
	var plain []string
	for i := 0; i < len(fields); i++ {
		k, v, _ := strings.Cut(fields[i], "=")
		tag, _ := strconv.Atoi(k)
		if tag == 267 || tag == 146 {
			n, _ := strconv.Atoi(v)
			elem := quickfix.Tag(269)
			if tag == 146 {
				elem = 55
			}
			grp := quickfix.NewRepeatingGroup(quickfix.Tag(tag), quickfix.GroupTemplate{quickfix.GroupElement(elem)})
			for j := 0; j < n; j++ {
				i++
				_, ev, _ := strings.Cut(fields[i], "=")
				grp.Add().SetString(elem, ev)
			}
			m.Body.SetGroup(grp)
			continue
		}
		plain = append(plain, fields[i])
	}
	for _, f := range plain {
		k, v, _ := strings.Cut(f, "=")
		tag, _ := strconv.Atoi(k)
		m.Body.SetString(quickfix.Tag(tag), v)
	}
	if err := quickfix.SendToTarget(m, c.id); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// subscribe sends a MarketDataRequest: sub 263, depth 264, entry types,
// symbols.
func (c *mdClient) subscribe(reqID, sub string, depth int, types []string, symbols ...string) {
	c.t.Helper()
	f := []string{"262=" + reqID, "263=" + sub, "264=" + strconv.Itoa(depth)}
	if sub == "1" {
		f = append(f, "265=1")
	}
	f = append(f, "267="+strconv.Itoa(len(types)))
	for _, t := range types {
		f = append(f, "269="+t)
	}
	f = append(f, "146="+strconv.Itoa(len(symbols)))
	for _, s := range symbols {
		f = append(f, "55="+s)
	}
	c.send("V", f...)
}

// expect returns the next message whose body matches every "tag=value",
// skipping others.
func (c *mdClient) expect(conds ...string) *mdMsg {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.in:
			if mdMatches(m.body, conds) {
				return m
			}
		case <-deadline:
			c.mu.Lock()
			rej := c.rejects
			c.mu.Unlock()
			c.t.Fatalf("%s: no message with %v (client rejects: %v)", c.comp, conds, rej)
			return nil
		}
	}
}

// quiet fails if a message matching conds arrives within d.
func (c *mdClient) quiet(d time.Duration, conds ...string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.in:
			if mdMatches(m.body, conds) {
				c.t.Fatalf("%s: unexpected %v %v", c.comp, m.body, m.entries)
			}
		case <-deadline:
			return
		}
	}
}

func mdMatches(body map[int]string, conds []string) bool {
	for _, cond := range conds {
		k, v, _ := strings.Cut(cond, "=")
		tag, _ := strconv.Atoi(k)
		if body[tag] != v {
			return false
		}
	}
	return true
}

// clientBook is a book rebuilt from one subscription's W and X, checking
// every rule a client relies on as it goes: RptSeq +1 per entry, 279=0
// only for a price it does not hold, 279=1/2 only for one it does, at most
// depth levels per side.
type clientBook struct {
	mu     sync.Mutex
	depth  int
	sides  [2]map[string]string // price -> size
	rpt    uint64
	snap   bool
	trades int
	xs     int
	errs   []string
}

func newClientBook(depth int) *clientBook {
	return &clientBook{depth: depth, sides: [2]map[string]string{{}, {}}}
}

func (b *clientBook) fail(format string, args ...any) {
	if len(b.errs) < 20 {
		b.errs = append(b.errs, fmt.Sprintf(format, args...))
	}
}

func (b *clientBook) apply(m *mdMsg) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m.typ {
	case "W":
		b.sides = [2]map[string]string{{}, {}}
		for _, e := range m.entries {
			i, _ := strconv.Atoi(e[269])
			if i > 1 {
				b.fail("W entry type %s", e[269])
				continue
			}
			b.sides[i][e[270]] = e[271]
		}
		n, err := strconv.ParseUint(m.body[83], 10, 64)
		if err != nil {
			b.fail("W without RptSeq: %v", m.body)
		}
		b.rpt, b.snap = n, true
	case "X":
		if !b.snap {
			b.fail("X before W")
		}
		b.xs++
		for _, e := range m.entries {
			n, _ := strconv.ParseUint(e[83], 10, 64)
			if n != b.rpt+1 {
				b.fail("RptSeq %s after %d", e[83], b.rpt)
			}
			b.rpt = n
			if e[269] == "2" {
				b.trades++
				if e[54] != "1" && e[54] != "2" || e[270] == "" || e[271] == "" || e[272] == "" || e[273] == "" {
					b.fail("trade entry %v", e)
				}
				continue
			}
			i, _ := strconv.Atoi(e[269])
			side := b.sides[i]
			_, have := side[e[270]]
			switch e[279] {
			case "0":
				if have {
					b.fail("279=0 for a level held: %v", e)
				}
				side[e[270]] = e[271]
			case "1":
				if !have {
					b.fail("279=1 for a level not held: %v", e)
				}
				side[e[270]] = e[271]
			case "2":
				if !have {
					b.fail("279=2 for a level not held: %v", e)
				}
				delete(side, e[270])
			}
		}
		if b.depth > 0 && (len(b.sides[0]) > b.depth || len(b.sides[1]) > b.depth) {
			b.fail("%d bids, %d offers at depth %d", len(b.sides[0]), len(b.sides[1]), b.depth)
		}
	}
}

// follow applies every W and X of c to b until c's channel is drained
// and stop is closed.
func (b *clientBook) follow(c *mdClient, stop <-chan struct{}) {
	for {
		select {
		case m := <-c.in:
			b.apply(m)
		case <-stop:
			return
		}
	}
}

// engineBook is the engine's book as a client holds it. Call it only while
// the sequencer is idle.
func engineBook(srv *server.Server, depth int) [2]map[string]string {
	sym, _ := srv.Universe.SymbolByID(1)
	bids, asks := srv.Engine.Book(1, depth)
	out := [2]map[string]string{{}, {}}
	for i, ls := range [2][]matching.Level{bids, asks} {
		for _, l := range ls {
			out[i][sym.PxDec(l.Px).String()] = sym.QtyDec(l.Qty).String()
		}
	}
	return out
}

func sameBook(a, b [2]map[string]string) bool {
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for px, q := range a[i] {
			if b[i][px] != q {
				return false
			}
		}
	}
	return true
}

// converge waits until b equals want.
func (b *clientBook) converge(t testing.TB, name string, want [2]map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.mu.Lock()
		ok := sameBook(b.sides, want)
		errs := b.errs
		got := b.sides
		b.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("%s: %v", name, errs)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: book never matched the engine's:\n got %d bids %d offers\nwant %d bids %d offers", name,
				len(got[0]), len(got[1]), len(want[0]), len(want[1]))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// orderGen generates limit orders and cancels from the dev accounts 2, 3
// and 4 on symbol 1 around 60,000.00, and submits them straight to the
// sequencer with a bounded number in flight.
type orderGen struct {
	srv  *server.Server
	rng  *rand.Rand
	n    int
	live [5][]string // ClOrdIDs per account that may still rest
}

func newOrderGen(srv *server.Server, seed int64) *orderGen {
	return &orderGen{srv: srv, rng: rand.New(rand.NewSource(seed))}
}

func (g *orderGen) next() matching.Command {
	g.n++
	acct := matching.AccountID(2 + g.rng.Intn(3))
	cmd := matching.Command{Session: matching.SessionID(900 + acct), Firm: matching.FirmID(acct - 1), Account: acct}
	live := &g.live[acct]
	if len(*live) == 0 || g.rng.Intn(100) < 62 {
		const mid = 6_000_000
		cmd.Kind, cmd.Symbol, cmd.Type, cmd.TIF = matching.CmdNewOrder, 1, matching.Limit, matching.GTC
		if g.rng.Intn(2) == 0 {
			cmd.Side, cmd.Px = matching.Buy, mid+20-int64(g.rng.Intn(200))
		} else {
			cmd.Side, cmd.Px = matching.Sell, mid-20+int64(g.rng.Intn(200))
		}
		cmd.Qty = 10_000 * (1 + g.rng.Int63n(50))
		cmd.ClOrdID = "g" + strconv.Itoa(g.n)
		*live = append(*live, cmd.ClOrdID)
		if len(*live) > 4000 {
			*live = (*live)[1000:]
		}
		return cmd
	}
	j := g.rng.Intn(len(*live))
	cmd.Kind, cmd.OrigClOrdID, cmd.ClOrdID = matching.CmdCancel, (*live)[j], "c"+strconv.Itoa(g.n)
	(*live)[j] = (*live)[len(*live)-1]
	*live = (*live)[:len(*live)-1]
	return cmd
}

// run submits n commands, at most window in flight, and returns when the
// last one is applied: the sequencer is then idle (nothing else submits in
// these tests) and the engine may be read.
func (g *orderGen) run(t testing.TB, n, window int) {
	sem := make(chan struct{}, window)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		cmd := g.next()
		sem <- struct{}{}
		wg.Add(1)
		for {
			err := g.srv.Seq.SubmitAsync(&cmd, func(sequencer.Result) { <-sem; wg.Done() })
			if err == nil {
				break
			}
			if err != sequencer.ErrQueueFull {
				t.Fatalf("submit: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	// One synchronous command more: its result orders the test after
	// every Apply before it (the engine may be read from here).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := g.srv.Seq.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); err != nil {
		t.Fatal(err)
	}
}

func bcryptHash(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), 4)
}

// fixFrame is one FIX 4.4 frame from comp with MsgSeqNum seq; body is
// "35=...\x01" and the rest without the header.
func fixFrame(comp string, seq int, msgType, body string) []byte {
	b := fmt.Sprintf("35=%s\x0149=%s\x0156=VENUE\x0134=%d\x0152=%s\x01%s",
		msgType, comp, seq, time.Now().UTC().Format("20060102-15:04:05.000"), body)
	head := fmt.Sprintf("8=FIX.4.4\x019=%d\x01", len(b))
	sum := 0
	for _, c := range []byte(head + b) {
		sum += int(c)
	}
	return []byte(fmt.Sprintf("%s%s10=%03d\x01", head, b, sum%256))
}

// rawMD is a market-data session over a plain TCP connection, for
// readers that do not read (or only discard).
type rawMD struct {
	conn net.Conn
	comp string
	seq  int
}

// rawLogonNoFail logs comp on over a plain connection and returns the
// MsgType of the answer ("" when the venue closed without one).
func rawLogonNoFail(t testing.TB, addr, comp, password string) string {
	r, typ := dialRawMD(t, addr, comp, password)
	if r != nil {
		r.conn.Close()
	}
	return typ
}

func dialRawMD(t testing.TB, addr, comp, password string) (*rawMD, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawMD{conn: conn, comp: comp, seq: 1}
	if _, err := conn.Write(fixFrame(comp, 1, "A", fmt.Sprintf("98=0\x01108=30\x01141=Y\x01553=%s\x01554=%s\x01", comp, password))); err != nil {
		t.Fatal(err)
	}
	// quickfixgo parses the data dictionary for every new dynamic session
	// (about 0.1 s of CPU): many logons at once take a while.
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := strings.Index(string(buf), "\x0135="); i >= 0 {
			if j := strings.Index(string(buf[i:]), "\x0110="); j >= 0 {
				typ, _, _ := strings.Cut(string(buf[i+4:]), "\x01")
				_ = conn.SetReadDeadline(time.Time{})
				return r, typ
			}
		}
		if err != nil {
			conn.Close()
			return nil, ""
		}
	}
}

// subscribe sends a full-book MarketDataRequest for BTC-USD.
func (r *rawMD) subscribe(t testing.TB, reqID, sub string) {
	t.Helper()
	r.seq++
	body := fmt.Sprintf("146=1\x0155=BTC-USD\x01262=%s\x01263=%s\x01264=0\x01267=3\x01269=0\x01269=1\x01269=2\x01", reqID, sub)
	if _, err := r.conn.Write(fixFrame(r.comp, r.seq, "V", body)); err != nil {
		t.Fatal(err)
	}
}

func waitForLong(t testing.TB, what string, ok func() bool) {
	t.Helper()
	fix.PollUntil(t, 60*time.Second, what, ok)
}

// submitAll submits cmds straight to the sequencer as fast as it takes
// them (waiting a millisecond when its queue is full) and returns their
// results, in the order they completed, once every one is durable; a
// refused command fails the test.
func submitAll(t testing.TB, srv *server.Server, cmds []matching.Command) []sequencer.Result {
	t.Helper()
	done := make(chan sequencer.Result, len(cmds))
	for i := range cmds {
		for {
			err := srv.Seq.SubmitAsync(&cmds[i], func(r sequencer.Result) { done <- r })
			if err == nil {
				break
			}
			if !errors.Is(err, sequencer.ErrQueueFull) {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	out := make([]sequencer.Result, 0, len(cmds))
	for range cmds {
		r := <-done
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out = append(out, r)
	}
	return out
}
