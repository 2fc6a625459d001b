// Package server wires the running venue: reference data, the engine and
// its sequencer (journal, snapshots, recovery), the FIX gateways and the
// timers that drive the trading day. cmd/venue's `dev` and `serve` start it.
package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"venue/backoffice"
	"venue/config"
	"venue/fix"
	"venue/logging"
	"venue/matching"
	"venue/ops"
	"venue/refdata"
	"venue/sequencer"
	"venue/spec"
)

// Options are what the configuration file does not say.
type Options struct {
	// Dev bootstraps the dev configuration contract (DESIGN.md): firms,
	// accounts, sessions with dev passwords, fee tier, funding.
	Dev bool
	// BcryptCost hashes the dev passwords (default bcrypt.DefaultCost).
	BcryptCost int
	// Clock is the venue's time in unix nanoseconds (default time.Now);
	// tests move it.
	Clock func() int64
	// RouterBuffer is the commands a FIX router may lag behind before the
	// sequencer drops it and it catches up from the journal (default
	// 262,144; tests make it small).
	RouterBuffer int
	// ClockTick is how often a Clock command carries time to the engine
	// when nothing else does (GTD expiry); default 1s, negative: never.
	ClockTick time.Duration
	// Sessions are put into the dev directory before anything starts, so
	// drop-copy sessions among them get their static sessions (tests and
	// benchmarks; production sessions come from the back office).
	Sessions []refdata.Session
	// DropCopyStores, when set, wraps the drop copy's message store
	// factory (tests: a store that fails for a while).
	DropCopyStores func(quickfix.MessageStoreFactory) quickfix.MessageStoreFactory
	Logger         *zap.Logger
}

// Server is a running venue.
type Server struct {
	Universe  *refdata.Universe
	Directory *refdata.Directory
	Engine    *matching.Engine
	Seq       *sequencer.Sequencer
	Recovery  sequencer.Recovery
	OE        *fix.OrderEntry
	OEAcc     *fix.Acceptor
	DC        *fix.DropCopy
	DCAcc     *fix.Acceptor
	Ops       *ops.Server
	OpsToken  string // the admin token in force

	depth     *ops.DepthFollower
	auditFile *ops.FileAuditor
	auditDB   *sql.DB
	MD        *fix.MarketData

	// BackOffice is the PostgreSQL projection (server/backoffice.go).
	BackOffice *backoffice.Service
	// dcLive is DC once it follows the sequencer: the reference-data
	// follower adds the drop-copy sessions created since to it.
	dcLive atomic.Pointer[fix.DropCopy]

	log      *zap.Logger
	stop     chan struct{}
	wg       sync.WaitGroup
	routeErr chan error
	// routerBuffer is Options.RouterBuffer.
	routerBuffer int
	dcStores     func(quickfix.MessageStoreFactory) quickfix.MessageStoreFactory
	clockNow     func() int64
	once         sync.Once
}

// routerBuffer is the commands a FIX router may lag behind the sequencer
// before it is dropped (and catches up from the journal).
const routerBuffer = 1 << 18

// JournalDir is where the journal and snapshots of a data directory live.
func JournalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// Start recovers the venue in cfg.DataDir and opens its listeners.
func Start(cfg *config.Config, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.DefaultCost
	}
	if opts.ClockTick == 0 {
		opts.ClockTick = time.Second
	}
	if opts.RouterBuffer <= 0 {
		opts.RouterBuffer = routerBuffer
	}
	if opts.Clock == nil {
		opts.Clock = func() int64 { return time.Now().UnixNano() }
	}
	s := &Server{log: log, stop: make(chan struct{}), routeErr: make(chan error, 1), routerBuffer: opts.RouterBuffer,
		dcStores: opts.DropCopyStores}
	var err error

	// 1. reference data.
	if s.Universe, err = refdata.FromConfig(cfg.Symbols); err != nil {
		return nil, err
	}
	if !opts.Dev {
		return nil, errors.New("server: only the dev reference data exists yet: run `venue dev`")
	}
	if s.Directory, err = refdata.Dev(opts.BcryptCost); err != nil {
		return nil, err
	}
	for _, ss := range opts.Sessions {
		s.Directory.PutSession(ss)
	}

	// 2. the engine, recovered from the journal by the sequencer.
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	s.Engine = matching.New()
	slogLevel := slog.LevelInfo
	if cfg.Log.Level == "debug" {
		slogLevel = slog.LevelDebug
	} else if cfg.Log.Level == "warn" || cfg.Log.Level == "error" {
		slogLevel = slog.LevelWarn
	}
	s.Seq, s.Recovery, err = sequencer.Open(JournalDir(cfg.DataDir), s.Engine, sequencer.Config{
		MaxBatch:      cfg.Journal.MaxBatch,
		MaxDelay:      cfg.Journal.MaxDelay,
		SnapshotEvery: cfg.Snapshot.EveryCommands,
		SegmentSize:   cfg.Journal.SegmentSizeBytes,
		QueueDepth:    65_536,
		Clock:         opts.Clock,
		Logger:        slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slogLevel})),
	})
	if err != nil {
		return nil, err
	}

	// 2b. a venue that was down over 00:00 UTC runs the missed day roll
	// before anything else: Day orders expire, the ClOrdIDs are forgotten.
	s.clockNow = opts.Clock
	if last := s.Recovery.LastTime; last > 0 && utcDay(last).Before(utcDay(opts.Clock())) {
		log.Info("the venue was down over midnight UTC: rolling the trading day",
			zap.Time("last_command", time.Unix(0, last).UTC()))
		if err := s.rollDay(); err != nil {
			_ = s.Seq.Close()
			return nil, fmt.Errorf("server: day roll: %w", err)
		}
	}

	// 3. reference data and funding into the engine, once (idempotent).
	if err := s.bootstrap(); err != nil {
		_ = s.Seq.Close()
		return nil, err
	}

	// 4. order entry: its view of the orders, then the router of reports.
	fixLog := logging.Sub(log, logging.FIX)
	ledger, err := openCODLedger(filepath.Join(cfg.DataDir, "fix", "cancel-on-disconnect"))
	if err != nil {
		_ = s.Seq.Close()
		return nil, err
	}
	s.OE = fix.NewOrderEntry(fix.OrderEntryConfig{
		CompID:            cfg.FIX.CompID,
		ThrottlePerSecond: cfg.FIX.ThrottlePerSecond,
		LogonMaxFailures:  cfg.FIX.LogonMaxFailures,
		LogonWindow:       cfg.FIX.LogonFailureWindow,
		LogonLockout:      cfg.FIX.LogonLockout,
		OutQueue:          cfg.FIX.OrderEntryMaxBacklog,
		CODLedger:         ledger,
	}, s.Directory, s.Universe, s.Seq, fixLog)
	sub := s.Seq.Subscribe("fix-order-entry", s.routerBuffer)
	s.OE.Seed(s.Engine) // nothing is submitted between Subscribe and here
	s.follow("fix-order-entry", sub, s.OE.Route, func(to uint64) error {
		from := s.OE.LastSeq() + 1
		fixLog.Warn("order-entry router fell behind the sequencer: catching up from the journal", zap.Uint64("from_seq", from))
		return s.OE.CatchUp(JournalDir(cfg.DataDir), from, to)
	})

	if err := s.startBackOffice(cfg); err != nil {
		s.Close()
		return nil, err
	}
	s.followRefdata(cfg)

	// 4b. sessions that were logged on with cancel-on-disconnect when the
	// venue went down uncleanly were disconnected without their cancels:
	// they run now, before anything can trade, with the router following
	// (so the sessions get the reports at their next Logon) and the back
	// office's symbols known (so the reports carry their units).
	if err := s.cancelAfterCrash(ledger, fixLog); err != nil {
		s.Close()
		return nil, err
	}

	s.followDepth()
	// Market data seeds its books from the engine: before any acceptor
	// takes orders.
	if err := s.startMarketData(cfg); err != nil {
		s.Close()
		return nil, err
	}

	// 5. the FIX acceptors behind the guard.
	dict, err := spec.WriteFIX44(filepath.Join(cfg.DataDir, "fix"))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.OEAcc, err = fix.StartAcceptor(fix.AcceptorConfig{
		Addr: cfg.FIX.OrderEntryAddr, CompID: cfg.FIX.CompID, DictionaryPath: dict,
		TLSCertFile: cfg.FIX.TLSCertFile, TLSKeyFile: cfg.FIX.TLSKeyFile,
		ClientWriteTimeout: cfg.FIX.ClientWriteTimeout,
	}, s.OE, fixLog)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.OE.Attach(s.OEAcc)
	if err := s.startDropCopy(cfg, dict, fixLog); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startOps(cfg, opts.Dev); err != nil {
		s.Close()
		return nil, err
	}

	// 6. the trading day: clock ticks (GTD expiry), and at 00:00 UTC the
	// session close (Day orders expire) and a new day (ClOrdIDs forgotten).
	if opts.ClockTick > 0 {
		s.wg.Add(1)
		go s.clock(opts.ClockTick)
	}
	return s, nil
}

// startDropCopy starts the drop-copy acceptor with one static session per
// drop-copy CompID, sends each what it missed while the venue was down
// (from the journal, after the last report in its store), then follows the
// sequencer.
func (s *Server) startDropCopy(cfg *config.Config, dict string, log *zap.Logger) error {
	s.DC = fix.NewDropCopy(fix.DropCopyConfig{
		CompID:           cfg.FIX.CompID,
		LogonMaxFailures: cfg.FIX.LogonMaxFailures,
		LogonWindow:      cfg.FIX.LogonFailureWindow,
		LogonLockout:     cfg.FIX.LogonLockout,
		MaxBacklog:       cfg.FIX.DropCopyMaxBacklog,
	}, s.Directory, s.Universe, log)
	comps := s.DC.CompIDs()
	if len(comps) == 0 {
		return nil
	}
	sub := s.Seq.Subscribe("fix-drop-copy", s.routerBuffer)
	var err error
	s.DCAcc, err = fix.StartAcceptor(fix.AcceptorConfig{
		Addr: cfg.FIX.DropCopyAddr, CompID: cfg.FIX.CompID, DictionaryPath: dict,
		TLSCertFile: cfg.FIX.TLSCertFile, TLSKeyFile: cfg.FIX.TLSKeyFile,
		StaticSessions: comps, StoreDir: filepath.Join(cfg.DataDir, "fix", "dropcopy"),
		LogFactory: s.DC.LogFactory(), ClientWriteTimeout: cfg.FIX.ClientWriteTimeout,
		WrapStores: s.dcStores,
	}, s.DC, log)
	if err != nil {
		sub.Close()
		return err
	}
	if err := s.DC.Attach(s.DCAcc); err != nil {
		sub.Close()
		return err
	}
	if err := s.DC.CatchUp(JournalDir(cfg.DataDir), sub.FirstSeq-1); err != nil {
		sub.Close()
		return err
	}
	s.follow("fix-drop-copy", sub, s.DC.Route, func(to uint64) error {
		log.Warn("drop copy fell behind the sequencer: catching up from the journal")
		return s.DC.CatchUp(JournalDir(cfg.DataDir), to) // each session's cursor skips what it has
	})
	s.dcLive.Store(s.DC)
	// A session the follower put into the directory after NewDropCopy read
	// it, and before dcLive was set, joins now.
	for _, ss := range s.Directory.Sessions() {
		if err := s.DC.AddSession(ss); err != nil {
			log.Error("drop-copy session not added", zap.String("comp_id", ss.CompID), zap.Error(err))
		}
	}
	return nil
}

// Err delivers at most one fatal condition after start: a router (order
// entry or drop copy) fell behind the sequencer.
func (s *Server) Err() <-chan error { return s.routeErr }

// SequencerDone is closed when the sequencer stops.
func (s *Server) SequencerDone() <-chan struct{} { return s.Seq.Done() }

func (s *Server) submit(cmd *matching.Command) (sequencer.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Seq.Submit(ctx, cmd)
}

// cancelAfterCrash opens the cancel-on-disconnect ledger and cancels the
// orders of every session it still lists (fix.CODLedger): the venue
// stopped without a clean Logout of those sessions, so their
// cancel-on-disconnect never ran. The cancels are journaled like any
// (reason: disconnect); their reports reach each session at its next Logon
// and the drop copies at once.
func (s *Server) cancelAfterCrash(ledger *fix.CODLedger, log *zap.Logger) error {
	for _, id := range ledger.Pending() {
		cmd := matching.Command{Kind: matching.CmdMassCancel, Session: id, OnlySession: true, Reason: matching.ReasonDisconnect}
		comp := ""
		if ss, ok := s.Directory.SessionByID(id); ok {
			cmd.Firm, comp = ss.Firm, ss.CompID
		}
		res, err := s.submit(&cmd)
		if err != nil {
			return fmt.Errorf("server: cancel on disconnect of session %d after an unclean stop: %w", id, err)
		}
		n := int64(0)
		for _, ev := range res.Events {
			if ev.Kind == matching.EvMassCanceled {
				n = ev.Count
			}
		}
		log.Warn("cancel on disconnect after an unclean stop", zap.String("comp_id", comp),
			zap.Uint32("session_id", uint32(id)), zap.Int64("canceled", n), zap.Uint64("seq", res.Seq))
		if err := ledger.Remove(id); err != nil {
			return err
		}
	}
	return nil
}

func openCODLedger(path string) (*fix.CODLedger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return fix.OpenCODLedger(path)
}

// bootstrap puts the dev reference data into the engine. Symbols already
// there are left alone; accounts and fee tiers are upserts; deposits carry
// idempotency keys, so a restart funds nobody twice.
func (s *Server) bootstrap() error {
	for _, sym := range s.Universe.Symbols() {
		if s.Engine.HasSymbol(sym.Spec.ID) {
			continue
		}
		sp := sym.Spec
		if _, err := s.mustApply(&matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &sp}); err != nil {
			return fmt.Errorf("server: add symbol %s: %w", sym.Name, err)
		}
	}
	if _, err := s.mustApply(&matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: 0,
		MakerPpm: refdata.DevMakerPpm, TakerPpm: refdata.DevTakerPpm}); err != nil {
		return fmt.Errorf("server: fee tier: %w", err)
	}
	for _, a := range s.Directory.Accounts() {
		sp := a.Spec
		if _, err := s.mustApply(&matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &sp}); err != nil {
			return fmt.Errorf("server: add account %s: %w", a.Name, err)
		}
		for _, asset := range s.Universe.Assets() {
			amt, ok := refdata.DevFunding[asset.Name]
			if !ok {
				continue
			}
			q, r := amt.QuoRem(asset.Unit, 0)
			if !r.IsZero() || !q.BigInt().IsInt64() {
				return fmt.Errorf("server: dev funding %s %s is not a whole number of units", amt, asset.Name)
			}
			res, err := s.submit(&matching.Command{Kind: matching.CmdDeposit, Account: a.Spec.ID,
				Asset: asset.ID, Amount: q.IntPart(), Key: "dev-funding:" + a.Name + ":" + asset.Name})
			if err != nil {
				return fmt.Errorf("server: fund %s: %w", a.Name, err)
			}
			if len(res.Events) == 1 && res.Events[0].Reason != 0 && res.Events[0].Reason != matching.BalDuplicate {
				return fmt.Errorf("server: fund %s %s: %s", a.Name, asset.Name, res.Events[0].Reason)
			}
		}
	}
	return nil
}

// mustApply submits a reference-data command and fails if the engine
// refused it.
func (s *Server) mustApply(cmd *matching.Command) (sequencer.Result, error) {
	res, err := s.submit(cmd)
	if err != nil {
		return res, err
	}
	for _, ev := range res.Events {
		if ev.Kind == matching.EvRefData && ev.Reason != 0 {
			return res, errors.New(ev.Reason.String())
		}
	}
	return res, nil
}

// follow runs a FIX router on its subscription until the venue stops. A
// router that falls behind the sequencer is dropped by it; it then
// subscribes again and catchUp renders, from the journal, the commands up
// to the new subscription's first: reports are late, never lost, and the
// venue keeps running. Only a failed catch-up is fatal (Err).
func (s *Server) follow(name string, sub *sequencer.Subscription,
	route func(*sequencer.Subscription, <-chan struct{}) error, catchUp func(to uint64) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			if err := route(sub, s.stop); err == nil {
				return
			}
			select {
			case <-s.stop:
				return
			case <-s.Seq.Done():
				return
			default:
			}
			sub = s.Seq.Subscribe(name, s.routerBuffer)
			if err := catchUp(sub.FirstSeq - 1); err != nil {
				sub.Close()
				select {
				case s.routeErr <- err:
				default:
				}
				return
			}
		}
	}()
}

// utcDay is the UTC day of a unix-nanosecond time.
func utcDay(nanos int64) time.Time { return time.Unix(0, nanos).UTC().Truncate(24 * time.Hour) }

// rollDay closes every symbol's session (Day orders expire) and starts a
// new trading day (ClOrdIDs may be reused), durably, in that order.
func (s *Server) rollDay() error {
	for _, sym := range s.Universe.Symbols() {
		if _, err := s.submit(&matching.Command{Kind: matching.CmdSessionClose, Symbol: sym.Spec.ID}); err != nil {
			return err
		}
	}
	_, err := s.submit(&matching.Command{Kind: matching.CmdNewDay})
	return err
}

func (s *Server) clock(tick time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	day := utcDay(s.clockNow())
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			today := utcDay(s.clockNow())
			if today.After(day) {
				day = today
				for _, sym := range s.Universe.Symbols() {
					s.async(&matching.Command{Kind: matching.CmdSessionClose, Symbol: sym.Spec.ID})
				}
				s.async(&matching.Command{Kind: matching.CmdNewDay})
				continue
			}
			s.async(&matching.Command{Kind: matching.CmdClock})
		}
	}
}

func (s *Server) async(cmd *matching.Command) {
	if err := s.Seq.SubmitAsync(cmd, nil); err != nil && !errors.Is(err, sequencer.ErrClosed) {
		s.log.Warn("timer command not submitted", zap.Uint8("kind", uint8(cmd.Kind)), zap.Error(err))
	}
}

// Close stops the listeners (sessions log out; cancel-on-disconnect
// cancels are submitted), then the sequencer, which finishes what is
// queued, and waits for the router.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		if s.Ops != nil {
			_ = s.Ops.Close()
		}
		if s.OEAcc != nil {
			err = s.OEAcc.Stop()
		}
		if s.DCAcc != nil {
			if derr := s.DCAcc.Stop(); derr != nil && err == nil {
				err = derr
			}
		}
		s.stopMarketData()
		close(s.stop)
		if cerr := s.Seq.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if s.OE != nil {
			s.OE.WaitLedger()
		}
		s.stopBackOffice()
		s.wg.Wait()
		if s.auditFile != nil {
			_ = s.auditFile.Close()
		}
		if s.auditDB != nil {
			_ = s.auditDB.Close()
		}
	})
	return err
}
