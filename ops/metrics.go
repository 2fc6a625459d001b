package ops

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"venue/fix"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// MetricsWriter writes the Prometheus text exposition format (version
// 0.0.4). The format is a few lines per metric; writing it directly keeps
// the venue free of a metrics client and its registry. Samples are grouped
// by metric family (HELP and TYPE once, then every sample of the family),
// whatever order they were added in.
type MetricsWriter struct {
	w     *bufio.Writer
	order []string
	fams  map[string]*family
}

type family struct {
	help, typ string
	lines     []string
}

func (m *MetricsWriter) family(name, typ, help string) *family {
	if m.fams == nil {
		m.fams = map[string]*family{}
	}
	f := m.fams[name]
	if f == nil {
		f = &family{typ: typ}
		m.fams[name] = f
		m.order = append(m.order, name)
	}
	if f.help == "" {
		f.help = help
	}
	return f
}

// Metric adds one sample.
func (m *MetricsWriter) Metric(name, typ, help string, value float64, labels ...string) {
	f := m.family(name, typ, help)
	f.lines = append(f.lines, sample(name, value, labels...))
}

func sample(name string, value float64, labels ...string) string {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			b.WriteString(labelEscaper.Replace(labels[i+1]))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(value, 'g', -1, 64))
	return b.String()
}

// labelEscaper escapes a label value as the text format wants: backslash,
// double quote and line feed.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// Histogram adds a histogram from per-bucket counts (not cumulative) whose
// upper bounds are in seconds; counts has one more entry, +Inf.
func (m *MetricsWriter) Histogram(name, help string, boundsSec []float64, counts []uint64, sumSec float64) {
	f := m.family(name, "histogram", help)
	var cum uint64
	for i, b := range boundsSec {
		cum += counts[i]
		f.lines = append(f.lines, sample(name+"_bucket", float64(cum), "le", strconv.FormatFloat(b, 'g', -1, 64)))
	}
	for _, c := range counts[len(boundsSec):] {
		cum += c
	}
	f.lines = append(f.lines,
		sample(name+"_bucket", float64(cum), "le", "+Inf"),
		sample(name+"_sum", sumSec),
		sample(name+"_count", float64(cum)))
}

// flush writes every family.
func (m *MetricsWriter) flush() error {
	for _, name := range m.order {
		f := m.fams[name]
		fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s %s\n", name, f.help, name, f.typ)
		for _, l := range f.lines {
			m.w.WriteString(l)
			m.w.WriteByte('\n')
		}
	}
	return m.w.Flush()
}

func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	mw := &MetricsWriter{w: bufio.NewWriter(w)}
	defer func() { _ = mw.flush() }()

	st := s.src.Seq.Stats()
	mw.Metric("venue_commands_total", "counter", "Commands sequenced, journaled and applied.", float64(st.Commands))
	mw.Metric("venue_batches_total", "counter", "Group-commit batches (one fsync each).", float64(st.Batches))
	mw.Metric("venue_last_seq", "gauge", "Sequence number of the last command applied.", float64(st.LastSeq))
	mw.Metric("venue_queue_length", "gauge", "Commands waiting for the sequencer.", float64(st.QueueLen))
	mw.Metric("venue_snapshots_total", "counter", "Engine snapshots written.", float64(st.Snapshots))
	mw.Metric("venue_subscribers_dropped_total", "counter", "Event subscribers dropped for falling behind.", float64(st.SubscribersDropped))
	// FsyncHistogram bucket i: [2^(i-1), 2^i) microseconds.
	bounds := make([]float64, len(st.FsyncHistogram)-1)
	for i := range bounds {
		bounds[i] = float64(uint64(1)<<i) / 1e6
	}
	mw.Histogram("venue_journal_fsync_seconds", "Journal fsync latency.", bounds, st.FsyncHistogram[:],
		float64(st.FsyncNanosTotal)/1e9)

	if s.src.OE != nil {
		m := s.src.OE.Metrics()
		mw.Metric("venue_fix_sessions_connected", "gauge", "FIX sessions logged on.", float64(m.SessionsOnline), "kind", "order-entry")
		mw.Metric("venue_fix_orders_total", "counter", "NewOrderSingles submitted to the engine.", float64(m.OrdersSubmitted))
		mw.Metric("venue_fix_messages_in_total", "counter", "Application messages received.", float64(m.MessagesIn), "kind", "order-entry")
		mw.Metric("venue_fix_reports_out_total", "counter", "Reports sent to order-entry sessions.", float64(m.ReportsOut))
		mw.Metric("venue_fix_throttled_total", "counter", "Messages refused by the per-session throttle.", float64(m.Throttled))
		mw.Metric("venue_fix_order_entry_cuts_total", "counter", "Order-entry sessions disconnected for not reading their reports.", float64(m.Cuts))
		mw.Metric("venue_fix_logons_total", "counter", "Logons accepted.", float64(m.Logons))
		mw.Metric("venue_fix_logon_failures_total", "counter", "Logons refused.", float64(m.LogonFailures))
		mw.Metric("venue_fix_pending_reports", "gauge", "Reports kept for logged-out sessions.", float64(m.PendingForOnline))
		b := make([]float64, len(fix.LatencyBucketsMicros))
		for i, us := range fix.LatencyBucketsMicros {
			b[i] = float64(us) / 1e6
		}
		mw.Histogram("venue_fix_ack_latency_seconds", "NewOrderSingle received to its command durable (the acknowledgment leaves then).",
			b, m.AckLatency, m.AckLatencySum.Seconds())
	}
	if s.src.DC != nil {
		m := s.src.DC.Metrics()
		mw.Metric("venue_fix_sessions_connected", "gauge", "FIX sessions logged on.", float64(m.SessionsOnline), "kind", "drop-copy")
		mw.Metric("venue_fix_drop_copy_cuts_total", "counter", "Drop-copy sessions disconnected for not reading.", float64(m.Cuts))
		mw.Metric("venue_fix_drop_copy_store_errors_total", "counter", "Attempts to store drop-copy reports that failed (each is retried until it succeeds).", float64(m.StoreErrors))
	}
	if s.src.MD != nil {
		m := s.src.MD.Stats()
		mw.Metric("venue_fix_sessions_connected", "gauge", "FIX sessions logged on.", float64(m.Sessions), "kind", "market-data")
		mw.Metric("venue_md_subscriptions", "gauge", "Market-data subscriptions.", float64(m.Subscriptions))
		mw.Metric("venue_md_messages_out_total", "counter", "Market-data messages sent.", float64(m.MessagesOut))
		mw.Metric("venue_md_cuts_total", "counter", "Market-data sessions cut for not reading.", float64(m.Cut))
		mw.Metric("venue_md_last_seq", "gauge", "Last seq folded into the market-data books.", float64(m.LastSeq))
	}
	for _, acc := range []struct {
		kind string
		a    *fix.Acceptor
	}{{"order-entry", s.src.OEAcc}, {"drop-copy", s.src.DCAcc}} {
		if acc.a == nil {
			continue
		}
		g := acc.a.GuardStats()
		mw.Metric("venue_fix_guard_frames_total", "counter", "Inbound frames by what the guard did with them.", float64(g.Passed), "kind", acc.kind, "action", "passed")
		mw.Metric("venue_fix_guard_frames_total", "counter", "", float64(g.Forwarded), "kind", acc.kind, "action", "forwarded")
		mw.Metric("venue_fix_guard_frames_total", "counter", "", float64(g.Dropped), "kind", acc.kind, "action", "dropped")
		mw.Metric("venue_fix_guard_cuts_total", "counter", "Connections cut by the guard.", float64(g.Cut), "kind", acc.kind)
	}
	if s.depth != nil {
		for _, d := range s.depth.snapshot(s.src.Universe) {
			mw.Metric("venue_book_levels", "gauge", "Price levels in the book.", float64(d.levels), "symbol", d.symbol, "side", d.side)
			mw.Metric("venue_book_quantity", "gauge", "Quantity resting in the book, base currency.", d.qty, "symbol", d.symbol, "side", d.side)
		}
	}
	for _, f := range s.src.Extra {
		f(mw)
	}
}

// DepthFollower keeps each symbol's aggregated levels from the engine's
// EvLevel events, for the book-depth metrics.
type DepthFollower struct {
	book *depthBook
	sub  *sequencer.Subscription
}

type depthBook struct {
	mu     sync.Mutex
	levels map[matching.SymbolID]*[3]map[int64]int64 // by side (1 buy, 2 sell)
}

// NewDepthFollower seeds from the engine's books (call it before any
// command after recovery) and follows sub.
func NewDepthFollower(eng *matching.Engine, uni *refdata.Universe, sub *sequencer.Subscription) *DepthFollower {
	b := &depthBook{levels: map[matching.SymbolID]*[3]map[int64]int64{}}
	for _, sym := range uni.Symbols() {
		sides := &[3]map[int64]int64{nil, {}, {}}
		bids, asks := eng.Book(sym.Spec.ID, 0)
		for _, l := range bids {
			sides[matching.Buy][l.Px] = l.Qty
		}
		for _, l := range asks {
			sides[matching.Sell][l.Px] = l.Qty
		}
		b.levels[sym.Spec.ID] = sides
	}
	return &DepthFollower{book: b, sub: sub}
}

// Run follows the subscription until it ends.
func (f *DepthFollower) Run() {
	for p := range f.sub.C {
		f.book.mu.Lock()
		for i := range p.Events {
			ev := &p.Events[i]
			if ev.Kind != matching.EvLevel || (ev.Side != matching.Buy && ev.Side != matching.Sell) {
				continue
			}
			sides := f.book.levels[ev.Symbol]
			if sides == nil { // a symbol listed since the seed: its book began empty
				sides = &[3]map[int64]int64{nil, {}, {}}
				f.book.levels[ev.Symbol] = sides
			}
			if ev.Qty == 0 {
				delete(sides[ev.Side], ev.Px)
			} else {
				sides[ev.Side][ev.Px] = ev.Qty
			}
		}
		f.book.mu.Unlock()
	}
}

type depth struct {
	symbol, side string
	levels       int
	qty          float64
}

func (b *depthBook) snapshot(uni *refdata.Universe) []depth {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []depth
	for id, sides := range b.levels {
		sym, ok := uni.SymbolByID(id)
		if !ok {
			continue
		}
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			var total int64
			for _, q := range sides[side] {
				total += q
			}
			name := "bid"
			if side == matching.Sell {
				name = "ask"
			}
			qty, _ := sym.QtyDec(total).Float64() // a gauge for dashboards, not money
			out = append(out, depth{sym.Name, name, len(sides[side]), qty})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].symbol != out[j].symbol {
			return out[i].symbol < out[j].symbol
		}
		return out[i].side < out[j].side
	})
	return out
}
