package backoffice

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"venue/journal"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// Limits of one batch (one transaction). A batch ends at whichever comes
// first, or when no more commands are waiting.
const (
	DefaultMaxBatchCommands = 8192
	DefaultMaxBatchRows     = 32768
)

// Errors a projector stops with; the service retries after neither.
var (
	// ErrForeignJournal: the database holds the projection of another
	// journal (its seq 1 has another time), or is ahead of this one.
	ErrForeignJournal = errors.New("backoffice: the database holds the projection of another journal: run `venue backoffice rebuild` or point database.url at another database")
	// errOverlap: someone else (a rebuild) advanced the projection under
	// a batch; the caller starts over from the database's state.
	errOverlap = errors.New("backoffice: projection advanced by another writer")
)

// Projector writes the events of consecutive commands into the projection
// tables, in batches, each in one transaction that also advances
// projector_state.last_seq: a seq is projected exactly once, whatever is
// replayed twice. It is not safe for concurrent use.
type Projector struct {
	store *Store
	conv  *converter
	conn  *sql.Conn
	b     *batch

	scratch rowText // orders of a batch, formatted

	// MaxBatchCommands and MaxBatchRows bound a batch.
	MaxBatchCommands int
	MaxBatchRows     int

	last   atomic.Uint64 // last committed seq
	origin int64         // projector_state.origin_time

	// Counters, for metrics and benchmarks.
	Commands, Events, Rows, Batches atomic.Uint64
}

// NewProjector holds one connection of the store for its transactions.
func NewProjector(ctx context.Context, store *Store, uni *refdata.Universe) (*Projector, error) {
	conn, err := store.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("backoffice: projector connection: %w", err)
	}
	p := &Projector{store: store, conv: newConverter(uni), conn: conn, b: newBatch(),
		MaxBatchCommands: DefaultMaxBatchCommands, MaxBatchRows: DefaultMaxBatchRows}
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS orders_stage
		(LIKE orders INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("backoffice: projector staging table: %w", err)
	}
	if err := p.reload(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return p, nil
}

// reload reads how far the projection is and forgets the open batch.
func (p *Projector) reload(ctx context.Context) error {
	p.b.reset()
	st, err := p.store.State(ctx)
	if err != nil {
		return err
	}
	p.last.Store(st.LastSeq)
	p.origin = st.OriginTime
	return nil
}

// Close releases the connection; an unflushed batch is dropped (its seqs
// are projected again by whoever runs next).
func (p *Projector) Close() error { return p.conn.Close() }

// Last is the last seq committed to the database.
func (p *Projector) Last() uint64 { return p.last.Load() }

// next is the seq the projector expects next.
func (p *Projector) next() uint64 {
	if !p.b.empty() {
		return p.b.last + 1
	}
	return p.last.Load() + 1
}

// Add takes one command's events, skipping a seq already projected, and
// writes the batch when it is full.
func (p *Projector) Add(ctx context.Context, pub *sequencer.Published) error {
	next := p.next()
	if pub.Seq < next {
		return nil // projected already
	}
	if pub.Seq > next {
		return fmt.Errorf("backoffice: gap: seq %d after %d", pub.Seq, next-1)
	}
	if err := p.b.add(p.conv, pub); err != nil {
		return err
	}
	if p.b.commands >= p.MaxBatchCommands || p.b.rows() >= p.MaxBatchRows {
		return p.Flush(ctx)
	}
	return nil
}

// Flush writes the open batch in one transaction.
func (p *Projector) Flush(ctx context.Context) error {
	if p.b.empty() {
		return nil
	}
	err := p.conn.Raw(func(dc any) error {
		c := pgConn{dc.(driver.Conn)}
		tx, err := c.c.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("backoffice: begin: %w", err)
		}
		if err := writeBatch(ctx, c, p.b, &p.scratch); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("backoffice: commit seq %d..%d: %w", p.b.first, p.b.last, err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errOverlap) {
			if rerr := p.reload(ctx); rerr != nil {
				return rerr
			}
		}
		return err
	}
	p.last.Store(p.b.last)
	if p.b.originTime != 0 {
		p.origin = p.b.originTime
	}
	p.Commands.Add(uint64(p.b.commands))
	p.Events.Add(uint64(p.b.events))
	p.Rows.Add(uint64(p.b.rows()))
	p.Batches.Add(1)
	p.b.reset()
	return nil
}

// CatchUp projects the journal in journalDir from the seq after the last
// projected up to to (0: the end), flushing as it goes.
func (p *Projector) CatchUp(ctx context.Context, journalDir string, to uint64) error {
	if err := p.checkOrigin(journalDir); err != nil {
		return err
	}
	from := p.next()
	if to != 0 && from > to {
		return nil
	}
	_, err := sequencer.ReplayEvents(nil, journalDir, from, to, func(pub *sequencer.Published) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return p.Add(ctx, pub)
	})
	if err != nil {
		return err
	}
	return p.Flush(ctx)
}

// checkOrigin refuses a database that projected another journal.
func (p *Projector) checkOrigin(journalDir string) error {
	if p.origin == 0 {
		if p.last.Load() != 0 {
			return ErrForeignJournal
		}
		return nil
	}
	t, ok, err := JournalOrigin(journalDir)
	if err != nil {
		return err
	}
	if !ok || t != p.origin {
		return ErrForeignJournal
	}
	return nil
}

// errFirst stops a journal read after the first record.
var errFirst = errors.New("first")

// JournalOrigin returns the time of the journal's first command (seq 1),
// which identifies the journal; ok is false when it is empty.
func JournalOrigin(journalDir string) (int64, bool, error) {
	var (
		cmd matching.Command
		ok  bool
	)
	_, err := journal.Replay(journal.OSFS{}, journalDir, 1, func(seq uint64, payload []byte) error {
		if err := journal.DecodeCommand(payload, &cmd); err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		ok = true
		return errFirst
	})
	if err != nil && !errors.Is(err, errFirst) {
		return 0, false, fmt.Errorf("backoffice: read journal origin: %w", err)
	}
	return cmd.Time, ok, nil
}

// Run projects the sequencer's events until ctx ends or the sequencer
// closes (then everything published is projected and it returns nil). It
// subscribes first, catches up from the journal to the seq before the
// subscription's first, then consumes the subscription. A subscription
// dropped for falling behind is replaced the same way: the engine never
// waits for the back office.
func (p *Projector) Run(ctx context.Context, seq *sequencer.Sequencer, journalDir string, buffer int, live func()) error {
	for {
		sub := seq.Subscribe("backoffice", buffer)
		err := p.runSub(ctx, sub, journalDir, live)
		sub.Close()
		if err != nil {
			return err
		}
		if sub.Reason() == sequencer.ErrClosed.Error() {
			return nil
		}
		// Dropped for falling behind: catch up from the journal again.
	}
}

func (p *Projector) runSub(ctx context.Context, sub *sequencer.Subscription, journalDir string, live func()) error {
	handover := sub.FirstSeq - 1
	if p.next() > handover+1 {
		return fmt.Errorf("%w (projected seq %d, journal at %d)", ErrForeignJournal, p.next()-1, handover)
	}
	if handover > 0 {
		if err := p.CatchUp(ctx, journalDir, handover); err != nil {
			return err
		}
	}
	if live != nil {
		live()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case pub, ok := <-sub.C:
			if !ok {
				return p.Flush(ctx)
			}
			if err := p.Add(ctx, pub); err != nil {
				return err
			}
		drain:
			for p.b.commands > 0 {
				select {
				case pub, ok := <-sub.C:
					if !ok {
						return p.Flush(ctx)
					}
					if err := p.Add(ctx, pub); err != nil {
						return err
					}
				default:
					break drain
				}
			}
			if err := p.Flush(ctx); err != nil {
				return err
			}
		}
	}
}

// writeBatch writes b's rows and advances projector_state, in the
// transaction open on c.
func writeBatch(ctx context.Context, c pgConn, b *batch, scratch *rowText) error {
	last, err := c.queryInt(ctx, `SELECT last_seq FROM projector_state WHERE id = 1 FOR UPDATE`)
	if err != nil {
		return fmt.Errorf("backoffice: lock projector state: %w", err)
	}
	if b.first != uint64(last)+1 {
		if b.first <= uint64(last) {
			return fmt.Errorf("%w: batch from seq %d, projected to %d", errOverlap, b.first, last)
		}
		return fmt.Errorf("backoffice: gap: batch from seq %d, projected to %d", b.first, last)
	}
	if err := c.copy(ctx, "executions", execCols, &b.execs); err != nil {
		return err
	}
	if err := c.copy(ctx, "trades", tradeCols, &b.trades); err != nil {
		return err
	}
	if err := c.copy(ctx, "ledger_postings", postingCols, &b.postings); err != nil {
		return err
	}
	if err := c.copy(ctx, "balance_movements", movementCols, &b.movements); err != nil {
		return err
	}
	if len(b.orders) > 0 {
		b.orderRows(scratch)
		if err := c.copy(ctx, "orders_stage", orderCols, scratch); err != nil {
			return err
		}
		if err := c.exec(ctx, upsertOrders); err != nil {
			return fmt.Errorf("backoffice: upsert orders: %w", err)
		}
		// A rebuild writes many batches in one transaction.
		if err := c.exec(ctx, `TRUNCATE orders_stage`); err != nil {
			return fmt.Errorf("backoffice: clear staged orders: %w", err)
		}
	}
	for _, r := range b.symStates {
		if err := c.exec(ctx, `
			INSERT INTO symbol_state (symbol_id, status, updated_seq, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (symbol_id) DO UPDATE SET status = EXCLUDED.status,
				updated_seq = EXCLUDED.updated_seq, updated_at = EXCLUDED.updated_at`, r...); err != nil {
			return fmt.Errorf("backoffice: symbol state: %w", err)
		}
	}
	for _, r := range b.acctStates {
		if err := c.exec(ctx, `
			INSERT INTO account_state (account_id, kill_switch, updated_seq, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id) DO UPDATE SET kill_switch = EXCLUDED.kill_switch,
				updated_seq = EXCLUDED.updated_seq, updated_at = EXCLUDED.updated_at`, r...); err != nil {
			return fmt.Errorf("backoffice: account state: %w", err)
		}
	}
	var origin any
	if b.originTime != 0 {
		origin = b.originTime
	}
	if err := c.exec(ctx, `
		UPDATE projector_state SET last_seq = $1, last_time = $2,
			origin_time = COALESCE(origin_time, $3), updated_at = now() WHERE id = 1`,
		int64(b.last), ts(b.lastTime), origin); err != nil {
		return fmt.Errorf("backoffice: advance projector state: %w", err)
	}
	return nil
}

// upsertOrders moves the staged order states into orders; an order seen
// before keeps its creation seq and time.
var upsertOrders = func() string {
	var set []string
	for _, c := range orderCols {
		if c == "order_id" || c == "created_seq" || c == "created_at" {
			continue
		}
		set = append(set, c+" = EXCLUDED."+c)
	}
	cols := strings.Join(orderCols, ", ")
	return "INSERT INTO orders (" + cols + ") SELECT " + cols + " FROM orders_stage " +
		"ON CONFLICT (order_id) DO UPDATE SET " + strings.Join(set, ", ")
}()

// pgConn is the lib/pq driver connection a batch is written on: COPY
// goes out as the text rows the batch built, without database/sql's
// per-value conversions.
type pgConn struct{ c driver.Conn }

// copyDataer is lib/pq's COPY statement.
type copyDataer interface {
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

// copyChunk bounds one CopyData message.
const copyChunk = 60 << 10

// copy sends rows with COPY FROM STDIN.
func (c pgConn) copy(ctx context.Context, table string, cols []string, rows *rowText) error {
	if rows.rows == 0 {
		return nil
	}
	stmt, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, "COPY "+table+" ("+strings.Join(cols, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("backoffice: copy %s: %w", table, err)
	}
	defer stmt.Close()
	cd, ok := stmt.(copyDataer)
	if !ok {
		return fmt.Errorf("backoffice: copy %s: the driver is not lib/pq", table)
	}
	// CopyData adds the newline: send whole lines without their last one.
	buf := rows.buf
	for len(buf) > 0 {
		n := len(buf)
		if n > copyChunk {
			n = bytes.LastIndexByte(buf[:copyChunk], '\n') + 1
			if n == 0 {
				n = bytes.IndexByte(buf, '\n') + 1
			}
		}
		if _, err := cd.CopyData(ctx, string(buf[:n-1])); err != nil {
			return fmt.Errorf("backoffice: copy %s: %w", table, err)
		}
		buf = buf[n:]
	}
	//lint:ignore SA1019 lib/pq's COPY statement implements only Exec
	if _, err := stmt.Exec(nil); err != nil {
		return fmt.Errorf("backoffice: copy %s: %w", table, err)
	}
	return nil
}

func (c pgConn) exec(ctx context.Context, q string, args ...any) error {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	_, err := c.c.(driver.ExecerContext).ExecContext(ctx, q, nv)
	return err
}

func (c pgConn) queryInt(ctx context.Context, q string) (int64, error) {
	rows, err := c.c.(driver.QueryerContext).QueryContext(ctx, q, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return 0, err
	}
	v, ok := dest[0].(int64)
	if !ok {
		return 0, fmt.Errorf("%s: got %T", q, dest[0])
	}
	return v, nil
}
