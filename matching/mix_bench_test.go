package matching_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"venue/matching"
	"venue/matching/benchmix"
)

// The flow these benchmarks replay is benchmix's: generated once by
// driving an engine (so cancels and replaces name live orders), then
// replayed into fresh engines, so the timed loop does nothing but Apply.
// internal/engineab replays the same flow into two engine versions at
// once, for comparisons on a noisy machine.

// BenchmarkEngineMix reports engine throughput on the realistic mix, one
// core, after a warm-up pass so the book and the free lists are in steady
// state.
func BenchmarkEngineMix(b *testing.B) { benchEngineMix(b, benchmix.Make(1_000_000), false) }

// BenchmarkEngineMixPrefetch is the same flow applied as the sequencer
// applies a batch: announcing each command's successor with Prefetch
// before applying it.
func BenchmarkEngineMixPrefetch(b *testing.B) {
	benchEngineMix(b, benchmix.Make(1_000_000), true)
}

// BenchmarkEngineMixNoClOrdID is the same flow without ClOrdIDs: orders are
// named by OrderID only, as exchange-core's benchmark does. The difference
// to BenchmarkEngineMix is the cost of the day's ClOrdID index.
func BenchmarkEngineMixNoClOrdID(b *testing.B) { benchEngineMix(b, noClOrdIDs(), false) }

// BenchmarkEngineMixNoClOrdIDPrefetch is that flow applied with Prefetch.
func BenchmarkEngineMixNoClOrdIDPrefetch(b *testing.B) { benchEngineMix(b, noClOrdIDs(), true) }

func noClOrdIDs() *benchmix.Mix { return benchmix.Make(1_000_000).WithoutClOrdIDs() }

// benchEngineMix times fresh engines over the flow's second half, each
// warmed untimed over the first (benchmix.Mix.Warm), until b.N commands.
func benchEngineMix(b *testing.B, m *benchmix.Mix, prefetch bool) {
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		e := matching.New()
		timed := m.Warm(func(c *matching.Command) { e.Apply(c) })
		timed = timed[:min(len(timed), b.N-done)]
		var pf func(*matching.Command)
		if prefetch {
			pf = e.Prefetch
		}
		runtime.GC()
		b.StartTimer()
		benchmix.Replay(timed, func(c *matching.Command) { e.Apply(c) }, pf, matching.PrefetchClOrdID)
		done += len(timed)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkEngineLatency times every Apply of the second half of the mix
// and reports p50/p99/p99.9 in nanoseconds. The two clock reads per op
// add tens of nanoseconds: these are upper bounds.
func BenchmarkEngineLatency(b *testing.B) {
	m := benchmix.Make(1_000_000)
	lat := make([]int64, 0, len(m.Flow)) // no growth between timed Applies
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := matching.New()
		timed := m.Warm(func(c *matching.Command) { e.Apply(c) })
		lat = lat[:0]
		runtime.GC()
		b.StartTimer()
		for i := range timed {
			t0 := time.Now()
			e.Apply(&timed[i])
			lat = append(lat, int64(time.Since(t0)))
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(q(0.999), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
}
