package backoffice

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"venue/refdata"
	"venue/sequencer"
)

// ProjectionTables are the tables Rebuild empties: everything derived
// from the journal. The reference data tables and audit_log stay.
var ProjectionTables = []string{
	"orders", "executions", "trades", "ledger_postings", "ledger_entries", "balances",
	"balance_movements", "symbol_state", "account_state",
}

// RebuildResult says what Rebuild did.
type RebuildResult struct {
	LastSeq  uint64
	Commands uint64
	Events   uint64
	Rows     uint64
	Duration time.Duration
}

// Rebuild empties the projection and projects the whole journal in
// journalDir again, in one transaction: readers see the old projection
// until it commits, and a live projector waits on projector_state, then
// goes on from the rebuilt seq.
func Rebuild(ctx context.Context, store *Store, uni *refdata.Universe, journalDir string) (RebuildResult, error) {
	t0 := time.Now()
	var res RebuildResult
	// The symbols listed with `venue admin symbol add` are read in their
	// units too.
	defs, assets, err := store.LoadSymbols(ctx)
	if err != nil {
		return res, fmt.Errorf("backoffice: rebuild: %w", err)
	}
	if _, err := AddToUniverse(uni, defs, assets); err != nil {
		return res, fmt.Errorf("backoffice: rebuild: %w", err)
	}
	conn, err := store.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("backoffice: rebuild: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS orders_stage
		(LIKE orders INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return res, fmt.Errorf("backoffice: rebuild: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		c := pgConn{dc.(driver.Conn)}
		tx, err := c.c.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("backoffice: rebuild: %w", err)
		}
		if err := rebuild(ctx, c, uni, journalDir, &res); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("backoffice: rebuild: commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Duration = time.Since(t0)
	return res, nil
}

func rebuild(ctx context.Context, c pgConn, uni *refdata.Universe, journalDir string, res *RebuildResult) error {
	if _, err := c.queryInt(ctx, `SELECT last_seq FROM projector_state WHERE id = 1 FOR UPDATE`); err != nil {
		return fmt.Errorf("backoffice: rebuild: lock: %w", err)
	}
	for _, t := range ProjectionTables {
		if err := c.exec(ctx, `TRUNCATE `+t); err != nil {
			return fmt.Errorf("backoffice: rebuild: truncate %s: %w", t, err)
		}
	}
	if err := c.exec(ctx, `UPDATE projector_state SET last_seq = 0, last_time = NULL,
		origin_time = NULL, updated_at = now() WHERE id = 1`); err != nil {
		return fmt.Errorf("backoffice: rebuild: reset: %w", err)
	}
	conv := newConverter(uni)
	b := newBatch()
	var scratch rowText
	flush := func() error {
		if b.empty() {
			return nil
		}
		if err := writeBatch(ctx, c, b, &scratch); err != nil {
			return err
		}
		res.LastSeq = b.last
		res.Commands += uint64(b.commands)
		res.Events += uint64(b.events)
		res.Rows += uint64(b.rows())
		b.reset()
		return nil
	}
	_, err := sequencer.ReplayEvents(nil, journalDir, 1, 0, func(pub *sequencer.Published) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.add(conv, pub); err != nil {
			return err
		}
		if b.commands >= DefaultMaxBatchCommands || b.rows() >= DefaultMaxBatchRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("backoffice: rebuild: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("backoffice: rebuild: %w", err)
	}
	return nil
}
