package server

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"go.uber.org/zap"

	"venue/backoffice"
	"venue/config"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// refdataPoll is how often the venue reads the directory from PostgreSQL.
//
// Polling, not LISTEN/NOTIFY: four small queries a second cost nothing
// next to the projector, and a poll cannot miss a change, whether it was
// made while the listener reconnected, by `venue admin` or by hand in
// psql (which sends no NOTIFY unless a trigger does). A change reaches the
// venue in at most a second plus the queries.
const refdataPoll = time.Second

// followRefdata makes the back office's fee tiers, firms, accounts and FIX
// sessions the venue's: it reads them every refdataPoll once the back
// office has connected (so the dev bootstrap has run) and applies the
// differences. A new or changed account goes to the engine first
// (CmdAddAccount through the sequencer, journaled like any command), then
// into the directory; an order-entry session that becomes suspended is
// disconnected. With database.required the first read happens here,
// before the acceptors open, so no suspended session or account can slip
// in during the first second.
func (s *Server) followRefdata(cfg *config.Config) {
	if s.BackOffice == nil {
		return
	}
	f := &refdataFollower{s: s, url: cfg.Database.URL, log: s.log.Named("refdata"), listed: map[matching.SymbolID]bool{}}
	// The symbols in the engine, read while nothing submits (before the
	// acceptors open); the follower adds the others.
	for _, id := range s.Engine.SymbolIDs() {
		f.listed[id] = true
		if _, ok := s.Universe.SymbolByID(id); !ok {
			f.log.Warn("a symbol in the engine is not in the reference data yet: it trades once the back office is read",
				zap.Uint32("symbol_id", uint32(id)))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if cfg.Database.Required {
		if err := f.poll(ctx); err != nil {
			f.log.Warn("reference data not read from the back office", zap.Error(err))
		}
	}
	bo := s.BackOffice // the back office this venue started with
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer f.close()
		t := time.NewTicker(refdataPoll)
		defer t.Stop()
		go func() {
			<-s.stop
			cancel()
		}()
		failing := false
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			switch bo.Status().State {
			case backoffice.StateCatchingUp, backoffice.StateLive:
			default:
				continue // not connected: the bootstrap may not have run
			}
			if err := f.poll(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				if !failing {
					f.log.Warn("reference data not read from the back office, retrying", zap.Error(err))
				}
				failing = true
				f.close()
				continue
			}
			if failing {
				f.log.Info("reference data read from the back office again")
			}
			failing = false
		}
	}()
}

type refdataFollower struct {
	s      *Server
	url    string
	log    *zap.Logger
	store  *backoffice.Store
	fees   map[uint8]backoffice.FeeTier // as last set in the engine
	listed map[matching.SymbolID]bool   // symbols in the engine (or refused by it)
	// refusedRow is the last error of the symbols table, logged once.
	refusedRow string
}

func (f *refdataFollower) close() {
	if f.store != nil {
		_ = f.store.Close()
		f.store = nil
	}
}

// poll reads the tables once and applies what changed.
func (f *refdataFollower) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if f.store == nil {
		st, err := backoffice.Open(ctx, f.url)
		if err != nil {
			return err
		}
		st.DB().SetMaxOpenConns(1)
		f.store = st
	}
	defs, assets, err := f.store.LoadSymbols(ctx)
	if err != nil {
		return err
	}
	if err := f.applySymbols(defs, assets); err != nil {
		return err
	}
	d, err := f.store.LoadDirectory(ctx)
	if err != nil {
		return err
	}
	return f.apply(d)
}

// applySymbols lists the back office's new symbols: into the universe
// first (so every event of theirs can be read), then into the engine
// (CmdAddSymbol through the sequencer, journaled like any command).
func (f *refdataFollower) applySymbols(defs []refdata.SymbolDef, assets []refdata.Asset) error {
	added, err := backoffice.AddToUniverse(f.s.Universe, defs, assets)
	for _, sym := range added {
		f.log.Info("symbol in the reference data", zap.String("symbol", sym.Name), zap.Uint32("id", uint32(sym.Spec.ID)))
	}
	if err != nil && err.Error() != f.refusedRow {
		// A row that contradicts what the venue holds (edited by hand):
		// the venue keeps what it has and says so (once per new error).
		f.log.Error("symbol refused", zap.Error(err))
	}
	f.refusedRow = ""
	if err != nil {
		f.refusedRow = err.Error()
	}
	for _, sym := range f.s.Universe.Symbols() {
		if f.listed[sym.Spec.ID] {
			continue
		}
		sp := sym.Spec
		if _, err := f.s.mustApply(&matching.Command{Kind: matching.CmdAddSymbol, SymbolSpec: &sp}); err != nil {
			if stopping(err) {
				return err
			}
			// The engine's answer will not change: not again every poll.
			f.log.Error("symbol refused by the engine", zap.String("symbol", sym.Name), zap.Error(err))
			f.listed[sym.Spec.ID] = true
			continue
		}
		f.listed[sym.Spec.ID] = true
		f.log.Info("symbol listed", zap.String("symbol", sym.Name), zap.Uint32("id", uint32(sp.ID)),
			zap.Bool("halted", sp.Status == matching.StatusHalted))
	}
	return nil
}

// apply makes the directory what d says. Firms and accounts missing from
// d stay (the engine cannot forget an account; no admin command deletes
// one); a session missing from d is removed, so a row deleted by hand
// stops logging on.
func (f *refdataFollower) apply(d *backoffice.Directory) error {
	dir := f.s.Directory
	// Fee schedules first, so a new account's tier has its rates. The
	// first poll sets every tier the table has (the engine started with
	// the dev tier 0 of server.bootstrap).
	if f.fees == nil {
		f.fees = map[uint8]backoffice.FeeTier{}
	}
	for _, ft := range d.FeeTiers {
		if old, ok := f.fees[ft.Tier]; ok && old == ft {
			continue
		}
		if _, err := f.s.mustApply(&matching.Command{Kind: matching.CmdSetFeeTier, FeeTier: ft.Tier,
			MakerPpm: ft.MakerPpm, TakerPpm: ft.TakerPpm}); err != nil {
			if stopping(err) {
				return err
			}
			f.log.Error("fee tier refused by the engine", zap.Uint8("tier", ft.Tier), zap.Error(err))
			continue
		}
		f.fees[ft.Tier] = ft
		f.log.Info("fee tier", zap.Uint8("tier", ft.Tier), zap.Int64("maker_ppm", ft.MakerPpm), zap.Int64("taker_ppm", ft.TakerPpm))
	}
	for _, fm := range d.Firms {
		if old, ok := dir.Firm(fm.ID); !ok || old != fm {
			dir.PutFirm(fm)
			f.log.Info("firm", zap.String("name", fm.Name), zap.Uint32("id", uint32(fm.ID)), zap.Bool("new", !ok))
		}
	}
	for _, a := range d.Accounts {
		old, ok := dir.Account(a.Spec.ID)
		if ok && old == a {
			continue
		}
		if !ok || old.Spec != a.Spec {
			sp := a.Spec
			if _, err := f.s.mustApply(&matching.Command{Kind: matching.CmdAddAccount, AccountSpec: &sp}); err != nil {
				if stopping(err) {
					return err
				}
				// The engine refused it (e.g. a firm changed under an
				// existing account): the venue keeps what it had.
				f.log.Error("account refused by the engine", zap.String("account", a.Name), zap.Error(err))
				continue
			}
		}
		dir.PutAccount(a)
		f.log.Info("account", zap.String("name", a.Name), zap.Uint32("id", uint32(a.Spec.ID)), zap.Bool("new", !ok),
			zap.Bool("suspended", a.Suspended), zap.Uint8("fee_tier", a.Spec.FeeTier))
	}
	seen := make(map[string]bool, len(d.Sessions))
	for _, ss := range d.Sessions {
		seen[ss.CompID] = true
		old, ok := dir.Session(ss.CompID)
		if ok && sameSession(old, ss) {
			continue
		}
		dir.PutSession(ss)
		f.log.Info("session", zap.String("comp_id", ss.CompID), zap.Stringer("kind", ss.Kind), zap.Bool("new", !ok),
			zap.Bool("suspended", ss.Suspended))
		if ss.Suspended && (!ok || !old.Suspended) {
			f.disconnect(ss)
		}
		if !ok && ss.Kind == refdata.DropCopy {
			if dc := f.s.dcLive.Load(); dc != nil {
				if err := dc.AddSession(ss); err != nil {
					f.log.Error("drop-copy session not added: it logs on after a restart", zap.String("comp_id", ss.CompID), zap.Error(err))
				}
			}
		}
	}
	for _, old := range dir.Sessions() {
		if !seen[old.CompID] {
			dir.RemoveSession(old.CompID)
			f.log.Info("session removed", zap.String("comp_id", old.CompID))
			f.disconnect(old)
		}
	}
	return nil
}

// disconnect cuts a logged-on order-entry session that may no longer
// trade (its cancel-on-disconnect applies). Drop-copy and market-data
// sessions are refused at their next Logon.
func (f *refdataFollower) disconnect(ss refdata.Session) {
	if ss.Kind == refdata.OrderEntry {
		if f.s.OE.Kick(ss.CompID) {
			f.log.Info("suspended session disconnected", zap.String("comp_id", ss.CompID))
		}
	}
}

func sameSession(a, b refdata.Session) bool {
	return a.CompID == b.CompID && a.ID == b.ID && a.Kind == b.Kind && a.Firm == b.Firm && a.Account == b.Account &&
		bytes.Equal(a.PasswordHash, b.PasswordHash) && a.CancelOnDisconnect == b.CancelOnDisconnect &&
		a.Suspended == b.Suspended && a.ThrottlePerSecond == b.ThrottlePerSecond &&
		a.TradeCaptureReports == b.TradeCaptureReports && slices.Equal(a.Accounts, b.Accounts)
}

// stopping reports whether a submit failed because the venue is stopping
// (or the sequencer is stuck), not because the engine refused the command:
// the poll ends and the next one tries again.
func stopping(err error) bool {
	return errors.Is(err, sequencer.ErrClosed) || errors.Is(err, context.DeadlineExceeded)
}
