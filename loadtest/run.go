// Package loadtest drives the venue's FIX order entry with simulated
// traders and measures it: orders per second, and the acknowledgment
// latency of every NewOrderSingle (sent -> first ExecutionReport for its
// ClOrdID) in an HDR histogram.
//
// It carries its own small FIX 4.4 client (frame.go, session.go) rather
// than quickfixgo, so the figures are the venue's and not a client
// engine's. Two ways to load:
//
//   - window: each session keeps up to Window requests outstanding
//     (closed loop: the venue's speed sets the rate);
//   - rate: Rate orders/s across all sessions on a fixed schedule (open
//     loop). Latency is measured from each order's scheduled send time,
//     so a stall of the venue shows in the latency of every order that
//     should have gone out during it (no coordinated omission).
//
// Sessions are makers (limit orders a few ticks around the mid, canceled
// to stay under MaxResting) or takers (IOC and some GTC limits that cross),
// so the venue trades. One session alone does both; its takers then meet
// only its own quotes, which self-trade prevention cancels: a one-session
// run measures acknowledgments, not fills.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
)

// Limits of a run: it always stops by itself.
const (
	MaxDuration   = 15 * time.Minute
	MaxWindow     = 100_000
	MaxRate       = 2_000_000
	MaxRestingCap = 500 // the venue may cap open orders per account
	// maxOutstanding ends a rate-mode session whose venue stopped answering.
	maxOutstanding = 1_000_000
	maxWarnings    = 20
)

// Config is one run.
type Config struct {
	Addr         string   // order-entry host:port
	TargetCompID string   // the venue's CompID (56)
	CompIDs      []string // one session each
	// Password returns the Logon password (554) of a CompID; nil: the
	// dev venue's, the CompID in lower case.
	Password func(compID string) string

	Window   int           // requests outstanding per session (window mode)
	Rate     int           // orders/s across all sessions; > 0 selects rate mode
	Duration time.Duration // how long orders are sent (at most MaxDuration)
	Orders   int64         // stop after this many new orders; 0: no limit
	Makers   int           // mix: maker share ...
	Takers   int           // ... to taker share
	Seed     uint64
	// MaxResting bounds each session's resting orders: beyond it the
	// trader cancels its oldest before it posts again.
	MaxResting int
	HeartBtInt int // seconds
	Symbol     Symbol
	// DrainTimeout is how long the run waits for the answers still due
	// after the last order; the Logout wait is at most 2 s of it.
	DrainTimeout time.Duration

	Progress io.Writer // a line per second; nil: none
	Warn     io.Writer // session-level trouble; nil: discarded
}

// DefaultConfig is the dev venue's: three sessions, window 64, 10 s.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:9878",
		TargetCompID: "VENUE",
		CompIDs:      []string{"FIRM_A", "FIRM_B", "FIRM_C"},
		Window:       64,
		Duration:     10 * time.Second,
		Makers:       1,
		Takers:       1,
		Seed:         1,
		MaxResting:   200,
		HeartBtInt:   30,
		Symbol:       BTCUSD,
		DrainTimeout: 5 * time.Second,
	}
}

func (c *Config) password(compID string) string {
	if c.Password != nil {
		return c.Password(compID)
	}
	return strings.ToLower(compID)
}

// Validate reports the first bad option.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("loadtest: addr: empty")
	case c.TargetCompID == "":
		return errors.New("loadtest: target CompID: empty")
	case len(c.CompIDs) == 0:
		return errors.New("loadtest: sessions: none")
	case c.Rate < 0 || c.Rate > MaxRate:
		return fmt.Errorf("loadtest: rate: %d not in 0..%d", c.Rate, MaxRate)
	case c.Rate == 0 && (c.Window < 1 || c.Window > MaxWindow):
		return fmt.Errorf("loadtest: window: %d not in 1..%d", c.Window, MaxWindow)
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return fmt.Errorf("loadtest: duration: %v not in (0, %v]", c.Duration, MaxDuration)
	case c.Orders < 0:
		return fmt.Errorf("loadtest: orders: %d < 0", c.Orders)
	case c.Makers < 0 || c.Takers < 0 || c.Makers+c.Takers == 0:
		return fmt.Errorf("loadtest: mix: %d/%d", c.Makers, c.Takers)
	case c.MaxResting < 1 || c.MaxResting > MaxRestingCap:
		return fmt.Errorf("loadtest: max resting: %d not in 1..%d", c.MaxResting, MaxRestingCap)
	case c.HeartBtInt < 1 || c.HeartBtInt > 600:
		return fmt.Errorf("loadtest: heartbeat: %d s not in 1..600", c.HeartBtInt)
	case c.DrainTimeout <= 0 || c.DrainTimeout > time.Minute:
		return fmt.Errorf("loadtest: drain timeout: %v not in (0, 1m]", c.DrainTimeout)
	}
	seen := map[string]bool{}
	for _, id := range c.CompIDs {
		if id == "" || strings.ContainsAny(id, "\x01= |") {
			return fmt.Errorf("loadtest: comp id %q: empty or with a forbidden character", id)
		}
		if seen[id] {
			return fmt.Errorf("loadtest: comp id %q: given twice (one session per CompID)", id)
		}
		seen[id] = true
	}
	return nil
}

// Roles returns each session's taker share per mille for n sessions and a
// makers/takers mix: sessions are makers or takers, split as the mix says
// with at least one of each when both are asked for; one session does both.
func Roles(n, makers, takers int) []int {
	out := make([]int, n)
	if n == 1 {
		out[0] = 1000 * takers / (makers + takers)
		return out
	}
	nm := (2*n*makers + makers + takers) / (2 * (makers + takers)) // rounded
	if makers > 0 {
		nm = max(nm, 1)
	}
	if takers > 0 {
		nm = min(nm, n-1)
	}
	for i := nm; i < n; i++ {
		out[i] = 1000
	}
	return out
}

func roleName(takePerMille int) string {
	switch takePerMille {
	case 0:
		return "maker"
	case 1000:
		return "taker"
	}
	return fmt.Sprintf("mixed (%d‰ taker)", takePerMille)
}

type runner struct {
	cfg      Config
	base     time.Time
	idPrefix string
	warnMu   sync.Mutex
	warnings int
}

func (r *runner) warnf(format string, args ...any) {
	if r.cfg.Warn == nil {
		return
	}
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	r.warnings++
	switch {
	case r.warnings <= maxWarnings:
		fmt.Fprintf(r.cfg.Warn, "loadtest: "+format+"\n", args...)
	case r.warnings == maxWarnings+1:
		fmt.Fprintf(r.cfg.Warn, "loadtest: more warnings not shown\n")
	}
}

// Run logs every session on, loads the venue until Duration passes, Orders
// are sent or ctx ends, waits for the answers still due, logs out and
// returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, base: time.Now()}
	// ClOrdIDs must be unique per session per day, done orders included:
	// a prefix from the start time keeps runs apart.
	r.idPrefix = strconv.FormatInt(r.base.UnixMilli(), 36) + "-"

	// 1. Log on every session.
	roles := Roles(len(cfg.CompIDs), cfg.Makers, cfg.Takers)
	// In parallel: an acceptor may take a while per Logon (password
	// hashing, session start).
	sessions := make([]*session, len(cfg.CompIDs))
	logonErrs := make([]error, len(cfg.CompIDs))
	var logons sync.WaitGroup
	for i, id := range cfg.CompIDs {
		s := newSession(r, id, roleName(roles[i]), roles[i], cfg.Seed+uint64(i)*0x51ed27)
		if cfg.Rate == 0 {
			s.slots = make(chan struct{}, cfg.Window)
		}
		sessions[i] = s
		logons.Add(1)
		go func() { defer logons.Done(); logonErrs[i] = s.logon() }()
	}
	logons.Wait()
	if err := errors.Join(logonErrs...); err != nil {
		for i, s := range sessions {
			if logonErrs[i] == nil {
				s.conn.Close()
			}
		}
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	hbStop := make(chan struct{})
	for _, s := range sessions {
		go s.reader()
		go s.heartbeats(hbStop)
	}

	// 2. Send until the duration, the order budget or ctx ends.
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	var budget atomic.Int64
	budget.Store(cfg.Orders)
	sendStart := time.Since(r.base)
	errs := make(chan error, len(sessions))
	var senders sync.WaitGroup
	for i, s := range sessions {
		senders.Add(1)
		go func() {
			defer senders.Done()
			var err error
			if cfg.Rate > 0 {
				err = s.runRate(stop, &budget, i, len(sessions))
			} else {
				err = s.runWindow(stop, &budget)
			}
			if err != nil {
				errs <- err
			}
			if cfg.Orders > 0 && budget.Load() <= 0 {
				halt()
			}
		}()
	}
	sendersDone := make(chan struct{})
	go func() { senders.Wait(); close(sendersDone) }()
	deadline := time.NewTimer(cfg.Duration)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	prog := progress{r: r, sessions: sessions, start: sendStart, prevAt: sendStart}
	var runErr error
	readErrs := make([]error, len(sessions))
	readDone := make([]bool, len(sessions))
	readCh := make(chan int, len(sessions))
	for i, s := range sessions {
		go func() { readErrs[i] = <-s.readErr; readCh <- i }()
	}
	// A sender blocked in a write (the venue stopped reading) is cut loose
	// by a write deadline shortly after the stop.
	var unblock <-chan time.Time
	done := ctx.Done()
	stopping := func() {
		halt()
		done = nil
		if unblock == nil {
			unblock = time.After(time.Second)
		}
	}
wait:
	for {
		select {
		case <-done:
			stopping()
		case <-deadline.C:
			stopping()
		case <-tick.C:
			prog.line()
		case <-unblock:
			for _, s := range sessions {
				_ = s.conn.SetWriteDeadline(time.Now())
			}
		case err := <-errs:
			if runErr == nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				runErr = err
			}
			stopping()
		case i := <-readCh:
			readDone[i] = true
			if readErrs[i] != nil && runErr == nil {
				runErr = readErrs[i]
			}
			stopping()
		case <-sendersDone:
			break wait
		}
	}
	sendEnd := time.Since(r.base)

	// 3. Drain: wait for the answers still due.
	drainUntil := time.Now().Add(cfg.DrainTimeout)
	for runErr == nil && time.Now().Before(drainUntil) {
		open := 0
		for _, s := range sessions {
			s.mu.Lock()
			open += s.outstanding
			s.mu.Unlock()
		}
		if open == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}

	// 4. Log out (cancel-on-disconnect cancels what still rests) and close.
	close(hbStop)
	logoutTimeout := min(cfg.DrainTimeout, 2*time.Second)
	for _, s := range sessions {
		s.mu.Lock()
		s.loggingOut = true
		s.mu.Unlock()
		_ = s.conn.SetWriteDeadline(time.Now().Add(logoutTimeout))
		_ = s.sendAdmin("5", nil)
	}
	logoutBy := time.NewTimer(logoutTimeout)
	defer logoutBy.Stop()
	for _, s := range sessions {
		select {
		case <-s.logout:
		case <-logoutBy.C:
			logoutBy.Reset(0) // the others are out of time too
		}
	}
	for _, s := range sessions {
		s.conn.Close()
	}
	for i := range sessions {
		for !readDone[i] {
			j := <-readCh
			readDone[j] = true
			if readErrs[j] != nil && runErr == nil {
				runErr = readErrs[j]
			}
		}
	}

	// 5. Add up.
	res := r.result(sessions, sendStart, sendEnd)
	if runErr != nil {
		return res, fmt.Errorf("loadtest: %w", runErr)
	}
	return res, nil
}

func (r *runner) result(sessions []*session, sendStart, sendEnd time.Duration) *Result {
	cfg := &r.cfg
	total := newCounters()
	hist, late := newHist(), newHist()
	last := sendEnd
	var unanswered int64
	res := &Result{Addr: cfg.Addr, Seed: cfg.Seed}
	end := time.Since(r.base)
	for _, s := range sessions {
		s.mu.Lock()
		total.add(&s.st)
		hist.Merge(s.hist)
		late.Merge(s.lateHist)
		last = max(last, s.lastAnswer)
		// An order never answered waited at least until now: it enters the
		// histogram with that age, so an overloaded venue's percentiles are
		// lower bounds rather than the latencies of the lucky ones only.
		for _, o := range s.orders {
			if o.kind == kindNew && !o.answered {
				unanswered++
				_ = hist.RecordValue(min(max(int64(end)-o.sentNs, histMinNs), histMaxNs))
			}
		}
		s.mu.Unlock()
		res.Sessions = append(res.Sessions, s.compID)
		res.Roles = append(res.Roles, s.role)
	}
	if cfg.Rate > 0 {
		res.Mode, res.RateTarget = "rate", cfg.Rate
	} else {
		res.Mode, res.Window = "window", cfg.Window
	}
	elapsed := (last - sendStart).Seconds()
	res.Elapsed = elapsed
	if elapsed > 0 {
		res.OrdersPerSec = float64(total.ordersAcked) / elapsed
		res.MsgsPerSec = float64(total.ordersAcked+total.cancelsAnswered) / elapsed
	}
	res.OrdersSent = total.ordersSent
	res.Acks = total.ordersAcked
	res.Unanswered = unanswered
	res.CancelsSent = total.cancelsSent
	res.CancelsAnswered = total.cancelsAnswered
	res.Rejects = total.rejectCount()
	res.RejectsByReason = rejectsOf(total.rejects, total.rejectText)
	res.CancelRejects = rejectsOf(total.cancelRejects, nil)
	res.SessionRejects = total.sessionRejects
	res.BusinessRejects = total.businessRejects
	res.Fills = total.fills
	res.Trades = total.trades
	res.VolumeBTC = decimal.New(total.volumeSats, -int32(cfg.Symbol.QtyDecimals))
	res.NotionalUSD = total.notional(cfg.Symbol)
	res.Canceled = total.canceled
	res.Expired = total.expired
	res.Stale = total.stale
	res.ChecksumErrors = total.checksumErrors
	res.SeqGaps = total.seqGaps
	res.Latency = latencyOf(hist)
	if cfg.Rate > 0 {
		l := latencyOf(late)
		res.SendLateness = &l
	}
	return res
}

// runWindow sends as fast as the window allows: a request needs a slot, an
// answer frees it. The writer is flushed whenever the window is full, so
// requests leave in batches while answers are due and one by one after.
func (s *session) runWindow(stop <-chan struct{}, budget *atomic.Int64) error {
	limited := s.run.cfg.Orders > 0
	for {
		select {
		case <-stop:
			return s.flush()
		default:
		}
		select {
		case s.slots <- struct{}{}:
		default:
			if err := s.flush(); err != nil {
				return err
			}
			select {
			case s.slots <- struct{}{}:
			case <-stop:
				return s.flush()
			}
		}
		if limited && budget.Load() <= 0 {
			<-s.slots
			return s.flush()
		}
		kind, err := s.send(int64(s.now()))
		if err != nil {
			return err
		}
		if limited && kind == kindNew {
			budget.Add(-1)
		}
	}
}

// runRate sends this session's share of the rate on a fixed schedule,
// sessions interleaved; each order is stamped with its scheduled time.
func (s *session) runRate(stop <-chan struct{}, budget *atomic.Int64, i, n int) error {
	limited := s.run.cfg.Orders > 0
	interval := int64(time.Second) * int64(n) / int64(s.run.cfg.Rate)
	interval = max(interval, 1)
	next := int64(s.now()) + interval*int64(i)/int64(n)
	pace := newPacer() // locks this goroutine to its thread until it exits
	// late is the client's own lateness: each order's scheduled time to
	// the start of the write that sent it (read before the write, so it
	// is never more than the order's ack latency; an order that left
	// earlier, in a full buffer's write, is counted late by the rest).
	// It is in the ack latency too; reported apart, it shows how much of
	// that latency is the client's.
	late := newHist()
	defer func() {
		s.mu.Lock()
		s.lateHist.Merge(late)
		s.mu.Unlock()
	}()
	var due []int64 // scheduled times of the orders in the writer's buffer
	stamp := func() {
		at := int64(s.now())
		for _, t := range due {
			_ = late.RecordValue(min(max(at-t, histMinNs), histMaxNs))
		}
		due = due[:0]
	}
	flush := func() error {
		stamp()
		return s.flush()
	}
	for {
		select {
		case <-stop:
			return flush()
		default:
		}
		now := int64(s.now())
		for next <= now {
			if limited && budget.Load() <= 0 {
				return flush()
			}
			kind, err := s.send(next)
			if err != nil {
				stamp()
				return err
			}
			if kind == kindNew {
				due = append(due, next)
				next += interval
				if limited {
					budget.Add(-1)
				}
			}
		}
		if len(due) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		// Short sleeps, so that a stop is seen within 5 ms.
		pace.sleep(min(time.Duration(next-int64(s.now())), 5*time.Millisecond))
	}
}

// progress prints a line a second: totals, and the last second's rate and
// latency.
type progress struct {
	r        *runner
	sessions []*session
	start    time.Duration // since the run's base: the first order
	prevAcks int64
	prevAt   time.Duration
}

func (p *progress) line() {
	if p.r.cfg.Progress == nil {
		return
	}
	c := newCounters()
	iv := newHist()
	for _, s := range p.sessions {
		s.snapshot(&c, iv)
	}
	now := time.Since(p.r.base)
	rate := float64(c.ordersAcked-p.prevAcks) / (now - p.prevAt).Seconds()
	p.prevAcks, p.prevAt = c.ordersAcked, now
	lat := latencyOf(iv)
	fmt.Fprintf(p.r.cfg.Progress, "loadtest %4.0fs  orders %s  acks %s (%s/s)  fills %s  rejects %d  ack p50 %s p99 %s max %s\n",
		(now - p.start).Seconds(), groupInt(c.ordersSent), groupInt(c.ordersAcked), groupInt(int64(rate)),
		groupInt(c.fills), c.rejectCount(), fmtUs(lat.P50, lat.Count), fmtUs(lat.P99, lat.Count), fmtUs(lat.Max, lat.Count))
}

// fmtUs formats microseconds for a person: 312µs, 1.25ms, 2.1s.
func fmtUs(us float64, count int64) string {
	switch {
	case count == 0:
		return "-"
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2fms", us/1e3)
	}
	return fmt.Sprintf("%.2fs", us/1e6)
}
