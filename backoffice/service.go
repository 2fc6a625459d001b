package backoffice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"venue/refdata"
	"venue/sequencer"
)

// ServiceConfig configures the running back office.
type ServiceConfig struct {
	URL string
	// Required makes Start fail when the database does not answer or
	// cannot be migrated; otherwise the venue runs without it and the
	// service keeps retrying.
	Required bool
	// JournalDir is the venue's journal, for catch-up.
	JournalDir string
	// SubscriberBuffer is the projector's subscription buffer in commands
	// (0: the sequencer's default).
	SubscriberBuffer int
	// RetryMin and RetryMax bound the wait between attempts (defaults 1s
	// and 30s).
	RetryMin, RetryMax time.Duration
	// ConnectTimeout bounds one attempt to connect and migrate (default 5s).
	ConnectTimeout time.Duration
	Logger         *zap.Logger
}

// Service states.
const (
	StateConnecting  = "connecting"
	StateCatchingUp  = "catching-up"
	StateLive        = "live"
	StateUnavailable = "unavailable" // retrying; Err says why
	StateStopped     = "stopped"
)

// Status is what the service is doing, for health endpoints and logs.
type Status struct {
	State   string
	Err     string // the last error, while unavailable
	Since   time.Time
	LastSeq uint64 // last projected seq
	Lag     uint64 // last published seq - last projected seq
	Drops   uint64 // subscriptions dropped for falling behind (sequencer-wide)
}

// Service runs the projector inside the venue: connect, migrate,
// bootstrap the reference data, catch up from the journal, then follow
// the sequencer; on a database error it waits and starts over (the
// projection is idempotent by seq, so nothing is lost or doubled).
type Service struct {
	cfg  ServiceConfig
	uni  *refdata.Universe
	dir  *refdata.Directory
	seq  *sequencer.Sequencer
	log  *zap.Logger
	ctx  context.Context
	stop context.CancelFunc
	done chan struct{}

	mu     sync.Mutex
	status Status
	proj   *Projector
	last   uint64 // survives projector restarts
}

// StartService starts the back office. With cfg.Required, the first
// connection and migration happen before it returns and their error is
// returned.
func StartService(cfg ServiceConfig, uni *refdata.Universe, dir *refdata.Directory, seq *sequencer.Sequencer) (*Service, error) {
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(30*time.Second, cfg.RetryMin)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Service{cfg: cfg, uni: uni, dir: dir, seq: seq, log: cfg.Logger, done: make(chan struct{})}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.setState(StateConnecting, nil)
	var first *Store
	if cfg.Required {
		st, err := s.connect(s.ctx)
		if err != nil {
			s.stop()
			return nil, err
		}
		first = st
	}
	go s.run(first)
	return s, nil
}

func (s *Service) setState(state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.State, s.status.Since = state, time.Now()
	s.status.Err = ""
	if err != nil {
		s.status.Err = err.Error()
	}
}

// Status returns the current state, last projected seq and lag.
func (s *Service) Status() Status {
	s.mu.Lock()
	st := s.status
	p := s.proj
	last := s.last
	s.mu.Unlock()
	if p != nil {
		last = max(last, p.Last())
	}
	st.LastSeq = last
	stats := s.seq.Stats()
	if stats.LastSeq > last {
		st.Lag = stats.LastSeq - last
	}
	st.Drops = stats.SubscribersDropped
	return st
}

// Lag is the last published seq minus the last projected one: how many
// commands the database is behind the engine.
func (s *Service) Lag() uint64 { return s.Status().Lag }

// LastSeq is the last seq committed to the database.
func (s *Service) LastSeq() uint64 { return s.Status().LastSeq }

// Stop waits up to timeout for the projector to finish what the sequencer
// published (call it after the sequencer closed), then stops it.
func (s *Service) Stop(timeout time.Duration) error {
	if timeout > 0 {
		select {
		case <-s.done:
		case <-time.After(timeout):
		}
	}
	s.stop()
	<-s.done
	return nil
}

// Done is closed when the service has stopped.
func (s *Service) Done() <-chan struct{} { return s.done }

// connect opens, migrates and bootstraps within ConnectTimeout.
func (s *Service) connect(ctx context.Context) (*Store, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	st, err := Open(ctx, s.cfg.URL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	// The symbols listed with `venue admin symbol add` join the universe
	// before the projector reads a journaled event of theirs.
	defs, assets, err := st.LoadSymbols(ctx)
	if err == nil {
		_, err = AddToUniverse(s.uni, defs, assets)
	}
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if err := st.Bootstrap(ctx, s.uni, s.dir); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func (s *Service) run(store *Store) {
	defer close(s.done)
	defer s.setState(StateStopped, nil)
	wait := s.cfg.RetryMin
	for {
		err := s.attempt(store)
		store = nil
		if err == nil || s.ctx.Err() != nil {
			return // the sequencer closed and everything is projected, or stopped
		}
		select {
		case <-s.seq.Done():
			// The sequencer is gone: one more attempt would only catch
			// up from the journal, which the next start does anyway.
			s.log.Warn("back office stopped behind the journal", zap.Error(err))
			return
		default:
		}
		s.log.Warn("back office unavailable, retrying", zap.Error(err), zap.Duration("in", wait))
		s.setState(StateUnavailable, err)
		if errors.Is(err, ErrForeignJournal) {
			wait = s.cfg.RetryMax
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.seq.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, s.cfg.RetryMax)
	}
}

// attempt runs one connection's life: nil when the sequencer closed and
// every published seq is projected.
func (s *Service) attempt(store *Store) error {
	var err error
	if store == nil {
		s.setState(StateConnecting, nil)
		if store, err = s.connect(s.ctx); err != nil {
			return err
		}
	}
	defer store.Close()
	p, err := NewProjector(s.ctx, store, s.uni)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proj = p
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.last = max(s.last, p.Last())
		s.proj = nil
		s.mu.Unlock()
		_ = p.Close()
	}()
	s.setState(StateCatchingUp, nil)
	err = p.Run(s.ctx, s.seq, s.cfg.JournalDir, s.cfg.SubscriberBuffer, func() {
		s.setState(StateLive, nil)
		s.log.Info("back office live", zap.Uint64("seq", p.Last()))
	})
	if err != nil {
		return fmt.Errorf("backoffice: projector: %w", err)
	}
	return nil
}
