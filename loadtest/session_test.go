package loadtest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeVenue is a minimal FIX acceptor for the client's own tests: it
// answers Logon, acknowledges GTC orders (150=0), fills IOC orders at once
// (150=F 39=2 851=2, no 150=0 first), confirms cancels (150=4), sends a
// TestRequest after Logon and remembers the Heartbeat that answers it.
type fakeVenue struct {
	ln         net.Listener
	refuse     bool // answer Logon with Logout
	mute       bool // after Logon, read nothing and answer nothing
	rejectNth  int  // answer every n-th order with a session-level 35=3
	testReqOK  atomic.Bool
	logouts    atomic.Int64
	ordersSeen atomic.Int64
	wg         sync.WaitGroup
	quit       chan struct{}
}

func newFakeVenue(t *testing.T) *fakeVenue {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v := &fakeVenue{ln: ln, quit: make(chan struct{})}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			v.wg.Add(1)
			go func() { defer v.wg.Done(); v.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); close(v.quit); v.wg.Wait() })
	return v
}

func (v *fakeVenue) serve(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriter(c)
	var enc encoder
	send := func(msgType string, fields ...string) {
		enc.begin(msgType, time.Now())
		for _, f := range fields {
			enc.body = append(enc.body, f...)
			enc.body = append(enc.body, soh)
		}
		_, _ = w.Write(enc.finish())
	}
	buf := make([]byte, 0, 1<<16)
	var m message
	execID := 0
	for {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		off := 0
		for {
			fn, perr := parseFrame(buf[off:], &m)
			if perr != nil || fn == 0 {
				if perr != nil {
					return
				}
				break
			}
			off += fn
			switch string(m.msgType()) {
			case "A":
				enc = encoder{sender: "VENUE", target: string(m.get(49)), seq: 1}
				if v.refuse || string(m.get(554)) != strings.ToLower(string(m.get(553))) {
					send("5", "58=bad password")
					_ = w.Flush()
					return
				}
				send("A", "98=0", "108="+string(m.get(108)))
				if v.mute {
					_ = w.Flush()
					<-v.quit
					return
				}
				send("1", "112=ping")
			case "0":
				if string(m.get(112)) == "ping" {
					v.testReqOK.Store(true)
				}
			case "D":
				seen := v.ordersSeen.Add(1)
				execID++
				id := string(m.get(11))
				if v.rejectNth > 0 && seen%int64(v.rejectNth) == 0 {
					send("3", "45="+string(m.get(34)), "372=D", "373=10", "58=SendingTime accuracy problem")
				} else if string(m.get(59)) == "3" {
					send("8", "37=o"+id, "17=e"+itoa(execID), "11="+id, "150=F", "39=2", "55=BTC-USD",
						"54="+string(m.get(54)), "38="+string(m.get(38)), "14="+string(m.get(38)), "151=0",
						"31="+string(m.get(44)), "32="+string(m.get(38)), "851=2")
				} else {
					send("8", "37=o"+id, "17=e"+itoa(execID), "11="+id, "150=0", "39=0", "55=BTC-USD",
						"54="+string(m.get(54)), "38="+string(m.get(38)), "14=0", "151="+string(m.get(38)))
				}
			case "F":
				execID++
				send("8", "37=o"+string(m.get(41)), "17=e"+itoa(execID), "11="+string(m.get(11)),
					"41="+string(m.get(41)), "150=4", "39=4", "55=BTC-USD", "14=0", "151=0")
			case "5":
				v.logouts.Add(1)
				send("5")
				_ = w.Flush()
				return
			}
		}
		buf = append(buf[:0], buf[off:]...)
		if w.Flush() != nil || err != nil {
			return
		}
	}
}

func itoa(n int) string { return string(appendFixed(nil, int64(n), 0)) }

func fakeConfig(v *fakeVenue) Config {
	cfg := DefaultConfig()
	cfg.Addr = v.ln.Addr().String()
	cfg.CompIDs = []string{"FIRM_A", "FIRM_B"}
	cfg.Duration = 500 * time.Millisecond
	cfg.MaxResting = 20
	cfg.HeartBtInt = 1
	return cfg
}

// TestRunWindowFake runs the window mode against the fake venue: every
// order and cancel is answered, IOC fills count as trades, the TestRequest
// is answered, both sessions log out.
func TestRunWindowFake(t *testing.T) {
	v := newFakeVenue(t)
	cfg := fakeConfig(v)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Acks == 0 || res.Acks != res.OrdersSent || res.Unanswered != 0 {
		t.Fatalf("sent %d, acks %d, unanswered %d", res.OrdersSent, res.Acks, res.Unanswered)
	}
	if res.Acks != v.ordersSeen.Load() {
		t.Fatalf("acks %d, the venue saw %d orders", res.Acks, v.ordersSeen.Load())
	}
	if res.Trades == 0 || res.Trades != res.Fills || res.VolumeBTC.Sign() <= 0 || res.NotionalUSD.Sign() <= 0 {
		t.Fatalf("trades %d fills %d volume %s notional %s", res.Trades, res.Fills, res.VolumeBTC, res.NotionalUSD)
	}
	if res.CancelsSent == 0 || res.CancelsAnswered != res.CancelsSent {
		t.Fatalf("cancels sent %d answered %d (max resting %d)", res.CancelsSent, res.CancelsAnswered, cfg.MaxResting)
	}
	if n := res.UnexpectedRejects(); n != 0 || res.Stale != 0 || res.SeqGaps != 0 {
		t.Fatalf("unexpected rejects %d, stale %d, seq gaps %d", n, res.Stale, res.SeqGaps)
	}
	if res.Latency.Count != res.Acks || res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P999 {
		t.Fatalf("latency %+v", res.Latency)
	}
	if !v.testReqOK.Load() {
		t.Fatal("the TestRequest was not answered with its TestReqID")
	}
	if v.logouts.Load() != 2 {
		t.Fatalf("logouts %d, want 2", v.logouts.Load())
	}
}

// TestRunRateFake: the rate mode sends about rate x duration orders, and
// the order budget stops a run early.
func TestRunRateFake(t *testing.T) {
	v := newFakeVenue(t)
	cfg := fakeConfig(v)
	cfg.Rate = 2000
	cfg.Duration = time.Second
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OrdersSent < 1700 || res.OrdersSent > 2100 || res.Acks != res.OrdersSent {
		t.Fatalf("rate 2000/s for 1 s: sent %d, acks %d", res.OrdersSent, res.Acks)
	}
	// Every order sent has its lateness (schedule to write) measured,
	// and that lateness is part of its ack latency, never more.
	if l := res.SendLateness; l == nil || l.Count != res.OrdersSent || l.Max > res.Latency.Max {
		t.Fatalf("send lateness %+v for %d orders (ack latency max %.1f µs)", l, res.OrdersSent, res.Latency.Max)
	}

	cfg.Rate = 0
	cfg.Orders = 1000
	cfg.Duration = 10 * time.Second
	start := time.Now()
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OrdersSent < 1000 || res.OrdersSent > 1000+int64(len(cfg.CompIDs)) || time.Since(start) > 5*time.Second {
		t.Fatalf("--orders 1000: sent %d in %v", res.OrdersSent, time.Since(start))
	}
	if res.SendLateness != nil {
		t.Fatalf("window mode reports a send lateness: %+v", res.SendLateness)
	}
}

// TestRunVenueStopsReading: a venue that stops reading and answering
// does not hang the run, in either mode: blocked writes are cut, the
// unanswered orders are counted and enter the histogram at their age.
func TestRunVenueStopsReading(t *testing.T) {
	for _, rate := range []int{0, 500_000} {
		v := newFakeVenue(t)
		v.mute = true
		cfg := fakeConfig(v)
		cfg.Rate = rate
		cfg.DrainTimeout = 200 * time.Millisecond
		start := time.Now()
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("rate %d: %v", rate, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("rate %d: run took %v", rate, took)
		}
		if res.Acks != 0 || res.Unanswered == 0 || res.Unanswered != res.OrdersSent || res.Latency.Count != res.Unanswered {
			t.Fatalf("rate %d: sent %d acks %d unanswered %d latency count %d",
				rate, res.OrdersSent, res.Acks, res.Unanswered, res.Latency.Count)
		}
		if rate == 0 && res.OrdersSent != int64(cfg.Window*len(cfg.CompIDs)) {
			t.Fatalf("window %d x %d sessions: sent %d", cfg.Window, len(cfg.CompIDs), res.OrdersSent)
		}
	}
}

// TestRunSessionRejects: an order the venue rejects at the session level
// (35=3, no ExecutionReport) frees its window slot through RefSeqNum, so
// the run neither stalls nor counts it as acknowledged.
func TestRunSessionRejects(t *testing.T) {
	v := newFakeVenue(t)
	v.rejectNth = 7
	cfg := fakeConfig(v)
	cfg.Window = 4
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionRejects == 0 || res.Unanswered != 0 || res.Acks+res.SessionRejects != res.OrdersSent {
		t.Fatalf("sent %d, acks %d, session rejects %d, unanswered %d", res.OrdersSent, res.Acks, res.SessionRejects, res.Unanswered)
	}
	if res.OrdersSent < 100 {
		t.Fatalf("only %d orders sent in %v: the window stalled", res.OrdersSent, cfg.Duration)
	}
}

func TestRunLogonRefused(t *testing.T) {
	v := newFakeVenue(t)
	v.refuse = true
	_, err := Run(context.Background(), fakeConfig(v))
	if err == nil || !strings.Contains(err.Error(), "bad password") {
		t.Fatalf("err = %v, want the venue's reason", err)
	}
}

func TestRunNoVenue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := DefaultConfig()
	cfg.Addr = addr
	var opErr *net.OpError
	if _, err := Run(context.Background(), cfg); !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want a dial error", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"rate mode ignores window", func(c *Config) { c.Rate, c.Window = 10, 0 }, ""},
		{"no sessions", func(c *Config) { c.CompIDs = nil }, "sessions"},
		{"duplicate comp id", func(c *Config) { c.CompIDs = []string{"A", "A"} }, "twice"},
		{"bad comp id", func(c *Config) { c.CompIDs = []string{"A=B"} }, "forbidden"},
		{"window zero", func(c *Config) { c.Window = 0 }, "window"},
		{"duration zero", func(c *Config) { c.Duration = 0 }, "duration"},
		{"duration too long", func(c *Config) { c.Duration = MaxDuration + time.Second }, "duration"},
		{"rate too high", func(c *Config) { c.Rate = MaxRate + 1 }, "rate"},
		{"mix zero", func(c *Config) { c.Makers, c.Takers = 0, 0 }, "mix"},
		{"resting beyond the bound", func(c *Config) { c.MaxResting = MaxRestingCap + 1 }, "max resting"},
		{"negative orders", func(c *Config) { c.Orders = -1 }, "orders"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkRunFake measures the client against the in-process fake venue
// (both on this machine's CPUs): the rate the load client itself can
// drive, so a venue figure far below it is the venue's.
func BenchmarkRunFake(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	v := &fakeVenue{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go v.serve(c)
		}
	}()
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.Addr = ln.Addr().String()
	cfg.CompIDs = []string{"FIRM_A", "FIRM_B"}
	cfg.Window = 256
	cfg.Orders = int64(b.N)
	cfg.Duration = MaxDuration
	b.ResetTimer()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.OrdersPerSec, "orders/s")
	b.ReportMetric(res.Latency.P99, "p99-µs")
}
