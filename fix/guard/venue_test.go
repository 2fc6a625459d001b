package guard

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The end-to-end tests run a real quickfixgo v0.9.10 acceptor on loopback
// and drive it with raw FIX over TCP, so they can send what no FIX engine
// would.

// venueConfig shapes one test acceptor.
type venueConfig struct {
	sender      string   // the acceptor's CompID; "" is VENUE
	sessions    []string // TargetCompIDs
	dict        bool     // validate with quickfixgo's FIX44.xml, as the venue will with its own
	unguarded   bool     // clients connect to the acceptor directly
	proxyHeader bool     // proxy sends PROXY v1, acceptor runs UseTCPProxy=Y
	opts        Options
	log         *zap.Logger // nil: an observer at warn, kept in venue.logs
}

type venue struct {
	acc   *quickfix.Acceptor
	addr  string // where clients connect
	ln    *Listener
	proxy *Proxy
	logs  *observer.ObservedLogs
}

// startVenue starts an acceptor, and unless unguarded the guard proxy in
// front of it; both stop when the test ends.
func startVenue(t testing.TB, cfg venueConfig) *venue {
	t.Helper()
	port := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "[DEFAULT]\nSocketAcceptHost=127.0.0.1\nSocketAcceptPort=%d\n", port)
	sender := cfg.sender
	if sender == "" {
		sender = "VENUE"
	}
	fmt.Fprintf(&b, "BeginString=FIX.4.4\nSenderCompID=%s\nResetOnLogon=Y\nHeartBtInt=30\nLogoutTimeout=1\n", sender)
	if cfg.dict {
		fmt.Fprintf(&b, "DataDictionary=%s\n", fix44Dictionary(t))
	} else {
		b.WriteString("UseDataDictionary=N\n")
	}
	if cfg.proxyHeader {
		b.WriteString("UseTCPProxy=Y\n")
	}
	for _, s := range cfg.sessions {
		fmt.Fprintf(&b, "[SESSION]\nTargetCompID=%s\n", s)
	}
	settings, err := quickfix.ParseSettings(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	acc, err := quickfix.NewAcceptor(&echoApp{}, quickfix.NewMemoryStoreFactory(), settings, quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatalf("acceptor: %v", err)
	}
	if err := acc.Start(); err != nil {
		t.Fatalf("acceptor start: %v", err)
	}
	v := &venue{acc: acc, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	t.Cleanup(acc.Stop)
	if cfg.unguarded {
		return v
	}

	log := cfg.log
	if log == nil {
		core, logs := observer.New(zapcore.WarnLevel)
		log, v.logs = zap.New(core), logs
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v.ln = Listen(inner, cfg.opts, log)
	v.proxy = NewProxy(v.ln, ProxyOptions{Upstream: v.addr, SendProxyHeader: cfg.proxyHeader}, log)
	served := make(chan error, 1)
	go func() { served <- v.proxy.Serve() }()
	t.Cleanup(func() {
		_ = v.proxy.Close()
		if err := <-served; err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	v.addr = v.ln.Addr().String()
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	dictOnce sync.Once
	dictPath string
	dictErr  error
)

// fix44Dictionary is quickfixgo's own FIX44.xml from the module cache.
func fix44Dictionary(t testing.TB) string {
	t.Helper()
	dictOnce.Do(func() {
		if p := os.Getenv("GUARD_TEST_FIX44"); p != "" {
			dictPath = p
			return
		}
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/quickfixgo/quickfix").Output()
		if err != nil {
			dictErr = fmt.Errorf("go list quickfixgo: %w", err)
			return
		}
		dictPath = filepath.Join(strings.TrimSpace(string(out)), "spec", "FIX44.xml")
		_, dictErr = os.Stat(dictPath)
	})
	if dictErr != nil {
		t.Fatalf("FIX44.xml: %v", dictErr)
	}
	return dictPath
}

// echoApp answers each NewOrderSingle (and SecurityDefinition) with a copy
// of it, the way quickfixgo's acceptance-test server does, including its
// handling of PossResend: a resent order it has seen is not answered again.
// It stands in for the engine.
type echoApp struct {
	mu   sync.Mutex
	seen map[string]bool // SessionID + ClOrdID
}

func (a *echoApp) OnCreate(quickfix.SessionID) {}
func (a *echoApp) OnLogon(quickfix.SessionID) {
	a.mu.Lock()
	a.seen = make(map[string]bool)
	a.mu.Unlock()
}
func (a *echoApp) OnLogout(quickfix.SessionID)                   {}
func (a *echoApp) ToAdmin(*quickfix.Message, quickfix.SessionID) {}
func (a *echoApp) ToApp(*quickfix.Message, quickfix.SessionID) error {
	return nil
}
func (a *echoApp) FromAdmin(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}
func (a *echoApp) FromApp(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	if !msg.IsMsgTypeOf("D") && !msg.IsMsgTypeOf("d") {
		return quickfix.UnsupportedMessageType()
	}
	possResend, _ := msg.Header.GetBool(97)
	if clOrdID, err := msg.Body.GetString(11); err == nil {
		key := id.String() + clOrdID
		a.mu.Lock()
		seen := a.seen[key]
		if a.seen == nil {
			a.seen = make(map[string]bool)
		}
		a.seen[key] = true
		a.mu.Unlock()
		if possResend && seen {
			return nil
		}
	}
	msgType, _ := msg.MsgType()
	msg.Header.Clear()
	msg.Trailer.Clear()
	msg.Header.SetString(35, msgType)
	if possResend {
		msg.Header.SetBool(97, true)
	}
	_ = quickfix.SendToTarget(msg, id)
	return nil
}

// client is a raw FIX client: it writes whatever bytes a test wants.
type client struct {
	t    testing.TB
	conn net.Conn
	sc   *Scanner
	comp string
	seq  int // MsgSeqNum of the next message
}

func dial(t testing.TB, addr, comp string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, sc: NewScanner(conn, Options{}), comp: comp, seq: 1}
}

// header is the standard header after MsgType for the next message.
func (c *client) header() string {
	return fmt.Sprintf("34=%d|49=%s|52=%s|56=VENUE|", c.seq, c.comp, now())
}

// msg builds the next message of type msgType with body fields and counts it.
func (c *client) msg(msgType, body string) []byte {
	f := frameOf("35=" + msgType + "|" + c.header() + body)
	c.seq++
	return f
}

func (c *client) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.conn.Write(b)
	return err
}

func (c *client) send(msgType, body string) {
	c.t.Helper()
	if err := c.write(c.msg(msgType, body)); err != nil {
		c.t.Fatalf("%s: write: %v", c.comp, err)
	}
}

func logonBody() string { return "98=0|108=30|141=Y|" }

// logon logs on with ResetSeqNumFlag and waits for the answer.
func (c *client) logon() {
	c.t.Helper()
	c.send("A", logonBody())
	c.expect("A", 5*time.Second)
}

// tryLogon logs on and reports whether the venue answered with a Logon.
func (c *client) tryLogon() error {
	if err := c.write(c.msg("A", logonBody())); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fields, err := c.read(time.Until(deadline))
		if err != nil {
			return err
		}
		if field(fields, "35") == "A" {
			return nil
		}
	}
}

// dialLogon connects and logs on, retrying while quickfixgo still holds the
// session's previous connection (it refuses a second one until it has seen
// the first one close).
func dialLogon(t testing.TB, addr, comp string) *client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial(t, addr, comp)
		err := c.tryLogon()
		if err == nil {
			return c
		}
		c.conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s: logon: %v", comp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// read returns the next frame from the venue as tag=value pairs in order.
func (c *client) read(timeout time.Duration) ([][2]string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	frame, err := c.sc.Next()
	if err != nil {
		return nil, err
	}
	var fields [][2]string
	for _, f := range strings.Split(strings.TrimSuffix(string(frame), "\x01"), "\x01") {
		tag, val, _ := strings.Cut(f, "=")
		fields = append(fields, [2]string{tag, val})
	}
	return fields, nil
}

func field(fields [][2]string, tag string) string {
	for _, f := range fields {
		if f[0] == tag {
			return f[1]
		}
	}
	return ""
}

// expect reads until a message of msgType arrives, skipping heartbeats and
// resend requests the test did not ask for.
func (c *client) expect(msgType string, timeout time.Duration) [][2]string {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		fields, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("%s: waiting for 35=%s: %v", c.comp, msgType, err)
		}
		if field(fields, "35") == msgType {
			return fields
		}
	}
}

// expectClosed reads until the venue closes the connection.
func (c *client) expectClosed(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.read(time.Until(deadline))
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("%s: connection still open after %v", c.comp, timeout)
		}
		return
	}
}

// roundTrip proves a session is served: a TestRequest gets its Heartbeat and
// a NewOrderSingle its echo.
func (c *client) roundTrip(id string) error {
	if err := c.write(c.msg("1", "112="+id+"|")); err != nil {
		return err
	}
	if err := c.await("0", "112", id); err != nil {
		return fmt.Errorf("heartbeat for %s: %w", id, err)
	}
	if err := c.write(c.msg("D", "11="+id+"|21=1|38=1|40=1|54=1|55=BTC-USD|60="+now()+"|")); err != nil {
		return err
	}
	if err := c.await("D", "11", id); err != nil {
		return fmt.Errorf("order echo for %s: %w", id, err)
	}
	return nil
}

// await reads until a message of msgType with tag=val arrives.
func (c *client) await(msgType, tag, val string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		fields, err := c.read(time.Until(deadline))
		if err != nil {
			return err
		}
		if field(fields, "35") == msgType && field(fields, tag) == val {
			return nil
		}
		if t := field(fields, "35"); t == "3" || t == "5" || t == "j" {
			return fmt.Errorf("got 35=%s 58=%q", t, field(fields, "58"))
		}
	}
}

// crasher is a frame that ends a quickfixgo v0.9.10 process when a
// logged-on session sends it, and where it panics.
type crasher struct {
	name  string
	dict  bool   // crashes with the data dictionary on, as the venue runs
	logon bool   // the frame is the Logon itself
	body  string // after MsgType and the header, for frameOf; "" when raw is set
	raw   func(c *client) []byte
	sites []string // file:line of the panic and its caller in third_party/quickfix (v0.9.10 patched: message.go +25, session.go +17 lines)
	rule  error    // what the guard says
}

var crashers = []crasher{
	{name: "empty MsgSeqNum", dict: true, sites: []string{"fix_int.go:34", "session.go:661"}, rule: ErrEmptyValue,
		raw: func(c *client) []byte {
			return frameOf("35=1|34=|49=" + c.comp + "|52=" + now() + "|56=VENUE|112=x|")
		}},
	{name: "huge BodyLength", dict: true, sites: []string{"parser.go:83", "connection.go:37"}, rule: ErrBodyLength,
		raw: func(*client) []byte { return rawFrame("8=FIX.4.4|9=9223372036854775800|35=0|10=000|") }},
	{name: "huge XmlDataLen", dict: true, sites: []string{"message.go:578", "message.go:265"}, rule: ErrBadLength,
		body: "212=999999|213=<a/>|112=x|"},
	{name: "empty XmlDataLen", dict: true, sites: []string{"fix_int.go:34", "message.go:297"}, rule: ErrEmptyValue,
		body: "212=|213=<a/>|112=x|"},
	{name: "XmlDataLen short of XmlData", dict: true, sites: []string{"message.go:263"}, rule: ErrDataField,
		body: "212=2|213=abX5=c|112=x|"},
	{name: "empty second BodyLength", dict: true, sites: []string{"fix_int.go:34", "message.go:322"}, rule: ErrMisplacedTag,
		body: "112=x|9=|"},
	{name: "empty NewSeqNo", sites: []string{"fix_int.go:34", "in_session.go:162"}, rule: ErrEmptyValue,
		raw: func(c *client) []byte { return c.msg("4", "36=|") }},
	{name: "empty BeginSeqNo", sites: []string{"fix_int.go:34", "in_session.go:188"}, rule: ErrEmptyValue,
		raw: func(c *client) []byte { return c.msg("2", "7=|16=0|") }},
	{name: "empty HeartBtInt in Logon", logon: true, sites: []string{"fix_int.go:34", "session.go:532"}, rule: ErrEmptyValue,
		raw: func(c *client) []byte { return c.msg("A", "98=0|108=|141=Y|") }},
}

func (k crasher) frame(c *client) []byte {
	if k.raw != nil {
		return k.raw(c)
	}
	return c.msg("1", k.body)
}

// The child half of TestCrashersKillUnguardedQuickfixgo: with
// GUARD_CRASH_CHILD set to a crasher's name it runs an unguarded acceptor,
// sends that crasher from a logged-on session and, if the process is still
// alive two seconds later, says so and exits cleanly.
func TestCrasherChild(t *testing.T) {
	name := os.Getenv("GUARD_CRASH_CHILD")
	if name == "" {
		t.Skip("runs only as the child process of TestCrashersKillUnguardedQuickfixgo")
	}
	var k crasher
	for _, c := range crashers {
		if c.name == name {
			k = c
		}
	}
	if k.name == "" {
		t.Fatalf("no crasher %q", name)
	}
	v := startVenue(t, venueConfig{sessions: []string{"CHILD"}, dict: k.dict, unguarded: true})
	c := dial(t, v.addr, "CHILD")
	if !k.logon {
		c.logon()
	}
	if err := c.write(k.frame(c)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	fmt.Println("STILL ALIVE")
}

// TestCrashersKillUnguardedQuickfixgo proves every crasher really ends a
// quickfixgo v0.9.10 process, at the line the guard's comments name, so the
// guarded tests below would fail if the guard let one through.
func TestCrashersKillUnguardedQuickfixgo(t *testing.T) {
	if os.Getenv("GUARD_CRASH_CHILD") != "" {
		t.Skip("child process")
	}
	dict := fix44Dictionary(t)
	for _, k := range crashers {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrasherChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "GUARD_CRASH_CHILD="+k.name, "GUARD_TEST_FIX44="+dict)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child did not die (err %v):\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "panic: runtime error") {
				t.Fatalf("child exited %d without a panic:\n%s", exit.ExitCode(), out.String())
			}
			for _, site := range k.sites {
				// quickfixgo is the venue's patched copy of v0.9.10
				// (third_party/quickfix, same line numbers in these files).
				if site = "third_party/quickfix/" + site; !strings.Contains(out.String(), site+" ") {
					t.Fatalf("child panicked, but not through %s:\n%s", site, out.String())
				}
			}
		})
	}
}

// TestCrashersGuarded sends every crasher through the guard from a
// logged-on session while another session trades: the crasher's connection
// is cut with a logged reason, the process lives, the other session is
// served, and the crasher's session logs on again.
func TestCrashersGuarded(t *testing.T) {
	for _, dict := range []bool{true, false} {
		t.Run(fmt.Sprintf("dictionary=%v", dict), func(t *testing.T) {
			id := map[bool]string{true: "D", false: "N"}[dict]
			victimID, attackerID := "VICTIM_"+id, "ATTACKER_"+id
			v := startVenue(t, venueConfig{sessions: []string{victimID, attackerID}, dict: dict})
			victim := dial(t, v.addr, victimID)
			victim.logon()
			for i, k := range crashers {
				var a *client
				if k.logon {
					a = dial(t, v.addr, attackerID)
				} else {
					a = dialLogon(t, v.addr, attackerID)
				}
				if err := a.write(k.frame(a)); err != nil {
					t.Fatalf("%s: write: %v", k.name, err)
				}
				a.expectClosed(5 * time.Second)
				if err := victim.roundTrip(fmt.Sprintf("after-%d", i)); err != nil {
					t.Fatalf("%s: victim: %v", k.name, err)
				}
				wantCutLogged(t, v.logs, k.rule)
			}
			// The attacker is not locked out; the guard cut only connections.
			a := dialLogon(t, v.addr, attackerID)
			if err := a.roundTrip("back"); err != nil {
				t.Fatalf("attacker after cuts: %v", err)
			}
		})
	}
}

// wantCutLogged finds the warn line of the last cut and checks its rule.
func wantCutLogged(t *testing.T, logs *observer.ObservedLogs, rule error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		entries := logs.FilterField(zap.String("action", "cut")).AllUntimed()
		if n := len(entries); n > 0 {
			last := entries[n-1]
			if last.Level != zapcore.WarnLevel {
				t.Fatalf("cut logged at %v, want warn", last.Level)
			}
			if got := last.ContextMap()["rule"]; got != rule.Error() {
				t.Fatalf("cut logged rule %q, want %q", got, rule.Error())
			}
			logs.TakeAll()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no cut logged")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProxyHeaderKeepsClientAddress runs the acceptor with UseTCPProxy=Y
// behind a proxy that sends PROXY v1: quickfixgo reports the client's own
// address, not the proxy's.
func TestProxyHeaderKeepsClientAddress(t *testing.T) {
	v := startVenue(t, venueConfig{sessions: []string{"PROXIED"}, proxyHeader: true})
	c := dial(t, v.addr, "PROXIED")
	c.logon()
	if err := c.roundTrip("1"); err != nil {
		t.Fatal(err)
	}
	id := quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: "VENUE", TargetCompID: "PROXIED"}
	got, ok := v.acc.RemoteAddr(id)
	if !ok {
		t.Fatal("acceptor has no remote address for the session")
	}
	if want := c.conn.LocalAddr().String(); got.String() != want {
		t.Fatalf("acceptor sees %s, want the client's %s", got, want)
	}
}
