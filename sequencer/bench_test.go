package sequencer

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"venue/journal"
	"venue/matching"
)

// BenchmarkSequencerDurable measures durable commands per second through
// the whole pipeline (stamp, journal, fsync per batch, apply, publish) on
// the real file system of the test's temp dir, with many submitters so
// that group commit has something to group, and the commit latency each
// submitter sees (Submit to result) at p50 and p99.
//
//	go test -run '^$' -bench BenchmarkSequencerDurable -benchtime 200000x ./sequencer/
func BenchmarkSequencerDurable(b *testing.B) {
	for _, submitters := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("submitters=%d", submitters), func(b *testing.B) {
			benchDurable(b, submitters)
		})
	}
}

func benchDurable(b *testing.B, submitters int) {
	dir := b.TempDir()
	l := load{seed: 1, accounts: 64}
	s, _, err := Open(dir, matching.New(), Config{Logger: quiet, SnapshotEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	submitLoad(b, s, l, 1, l.setupLen())
	sub := s.Subscribe("bench", 1<<16)
	go func() {
		for range sub.C {
		}
	}()
	var next atomic.Uint64
	next.Store(l.setupLen())
	lat := make([][]time.Duration, submitters)
	before := s.Stats()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < submitters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > l.setupLen()+uint64(b.N) {
					return
				}
				c := l.command(i)
				t0 := time.Now()
				for {
					_, err := s.Submit(ctx, &c)
					if err == ErrQueueFull {
						continue
					}
					if err != nil {
						b.Error(err)
						return
					}
					break
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	after := s.Stats()
	s.Close()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	batches := after.Batches - before.Batches
	fsyncs := after.FsyncCount - before.FsyncCount
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(b.N)/float64(max(batches, 1)), "cmds/batch")
	b.ReportMetric(float64(after.FsyncNanosTotal-before.FsyncNanosTotal)/float64(max(fsyncs, 1))/1e3, "fsync-µs")
}

// TestRecoveryMillion measures recovery with 1,000,000 resting orders,
// from a snapshot and from the journal alone, and checks that both give
// the state hash the running engine had.
//
//	VENUE_RECOVERY_BENCH=1 go test -run TestRecoveryMillion -v -timeout 30m ./sequencer/
func TestRecoveryMillion(t *testing.T) {
	if os.Getenv("VENUE_RECOVERY_BENCH") != "1" {
		t.Skip("set VENUE_RECOVERY_BENCH=1")
	}
	const orders = 1_000_000
	const accounts = 100
	dir := t.TempDir()
	eng := matching.New()
	s, _, err := Open(dir, eng, Config{Logger: quiet, SnapshotEvery: -1, MaxBatch: 4096, QueueDepth: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	l := load{seed: 1, accounts: accounts}
	submitLoad(t, s, l, 1, l.setupLen())
	// Resting orders that never cross: bids below the reference price,
	// asks above, spread over many levels.
	t0 := time.Now()
	seq := l.setupLen()
	errs := make(chan error, 1<<16)
	var pending atomic.Int64
	for i := 0; i < orders; i++ {
		acct := loadFirst + matching.AccountID(i%accounts)
		c := matching.Command{Kind: matching.CmdNewOrder, Session: matching.SessionID(acct), Account: acct,
			Symbol: loadSymbol, Type: matching.Limit, TIF: matching.GTC, Qty: 10_000 + int64(i%7)*10_000,
			ClOrdID: fmt.Sprintf("r%d", i)}
		if i%2 == 0 {
			c.Side, c.Px = matching.Buy, loadRefPx-1-int64(i/2%100_000)
		} else {
			c.Side, c.Px = matching.Sell, loadRefPx+1+int64(i/2%100_000)
		}
		for pending.Load() > 1<<15 {
			time.Sleep(100 * time.Microsecond)
		}
		pending.Add(1)
		for {
			err := s.SubmitAsync(&c, func(r Result) {
				pending.Add(-1)
				if r.Err != nil {
					errs <- r.Err
				} else if len(r.Events) == 0 || r.Events[0].Kind != matching.EvAccepted {
					errs <- fmt.Errorf("order %s not accepted: %+v", c.ClOrdID, r.Events)
				}
			})
			if err == ErrQueueFull {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		seq++
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	}
	for pending.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
	t.Logf("loaded %d resting orders in %s", orders, time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	if _, err := s.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot in %s", time.Since(t1).Round(time.Millisecond))
	// A tail of records after the snapshot, as recovery normally meets.
	submitLoad(t, s, load{seed: 2, accounts: accounts}, seq+1, seq+10_000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	live := eng.StateHash()
	jrep, _ := journal.Verify(journal.OSFS{}, dir)
	t.Logf("journal: %d records in %d segments", jrep.Records, jrep.Segments)

	for _, mode := range []string{"snapshot+replay", "journal only"} {
		if mode == "journal only" {
			names, _ := os.ReadDir(dir)
			for _, n := range names {
				if len(n.Name()) > 9 && n.Name()[:9] == "snapshot-" {
					os.Remove(dir + "/" + n.Name())
				}
			}
		}
		start := time.Now()
		s, rec, err := Open(dir, matching.New(), Config{Logger: quiet, SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		s.Close()
		if rec.StateHash != live {
			t.Fatalf("%s: state hash differs from the live engine", mode)
		}
		t.Logf("recovery (%s): %s: snapshot seq %d, replayed %d, last seq %d, hash %s",
			mode, d.Round(time.Millisecond), rec.SnapshotSeq, rec.Replayed, rec.LastSeq, rec.StateHashHex()[:16])
		fmt.Printf("recovery %s: %s\n", mode, d.Round(time.Millisecond))
	}
}
