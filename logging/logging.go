// Package logging builds the venue's zap loggers: one root logger and one
// named logger per subsystem, so every line says where it came from.
//
// Messages are static and data goes in typed fields; no secrets, ever.
// Counterparty misbehaviour is logged at warn; error is for our own faults.
package logging

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Subsystem logger names; each appears as the "logger" field of its lines.
const (
	FIX     = "fix"     // FIX acceptors: sessions, logons, rejects
	Match   = "match"   // the engine and the sequencer feeding it
	Journal = "journal" // journal writes, snapshots, replay
	MD      = "md"      // market-data fan-out
	Settle  = "settle"  // settlement cycles
	Custody = "custody" // deposits, withdrawals, sweeps, reserves
	Surv    = "surv"    // surveillance detectors and alerts
	Ops     = "ops"     // ops HTTP endpoint, admin actions
)

// Subsystems lists every subsystem logger name, in the order of the data flow.
var Subsystems = []string{FIX, Match, Journal, MD, Settle, Custody, Surv, Ops}

// New returns the root logger writing to stderr at level (debug, info, warn,
// error). dev selects colourless console lines for people; otherwise JSON,
// one object per line, for machines. Nothing is sampled away: a venue must
// be able to show every line it logged.
func New(level string, dev bool) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil || level == "" {
		return nil, fmt.Errorf("logging: level %q: want debug, info, warn or error", level)
	}
	var cfg zap.Config
	if dev {
		cfg = zap.NewDevelopmentConfig()
		cfg.Development = false // no panics on DPanic in a running venue
	} else {
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	log, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("logging: build: %w", err)
	}
	return log, nil
}

// Sub returns the named logger of one subsystem, e.g. Sub(root, logging.FIX).
// Use the constants above; a new subsystem adds its name there first.
func Sub(root *zap.Logger, name string) *zap.Logger {
	return root.Named(name)
}
