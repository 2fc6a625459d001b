package server

import (
	"path/filepath"

	"venue/config"
	"venue/logging"
	"venue/ops"
)

// DevOpsToken is the admin token of `venue dev` when ops.admin_token is
// not set. Dev only.
const DevOpsToken = "dev-ops-token"

// followDepth subscribes the ops endpoint's book-depth view and seeds it
// from the engine; call it before the acceptors take orders.
func (s *Server) followDepth() {
	sub := s.Seq.Subscribe("ops-depth", 1<<16)
	s.depth = ops.NewDepthFollower(s.Engine, s.Universe, sub)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.depth.Run()
	}()
}

// startOps opens the ops HTTP endpoint: health, metrics, admin actions.
// Admin actions are audited to data_dir/ops/audit.jsonl (fsynced).
func (s *Server) startOps(cfg *config.Config, dev bool) error {
	token := cfg.Ops.AdminToken
	if token == "" && dev {
		token = DevOpsToken
	}
	audit, err := ops.OpenFileAuditor(filepath.Join(cfg.DataDir, "ops", "audit.jsonl"))
	if err != nil {
		return err
	}
	s.auditFile = audit
	src := ops.Sources{
		Seq: s.Seq, Submit: s.Seq, Universe: s.Universe, Directory: s.Directory,
		OE: s.OE, OEAcc: s.OEAcc, DC: s.DC, DCAcc: s.DCAcc,
	}
	src.Extra = append(src.Extra, s.opsExtra()...)
	s.Ops, err = ops.Start(ops.Config{Addr: cfg.Ops.Addr, AdminToken: token}, src, audit, s.depth,
		logging.Sub(s.log, logging.Ops))
	if err != nil {
		return err
	}
	s.OpsToken = token
	return nil
}

// opsExtra are metrics of the optional parts.
func (s *Server) opsExtra() []func(*ops.MetricsWriter) {
	var out []func(*ops.MetricsWriter)
	if s.BackOffice != nil {
		bo := s.BackOffice
		out = append(out, func(w *ops.MetricsWriter) {
			st := bo.Status()
			w.Metric("venue_backoffice_lag_commands", "gauge", "Commands published and not yet in PostgreSQL.", float64(st.Lag))
			w.Metric("venue_backoffice_last_seq", "gauge", "Last seq projected into PostgreSQL.", float64(st.LastSeq))
		})
	}
	return out
}
