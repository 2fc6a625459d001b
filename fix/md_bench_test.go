package fix_test

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkMDFanout measures what publishing market data costs the order
// path: b.N random orders and cancels (orderGen, at most 2,048 in flight)
// straight through the sequencer, with no market-data subscriber and with
// 200 market-data sessions each subscribed to the full book and trades of
// BTC-USD (plain TCP readers that discard what they read, so the figure is
// the venue's cost, not a FIX client's). Run it with a fixed count:
//
//	go test ./fix/ -run '^$' -bench MDFanout -benchtime 200000x
func BenchmarkMDFanout(b *testing.B) {
	for _, c := range []struct {
		n        int
		interval time.Duration
	}{{0, 0}, {200, 0}, {200, 5 * time.Millisecond}} {
		n, interval := c.n, c.interval
		b.Run(fmt.Sprintf("subscribers=%d/interval=%s", n, interval), func(b *testing.B) {
			srv, cfg := startVenue(b, venueOpts{mdInterval: &interval})
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
			if after.Cut != 0 {
				b.Errorf("%d market-data sessions cut", after.Cut)
			}
		})
	}
}
