package loadtest

import (
	"math/big"
	"math/bits"
	"sort"
	"strconv"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/shopspring/decimal"
)

// Latencies are recorded in nanoseconds from 1 ns to a minute with three
// significant digits: 0.1 % resolution at every scale.
const (
	histMinNs   = 1
	histMaxNs   = 60_000_000_000
	histSigFigs = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinNs, histMaxNs, histSigFigs)
}

// counters is what one session counts; the run adds them up.
type counters struct {
	ordersSent      int64          // NewOrderSingle sent
	ordersAcked     int64          // NewOrderSingle answered by a first ExecutionReport
	cancelsSent     int64          // OrderCancelRequest sent
	cancelsAnswered int64          // answered by 150=4 or 35=9
	rejects         map[int]int64  // 150=8 by OrdRejReason (103); -1 when absent
	rejectText      map[int]string // the first 58 seen per reason
	cancelRejects   map[int]int64  // 35=9 by CxlRejReason (102)
	sessionRejects  int64          // 35=3: the client sent something malformed
	businessRejects int64          // 35=j
	fills           int64          // 150=F reports, maker and taker side
	trades          int64          // 150=F on the taker side: one per trade
	volumeSats      int64          // traded quantity, taker side
	notionalHi      uint64         // traded price x quantity, taker side, in
	notionalLo      uint64         // 1e-(px+qty decimals) USD, 128 bits
	canceled        int64          // 150=4 reports (requested, IOC remainder, unsolicited)
	expired         int64          // 150=C
	stale           int64          // reports for ClOrdIDs this run never sent
	checksumErrors  int64          // inbound frames with a bad 10
	seqGaps         int64          // inbound MsgSeqNum jumps
}

func newCounters() counters {
	return counters{
		rejects:       map[int]int64{},
		rejectText:    map[int]string{},
		cancelRejects: map[int]int64{},
	}
}

// addNotional adds px x qty to the 128-bit notional.
func (c *counters) addNotional(pxTicks, qtySats int64) {
	hi, lo := bits.Mul64(uint64(pxTicks), uint64(qtySats))
	var carry uint64
	c.notionalLo, carry = bits.Add64(c.notionalLo, lo, 0)
	c.notionalHi, _ = bits.Add64(c.notionalHi, hi, carry)
}

// add adds o into c.
func (c *counters) add(o *counters) {
	c.ordersSent += o.ordersSent
	c.ordersAcked += o.ordersAcked
	c.cancelsSent += o.cancelsSent
	c.cancelsAnswered += o.cancelsAnswered
	for k, v := range o.rejects {
		c.rejects[k] += v
	}
	for k, v := range o.rejectText {
		if _, ok := c.rejectText[k]; !ok {
			c.rejectText[k] = v
		}
	}
	for k, v := range o.cancelRejects {
		c.cancelRejects[k] += v
	}
	c.sessionRejects += o.sessionRejects
	c.businessRejects += o.businessRejects
	c.fills += o.fills
	c.trades += o.trades
	c.volumeSats += o.volumeSats
	var carry uint64
	c.notionalLo, carry = bits.Add64(c.notionalLo, o.notionalLo, 0)
	c.notionalHi, _ = bits.Add64(c.notionalHi, o.notionalHi, carry)
	c.canceled += o.canceled
	c.expired += o.expired
	c.stale += o.stale
	c.checksumErrors += o.checksumErrors
	c.seqGaps += o.seqGaps
}

func (c *counters) rejectCount() int64 {
	var n int64
	for _, v := range c.rejects {
		n += v
	}
	return n
}

// notional returns the traded notional in quote currency.
func (c *counters) notional(sym Symbol) decimal.Decimal {
	n := new(big.Int).SetUint64(c.notionalHi)
	n.Lsh(n, 64)
	n.Or(n, new(big.Int).SetUint64(c.notionalLo))
	return decimal.NewFromBigInt(n, -int32(sym.PxDecimals+sym.QtyDecimals))
}

// Latency is a latency distribution in microseconds (float for display
// only: latencies are not money).
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99_9_us"`
	Max   float64 `json:"max_us"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1e3,
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}

// Reject is the count of one OrdRejReason (103) or CxlRejReason (102).
type Reject struct {
	Reason int    `json:"reason"` // -1: the report carried none
	Count  int64  `json:"count"`
	Text   string `json:"text,omitempty"` // the first 58 seen
}

func rejectsOf(counts map[int]int64, texts map[int]string) []Reject {
	out := make([]Reject, 0, len(counts))
	for k, v := range counts {
		out = append(out, Reject{Reason: k, Count: v, Text: texts[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
	return out
}

// Result is what a run measured.
type Result struct {
	Addr       string   `json:"addr"`
	Sessions   []string `json:"sessions"`
	Roles      []string `json:"roles"`
	Mode       string   `json:"mode"` // "window" or "rate"
	Window     int      `json:"window,omitempty"`
	RateTarget int      `json:"rate_target,omitempty"` // orders/s asked for
	Seed       uint64   `json:"seed"`

	Elapsed      float64 `json:"elapsed_s"`    // first send to the last answer
	OrdersPerSec float64 `json:"orders_per_s"` // acknowledged new orders per second of Elapsed
	MsgsPerSec   float64 `json:"msgs_per_s"`   // answered requests (orders and cancels) per second

	OrdersSent      int64           `json:"orders_sent"`
	Acks            int64           `json:"acks"` // new orders answered by an ExecutionReport (any 150)
	Unanswered      int64           `json:"unanswered"`
	CancelsSent     int64           `json:"cancels_sent"`
	CancelsAnswered int64           `json:"cancels_answered"`
	Rejects         int64           `json:"rejects"` // 150=8
	RejectsByReason []Reject        `json:"rejects_by_reason"`
	CancelRejects   []Reject        `json:"cancel_rejects_by_reason"` // 35=9: races with fills, expected
	SessionRejects  int64           `json:"session_rejects"`          // 35=3
	BusinessRejects int64           `json:"business_rejects"`         // 35=j
	Fills           int64           `json:"fills"`                    // 150=F reports, both sides
	Trades          int64           `json:"trades"`                   // taker-side fills
	VolumeBTC       decimal.Decimal `json:"volume"`                   // traded base quantity
	NotionalUSD     decimal.Decimal `json:"notional"`                 // traded quote amount
	Canceled        int64           `json:"canceled"`
	Expired         int64           `json:"expired"`
	Stale           int64           `json:"stale_reports"` // for orders of an earlier run (cancel-on-disconnect)
	ChecksumErrors  int64           `json:"checksum_errors"`
	SeqGaps         int64           `json:"seq_gaps"`

	// Latency: NewOrderSingle sent (rate mode: scheduled) -> first
	// ExecutionReport. Unanswered orders are in it with their age at the
	// end of the run (a lower bound of their latency).
	Latency Latency `json:"ack_latency"`
	// SendLateness (rate mode only): each order's scheduled time to the
	// write that sent it, the part of Latency that is the client's own.
	SendLateness *Latency `json:"send_lateness,omitempty"`
}

// UnexpectedRejects counts what a healthy run against the dev venue never
// sees: order rejects, session-level and business rejects, checksum errors.
func (r *Result) UnexpectedRejects() int64 {
	return r.Rejects + r.SessionRejects + r.BusinessRejects + r.ChecksumErrors
}

// groupInt formats n with thousands separators: 1234567 -> "1,234,567".
func groupInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
