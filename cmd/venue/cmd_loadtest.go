package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"venue/loadtest"
)

// demoCompIDs are the dev venue's order-entry sessions (DESIGN.md).
var demoCompIDs = []string{"FIRM_A", "FIRM_B", "FIRM_C"}

func newLoadtestCmd(g *globals) *cobra.Command {
	def := loadtest.DefaultConfig()
	var (
		addr, target, mix, cpuProfile string
		compIDs                       []string
		sessions                      int
		jsonOut, noProgress           bool
	)
	cfg := def
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive the venue's FIX order entry with simulated traders and measure it",
		Long: "loadtest logs on FIX order-entry sessions (FIRM_A, FIRM_B, FIRM_C by default,\n" +
			"dev passwords: the CompID in lower case), runs makers (limit orders a few ticks\n" +
			"around 60,000.00, canceled to stay bounded) and takers (IOC and limit orders\n" +
			"that cross), and reports orders/s and the acknowledgment latency of every\n" +
			"NewOrderSingle (sent -> first ExecutionReport) from an HDR histogram.\n\n" +
			"Two modes: --window W keeps up to W requests outstanding per session (closed\n" +
			"loop); --rate R sends R orders/s across all sessions on a fixed schedule (open\n" +
			"loop, latency from each order's scheduled time: no coordinated omission).\n" +
			"It always stops by itself: --duration (at most " + loadtest.MaxDuration.String() + "), or --orders.\n" +
			"A progress line a second goes to stderr, the summary to stdout (--json: JSON).\n\n" +
			"--addr defaults to fix.order_entry_addr of the configuration (127.0.0.1:9878).\n" +
			"With one session there are no fills: its takers meet only its own quotes,\n" +
			"which self-trade prevention cancels.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "loadtest"
			if !cmd.Flags().Changed("addr") || !cmd.Flags().Changed("target-comp-id") {
				c, err := g.loadConfig()
				if err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
				if !cmd.Flags().Changed("addr") {
					addr = c.FIX.OrderEntryAddr
				}
				if !cmd.Flags().Changed("target-comp-id") {
					target = c.FIX.CompID
				}
			}
			cfg.Addr, cfg.TargetCompID = addr, target
			ids, err := pickCompIDs(compIDs, sessions, cmd.Flags().Changed("sessions"))
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			cfg.CompIDs = ids
			if cfg.Makers, cfg.Takers, err = parseMix(mix); err != nil {
				return fmt.Errorf("%s: --mix: %w", op, err)
			}
			if cfg.Rate > 0 && cmd.Flags().Changed("window") {
				return errors.New(op + ": --window and --rate exclude each other")
			}
			if !noProgress {
				cfg.Progress = cmd.ErrOrStderr()
			}
			cfg.Warn = cmd.ErrOrStderr()
			if err := cfg.Validate(); err != nil {
				return err
			}
			stopProfile, err := startProfile(op, "--cpuprofile", cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
			if err != nil {
				return err
			}
			defer func() {
				if err := stopProfile(); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
				}
			}()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, runErr := loadtest.Run(ctx, cfg)
			if res != nil {
				out := cmd.OutOrStdout()
				if jsonOut {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					if err := enc.Encode(res); err != nil {
						return fmt.Errorf("%s: %w", op, err)
					}
				} else {
					printLoadResult(out, res)
				}
			}
			if runErr != nil {
				return runErr
			}
			if res.Acks == 0 {
				return errors.New(op + ": no order was acknowledged")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", def.Addr, "order-entry host:port (default: fix.order_entry_addr)")
	f.StringVar(&target, "target-comp-id", def.TargetCompID, "the venue's CompID (default: fix.comp_id)")
	f.IntVar(&sessions, "sessions", len(demoCompIDs), "sessions, mapped onto FIRM_A, FIRM_B, FIRM_C (or the first N of --comp-ids)")
	f.StringSliceVar(&compIDs, "comp-ids", nil, "CompIDs of the sessions, comma-separated (password: the CompID in lower case)")
	f.IntVar(&cfg.Window, "window", def.Window, "pipelined: requests outstanding per session")
	f.IntVar(&cfg.Rate, "rate", 0, "fixed rate: new orders/s across all sessions, open loop (0: window mode)")
	f.DurationVar(&cfg.Duration, "duration", def.Duration, "how long to send orders (at most "+loadtest.MaxDuration.String()+")")
	f.Int64Var(&cfg.Orders, "orders", 0, "stop after this many new orders (0: no limit)")
	f.StringVar(&mix, "mix", "1/1", "makers/takers: the share of maker to taker sessions (one session does both)")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed of the traders' random choices")
	f.IntVar(&cfg.MaxResting, "max-resting", def.MaxResting, "resting orders per session before the trader cancels its oldest (at most "+strconv.Itoa(loadtest.MaxRestingCap)+")")
	f.IntVar(&cfg.HeartBtInt, "heartbeat", def.HeartBtInt, "HeartBtInt (108) in seconds")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	f.BoolVar(&noProgress, "no-progress", false, "no progress line on stderr")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the load client to this file")
	return cmd
}

// pickCompIDs returns the sessions' CompIDs: the first n of list (or of
// the demo sessions when list is empty); without --sessions, all of list.
func pickCompIDs(list []string, n int, nSet bool) ([]string, error) {
	src := demoCompIDs
	if len(list) > 0 {
		src = make([]string, len(list))
		for i, id := range list {
			src[i] = strings.TrimSpace(id)
		}
		if !nSet {
			n = len(list)
		}
	}
	if n < 1 || n > len(src) {
		return nil, fmt.Errorf("--sessions: %d not in 1..%d (CompIDs: %s)", n, len(src), strings.Join(src, ","))
	}
	return append([]string(nil), src[:n]...), nil
}

// parseMix parses "makers/takers", e.g. "1/1" or "2/1".
func parseMix(s string) (makers, takers int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want makers/takers, e.g. 1/1", s)
	}
	makers, err1 := strconv.Atoi(strings.TrimSpace(a))
	takers, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || makers < 0 || takers < 0 || makers+takers == 0 || makers > 1000 || takers > 1000 {
		return 0, 0, fmt.Errorf("%q: want two whole numbers 0..1000, not both 0", s)
	}
	return makers, takers, nil
}

// printLoadResult writes the summary a person reads.
func printLoadResult(w io.Writer, r *loadtest.Result) {
	mode := fmt.Sprintf("window %d per session", r.Window)
	if r.Mode == "rate" {
		mode = fmt.Sprintf("fixed rate %d orders/s (open loop)", r.RateTarget)
	}
	roles := make([]string, len(r.Sessions))
	for i := range r.Sessions {
		roles[i] = r.Sessions[i] + " " + r.Roles[i]
	}
	fmt.Fprintf(w, "venue loadtest: %s, %d sessions (%s), %s, seed %d\n",
		r.Addr, len(r.Sessions), strings.Join(roles, ", "), mode, r.Seed)
	fmt.Fprintf(w, "elapsed        %.2f s\n", r.Elapsed)
	fmt.Fprintf(w, "orders         %d sent, %d acknowledged, %d unanswered: %.0f orders/s (%.0f msgs/s with cancels)\n",
		r.OrdersSent, r.Acks, r.Unanswered, r.OrdersPerSec, r.MsgsPerSec)
	fmt.Fprintf(w, "cancels        %d sent, %d answered; %d orders canceled in all (incl. IOC remainders), %d expired\n",
		r.CancelsSent, r.CancelsAnswered, r.Canceled, r.Expired)
	fmt.Fprintf(w, "rejects        %d%s\n", r.Rejects, reasons(r.RejectsByReason, "103"))
	if len(r.CancelRejects) > 0 {
		var n int64
		for _, c := range r.CancelRejects {
			n += c.Count
		}
		fmt.Fprintf(w, "cancel rejects %d%s (a fill won the race)\n", n, reasons(r.CancelRejects, "102"))
	}
	if r.SessionRejects+r.BusinessRejects+r.ChecksumErrors+r.SeqGaps > 0 {
		fmt.Fprintf(w, "session        %d rejects (35=3), %d business rejects (35=j), %d bad checksums, %d sequence gaps\n",
			r.SessionRejects, r.BusinessRejects, r.ChecksumErrors, r.SeqGaps)
	}
	fmt.Fprintf(w, "trades         %d (%d fill reports, both sides)\n", r.Trades, r.Fills)
	fmt.Fprintf(w, "volume         %s BTC, notional %s USD\n", r.VolumeBTC.StringFixed(8), r.NotionalUSD.StringFixed(2))
	l := r.Latency
	fmt.Fprintf(w, "ack latency    µs over %d orders: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (mean %.1f)\n",
		l.Count, l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	if sl := r.SendLateness; sl != nil {
		fmt.Fprintf(w, "send lateness  µs (the client's, included above): p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
			sl.P50, sl.P99, sl.P999, sl.Max)
	}
	if r.Unanswered > 0 {
		fmt.Fprintf(w, "               %d of them unanswered, counted at their age at the end: lower bounds\n", r.Unanswered)
	}
	if r.Stale > 0 {
		fmt.Fprintf(w, "note           %d reports for orders of an earlier run (cancel-on-disconnect at logon)\n", r.Stale)
	}
}

func reasons(rs []loadtest.Reject, tag string) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		p := fmt.Sprintf("%s=%d: %d", tag, r.Reason, r.Count)
		if r.Reason < 0 {
			p = fmt.Sprintf("no %s: %d", tag, r.Count)
		}
		if r.Text != "" {
			p += " (" + r.Text + ")"
		}
		parts[i] = p
	}
	return " [" + strings.Join(parts, "; ") + "]"
}
