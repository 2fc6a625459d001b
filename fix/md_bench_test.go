package fix_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"venue/matching"
	"venue/refdata"
)

// BenchmarkMDFanout measures what publishing market data costs the order
// path: b.N random orders and cancels (orderGen, at most 2,048 in flight)
// straight through the sequencer, with no market-data subscriber and with
// 200 market-data sessions each subscribed to the full book and trades of
// BTC-USD (plain TCP readers that discard what they read, so the figure is
// the venue's cost, not a FIX client's), and with those plus 10 drop-copy
// sessions logged on and reading (the case). Run it with a fixed
// count:
//
//	go test ./fix/ -run '^$' -bench MDFanout -benchtime 200000x
func BenchmarkMDFanout(b *testing.B) {
	for _, c := range []struct {
		n, dc    int
		interval time.Duration
	}{{0, 0, 0}, {200, 0, 0}, {200, 0, 5 * time.Millisecond}, {200, 10, 5 * time.Millisecond}} {
		n, dcs, interval := c.n, c.dc, c.interval
		b.Run(fmt.Sprintf("subscribers=%d/dropcopies=%d/interval=%s", n, dcs, interval), func(b *testing.B) {
			// dcs drop-copy sessions logged on and reading: FIRM_A_DC,
			// FIRM_B_DC and more spread over the three dev firms.
			var extra []refdata.Session
			dcComps := []string{"FIRM_A_DC", "FIRM_B_DC"}
			for i := 2; i < dcs; i++ {
				comp := fmt.Sprintf("DC_%d", i)
				h, err := bcryptHash(strings.ToLower(comp))
				if err != nil {
					b.Fatal(err)
				}
				extra = append(extra, refdata.Session{CompID: comp, ID: matching.SessionID(2000 + i), Kind: refdata.DropCopy,
					Firm: matching.FirmID(1 + i%3), PasswordHash: h})
				dcComps = append(dcComps, comp)
			}
			srv, cfg := startVenue(b, venueOpts{mdInterval: &interval, sessions: extra})
			var dcRead atomic.Int64
			for _, comp := range dcComps[:dcs] {
				conn := rawDropCopy(b, cfg.FIX.DropCopyAddr, comp)
				b.Cleanup(func() { conn.Close() })
				go func() { _, _ = io.Copy(countWriter{&dcRead}, conn) }()
			}
			comps := append([]string{"MD_1"}, addMDSessions(b, srv, max(n-1, 0))...)[:n]
			var wg sync.WaitGroup
			var mu sync.Mutex
			var read int64
			for _, comp := range comps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, typ := dialRawMD(b, cfg.FIX.MarketDataAddr, comp, strings.ToLower(comp))
					if typ != "A" {
						b.Errorf("%s: logon answered %q", comp, typ)
						return
					}
					r.subscribe(b, "all", "1")
					b.Cleanup(func() { r.conn.Close() })
					go func() {
						k, _ := io.Copy(io.Discard, r.conn)
						mu.Lock()
						read += k
						mu.Unlock()
					}()
				}()
			}
			wg.Wait()
			waitForLong(b, "every subscription", func() bool { return srv.MD.Stats().Subscriptions == n })
			gen := newOrderGen(srv, 1)
			gen.run(b, 20_000, 2048) // warm up: a book to trade against
			before := srv.MD.Stats()
			// MD_BENCH_CPUPROFILE=prefix writes a CPU profile of the
			// measured orders only (not the Logons and the warm-up), one
			// file per case.
			var prof *os.File
			if p := os.Getenv("MD_BENCH_CPUPROFILE"); p != "" {
				f, err := os.Create(fmt.Sprintf("%s-%d-%s.prof", p, n, interval))
				if err != nil {
					b.Fatal(err)
				}
				prof = f
				if err := pprof.StartCPUProfile(f); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			t0 := time.Now()
			gen.run(b, b.N, 2048)
			el := time.Since(t0)
			b.StopTimer()
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
			}
			after := srv.MD.Stats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "orders/s")
			b.ReportMetric(float64(after.MessagesOut-before.MessagesOut)/el.Seconds(), "md-msgs/s")
			if dcs > 0 {
				b.ReportMetric(float64(dcRead.Load())/el.Seconds()/1e6, "dc-MB/s")
			}
			if after.Cut != 0 {
				b.Errorf("%d market-data sessions cut", after.Cut)
			}
		})
	}
}

// countWriter counts what is written to it and discards it.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// rawDropCopy logs a drop-copy session on over a plain connection (a
// fresh store: MsgSeqNum 1, no reset) and returns it once the Logon is
// answered.
func rawDropCopy(t testing.TB, addr, comp string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body := "98=0\x01108=30\x01553=" + comp + "\x01554=" + strings.ToLower(comp) + "\x01"
	if _, err := conn.Write(fixFrame(comp, 1, "A", body)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, "\x0135=A\x01") {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%s: logon: %v (%q)", comp, err, got)
		}
		got += string(buf[:n])
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn
}
