package server

import (
	"path/filepath"

	"go.uber.org/zap"

	"venue/config"
	"venue/fix"
	"venue/logging"
	"venue/spec"
)

// startMarketData starts FIX market data: its replica of the books, seeded
// from the engine here, before the venue takes any command after recovery
// (the subscription comes first: the events it then delivers set absolute
// levels, so any the seed already holds do no harm), the fan-out goroutine,
// then the acceptor on fix.market_data_addr.
func (s *Server) startMarketData(cfg *config.Config) error {
	dict, err := spec.WriteFIX44(filepath.Join(cfg.DataDir, "fix"))
	if err != nil {
		return err
	}
	mdLog := logging.Sub(s.log, logging.MD)
	md, err := fix.NewMarketData(fix.MarketDataConfig{
		CompID:           cfg.FIX.CompID,
		DictionaryPath:   dict,
		LogonMaxFailures: cfg.FIX.LogonMaxFailures,
		LogonWindow:      cfg.FIX.LogonFailureWindow,
		LogonLockout:     cfg.FIX.LogonLockout,
		Interval:         cfg.FIX.MarketDataInterval,
	}, s.Directory, s.Universe, mdLog)
	if err != nil {
		return err
	}
	sub := s.Seq.Subscribe("fix-market-data", 1<<16)
	md.Seed(s.Engine)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := md.Run(sub, s.stop); err != nil {
			mdLog.Error("market data stopped", zap.Error(err))
		}
	}()
	if err := md.Start(fix.AcceptorConfig{
		Addr: cfg.FIX.MarketDataAddr, CompID: cfg.FIX.CompID, DictionaryPath: dict,
		TLSCertFile: cfg.FIX.TLSCertFile, TLSKeyFile: cfg.FIX.TLSKeyFile,
		ClientWriteTimeout: cfg.FIX.ClientWriteTimeout,
	}); err != nil {
		return err
	}
	s.MD = md
	return nil
}

// stopMarketData closes the market-data acceptor; its sessions end.
func (s *Server) stopMarketData() {
	if s.MD != nil {
		if err := s.MD.Stop(); err != nil {
			s.log.Warn("market data acceptor stop", zap.Error(err))
		}
	}
}
