package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver

	"go.uber.org/zap"

	"venue/backoffice"
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
	auditors := ops.MultiAuditor{audit}
	if s.BackOffice != nil {
		if db, err := sql.Open("postgres", cfg.Database.URL); err == nil {
			db.SetMaxOpenConns(2)
			s.auditDB = db
			auditors = append(auditors, &pgAuditor{db: db, log: logging.Sub(s.log, logging.Ops)})
		}
	}
	src := ops.Sources{
		Seq: s.Seq, Submit: s.Seq, Universe: s.Universe, Directory: s.Directory,
		OE: s.OE, OEAcc: s.OEAcc, DC: s.DC, DCAcc: s.DCAcc, MD: s.MD,
	}
	src.Extra = append(src.Extra, s.opsExtra()...)
	if s.auditDB != nil {
		db := s.auditDB
		src.Users = func(ctx context.Context, user, pass string) (string, error) {
			return backoffice.CheckUser(ctx, db, user, pass)
		}
	}
	s.Ops, err = ops.Start(ops.Config{Addr: cfg.Ops.Addr, AdminToken: token}, src, auditors, s.depth,
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

// pgAuditor copies each admin action into the back office's audit_log
// table. The fsynced file is the record of truth; a database that does not
// answer costs a warn line, not the action.
type pgAuditor struct {
	db  *sql.DB
	log *zap.Logger
}

func (a *pgAuditor) Record(ctx context.Context, e ops.AuditEntry) error {
	details, _ := json.Marshal(map[string]string{"params": e.Params})
	var seq any
	if e.Seq != 0 {
		seq = int64(e.Seq)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := a.db.ExecContext(ctx, `INSERT INTO audit_log (at, actor, source, action, target, details, outcome, seq)
		VALUES ($1, $2, 'http', $3, $4, $5, $6, $7)`, e.Time, e.Operator, e.Action, e.Target, string(details), e.Outcome, seq)
	if err != nil {
		a.log.Warn("audit_log not written (the audit file has the entry)", zap.String("action", e.Action), zap.Error(err))
	}
	return nil
}
