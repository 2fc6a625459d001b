package backoffice_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"venue/backoffice"
	"venue/config"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// BenchmarkProjector measures the projector into PostgreSQL: a generated
// stream (BENCH_COMMANDS commands, default 100,000, through the engine
// beforehand) is projected in batches as the live projector does, from an
// empty projection each iteration. events/s counts every engine event
// (book levels included), rows/s the rows written.
//
//	go test -run '^$' -bench BenchmarkProjector -benchtime 3x ./backoffice/
func BenchmarkProjector(b *testing.B) {
	n := 100_000
	if s := os.Getenv("BENCH_COMMANDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	cfg := config.Default()
	uni, err := refdata.FromConfig(cfg.Symbols)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := refdata.Dev(4)
	if err != nil {
		b.Fatal(err)
	}
	// 1. the stream: bootstrap, then generated trading, through a fresh engine.
	eng := matching.New()
	cmds := bootstrapCommands(b, uni, dir)
	g := newGen(42)
	for len(cmds) < n {
		cmds = append(cmds, g.next())
	}
	pubs := make([]sequencer.Published, len(cmds))
	events := 0
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range cmds {
		c := &cmds[i]
		c.Seq, c.Time = uint64(i+1), t0+int64(i)*1000
		evs := append([]matching.Event(nil), eng.Apply(c)...)
		pubs[i] = sequencer.Published{Seq: c.Seq, Time: c.Time, Kind: c.Kind, Events: evs, Cmd: *c}
		events += len(evs)
	}

	// 2. the database.
	ctx := context.Background()
	st, err := backoffice.Open(ctx, freshDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var rows uint64
	var elapsed time.Duration
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		for _, t := range backoffice.ProjectionTables {
			if _, err := st.DB().Exec(`TRUNCATE ` + t); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.DB().Exec(`UPDATE projector_state SET last_seq = 0, origin_time = NULL`); err != nil {
			b.Fatal(err)
		}
		p, err := backoffice.NewProjector(ctx, st, uni)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := range pubs {
			if err := p.Add(ctx, &pubs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		rows += p.Rows.Load()
		if p.Last() != uint64(len(pubs)) {
			b.Fatalf("projected to %d of %d", p.Last(), len(pubs))
		}
		_ = p.Close()
	}
	sec := elapsed.Seconds()
	b.ReportMetric(float64(events*b.N)/sec, "events/s")
	b.ReportMetric(float64(len(pubs)*b.N)/sec, "commands/s")
	b.ReportMetric(float64(rows)/sec, "rows/s")
	b.ReportMetric(float64(events), "events/run")
}
