package fix

import (
	"sync/atomic"
	"time"
)

// LatencyBucketsMicros are the upper bounds of the latency histograms, in
// microseconds; a last bucket takes everything above.
var LatencyBucketsMicros = []int64{50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000}

// Histogram counts durations into LatencyBucketsMicros without locks.
type Histogram struct {
	counts [14]atomic.Uint64
	sumNs  atomic.Uint64
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	us := d.Microseconds()
	i := 0
	for i < len(LatencyBucketsMicros) && us > LatencyBucketsMicros[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(max(d, 0)))
}

// Snapshot returns the counts per bucket (not cumulative) and the sum.
func (h *Histogram) Snapshot() (counts []uint64, sum time.Duration) {
	counts = make([]uint64, len(h.counts))
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
	}
	return counts, time.Duration(h.sumNs.Load())
}

// OrderEntryMetrics are order entry's counters for the ops endpoint.
type OrderEntryMetrics struct {
	SessionsOnline   int
	Logons           uint64
	LogonFailures    uint64
	MessagesIn       uint64
	ReportsOut       uint64
	Throttled        uint64
	Cuts             uint64 // sessions disconnected for not reading
	OrdersSubmitted  uint64
	AckLatency       []uint64 // per LatencyBucketsMicros bucket
	AckLatencySum    time.Duration
	PendingForOnline int
}

// Metrics returns order entry's counters.
func (g *OrderEntry) Metrics() OrderEntryMetrics {
	m := OrderEntryMetrics{
		Logons: g.stats.logons.Load(), LogonFailures: g.stats.logonFailures.Load(),
		MessagesIn: g.stats.messagesIn.Load(), ReportsOut: g.stats.reportsOut.Load(),
		Throttled: g.stats.throttled.Load(), OrdersSubmitted: g.stats.orders.Load(), Cuts: g.stats.cuts.Load(),
	}
	m.AckLatency, m.AckLatencySum = g.ackLatency.Snapshot()
	g.mu.Lock()
	states := make([]*sessState, 0, len(g.sessions))
	for _, st := range g.sessions {
		states = append(states, st)
	}
	g.mu.Unlock()
	for _, st := range states {
		if st.loggedOn.Load() {
			m.SessionsOnline++
		}
		st.mu.Lock()
		m.PendingForOnline += len(st.pending)
		st.mu.Unlock()
	}
	return m
}

// Disconnect closes a logged-on order-entry session's connection (its
// cancel-on-disconnect applies) and reports whether it was connected.
func (g *OrderEntry) Disconnect(acc *Acceptor, comp string) bool {
	st := g.state(comp)
	if st == nil || acc == nil {
		return false
	}
	return acc.Disconnect(st.qid)
}

// DropCopyMetrics are the drop copy's counters.
type DropCopyMetrics struct {
	Sessions, SessionsOnline int
	Cuts                     uint64
	StoreErrors              uint64 // attempts to store reports that failed (each is retried)
}

// Metrics returns the drop copy's counters.
func (d *DropCopy) Metrics() DropCopyMetrics {
	set := d.cur()
	m := DropCopyMetrics{Sessions: len(set.sessions), Cuts: d.cuts.Load(), StoreErrors: d.storeErrors.Load()}
	for _, s := range set.sessions {
		if s.online.Load() {
			m.SessionsOnline++
		}
	}
	return m
}

// Disconnect closes a drop-copy session's connection.
func (d *DropCopy) Disconnect(comp string) bool {
	s := d.cur().sessions[comp]
	if s == nil || d.acc == nil {
		return false
	}
	return d.acc.Disconnect(s.qid)
}
