package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"venue/config"
	"venue/logging"
	"venue/refdata"
	"venue/server"
)

func newDevCmd(g *globals) *cobra.Command {
	var dataFlag, cpuProfile, memProfile, traceFile string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole venue on this machine with the dev firms, sessions and funding",
		Long: "dev runs the venue in one process with the dev configuration contract:\n" +
			"FIX 4.4 order entry (fix.order_entry_addr, 127.0.0.1:9878), venue CompID VENUE,\n" +
			"firms FIRM_A, FIRM_B, FIRM_C (one account each, named like the firm), dev\n" +
			"passwords (the CompID in lower case), BTC-USD, and each account funded once\n" +
			"with 1,000 BTC and 100,000,000 USD. It prints `ready` when every listener is\n" +
			"up. The journal and snapshots live in --data (default data_dir, ./venue-data):\n" +
			"started again on the same directory it recovers the venue as it was.\n" +
			"SIGINT or SIGTERM stops it cleanly.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if dataFlag != "" {
				cfg.DataDir = dataFlag
			}
			log, err := logging.New(cfg.Log.Level, cfg.Log.Dev)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			if gc, ok := applyRuntime(cfg.Runtime, os.Getenv); ok {
				log.Info("garbage collector target", zap.Int("gc_percent", gc))
			}
			for _, p := range []struct {
				flag, path string
				start      func(io.Writer) error
				stop       func()
			}{{"--cpuprofile", cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile}, {"--trace", traceFile, trace.Start, trace.Stop}} {
				stopProfile, err := startProfile("dev", p.flag, p.path, p.start, p.stop)
				if err != nil {
					return err
				}
				defer func() {
					if err := stopProfile(); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
					}
				}()
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)

			srv, err := server.Start(cfg, server.Options{Dev: true, Logger: log})
			if err != nil {
				return fmt.Errorf("dev: %w", err)
			}
			out := cmd.OutOrStdout()
			printDev(out, srv, cfg.DataDir)
			fmt.Fprintln(out, "ready")

			var runErr error
			select {
			case sig := <-sigs:
				fmt.Fprintf(out, "stopping on %s\n", sig)
			case err := <-srv.Err():
				if err != nil {
					runErr = fmt.Errorf("dev: %w", err)
				}
			case <-srv.SequencerDone():
				runErr = fmt.Errorf("dev: sequencer stopped: %v", srv.Seq.Err())
			}
			if memProfile != "" { // the live heap while the venue still holds it
				if err := writeHeapProfile(memProfile); err != nil && runErr == nil {
					runErr = fmt.Errorf("dev: --memprofile: %w", err)
				}
			}
			if err := srv.Close(); err != nil && runErr == nil {
				runErr = fmt.Errorf("dev: stop: %w", err)
			}
			if runErr == nil {
				fmt.Fprintf(out, "stopped at seq %d\n", srv.Seq.Stats().LastSeq)
			}
			return runErr
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the venue to this file until it stops")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile of the venue to this file when it is told to stop (before it stops)")
	cmd.Flags().StringVar(&traceFile, "trace", "", "write a Go execution trace of the venue to this file until it stops (go tool trace)")
	cmd.Flags().StringVar(&dataFlag, "data", "", "data directory: journal and snapshots (default data_dir, ./venue-data)")
	return cmd
}

// applyRuntime sets the garbage collector's target from the configuration
// unless the GOGC environment variable says otherwise; it reports what it
// set.
func applyRuntime(r config.Runtime, getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" || r.GCPercent == 0 {
		return 0, false
	}
	debug.SetGCPercent(r.GCPercent)
	return r.GCPercent, true
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // up-to-date live heap
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printDev(out io.Writer, srv *server.Server, dataDir string) {
	rec := srv.Recovery
	fmt.Fprintf(out, "venue dev: data %s, recovered to seq %d (snapshot %d, replayed %d) state %s\n",
		dataDir, rec.LastSeq, rec.SnapshotSeq, rec.Replayed, rec.StateHashHex()[:16])
	fmt.Fprintf(out, "FIX 4.4 order entry on %s, TargetCompID (56) VENUE\n", srv.OEAcc.Addr())
	if srv.DCAcc != nil {
		fmt.Fprintf(out, "FIX 4.4 drop copy on %s (sequence numbers kept across logons: log on with 141=N to get what you missed)\n", srv.DCAcc.Addr())
	}
	if srv.MD != nil {
		fmt.Fprintf(out, "FIX 4.4 market data on %s (MarketDataRequest 35=V: snapshot W, then incremental X)\n", srv.MD.Addr())
	}
	if srv.Ops != nil {
		fmt.Fprintf(out, "ops HTTP on http://%s: /healthz /readyz /metrics; admin POST /admin/... with Authorization: Bearer %s and X-Operator: <your name>\n", srv.Ops.Addr(), srv.OpsToken)
	}
	fmt.Fprintln(out, "sessions (dev passwords; Logon 553=CompID 554=password, 141=Y):")
	for _, s := range srv.Directory.Sessions() {
		note := ""
		switch {
		case s.Kind == refdata.DropCopy && s.TradeCaptureReports:
			note = " (trades as TradeCaptureReports)"
		}
		if s.Kind == refdata.DropCopy {
			if f, ok := srv.Directory.Firm(s.Firm); ok {
				note = " firm " + f.Name + note
			}
		}
		acct := ""
		if a, ok := srv.Directory.Account(s.Account); ok {
			acct = " account " + a.Name
		}
		fmt.Fprintf(out, "  %-10s %-12s password %s%s%s\n", s.CompID, s.Kind, refdata.DevPassword(s.CompID), acct, note)
	}
	for _, sym := range srv.Universe.Symbols() {
		fmt.Fprintf(out, "symbol %s tick %s qty step %s min qty %s ref px %s band +-%s bps\n",
			sym.Name, sym.Tick, sym.QtyStep, sym.MinQty, sym.PxDec(sym.Spec.RefPx), fmt.Sprint(sym.Spec.BandBps))
	}
}
