// Package backoffice is the venue's PostgreSQL back office: the schema and
// its migrations (embedded, applied with goose), the reference data tables
// bootstrapped from the venue's directory, and the projector that writes
// the engine's events (orders, executions, trades, ledger, balances) into
// them, idempotent by journal seq. PostgreSQL is a projection: Rebuild
// recreates it from the journal.
package backoffice

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the schema's versioned SQL files, embedded in the binary.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// Store is a connection pool to the back-office database.
type Store struct {
	db  *sql.DB
	url string
}

// Open connects to the database at url and checks that it answers within
// ctx.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("backoffice: open: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("backoffice: connect: %w", err)
	}
	return &Store{db: db, url: url}, nil
}

// DB is the pool, for queries of other packages (admin, jobs).
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Migrate applies the pending migrations, holding a PostgreSQL advisory
// lock so that two venues (or `venue migrate` and a venue) starting at
// once do not race. It returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("backoffice: migrate: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// Status lists every migration the binary carries and its state.
func (s *Store) Status(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("backoffice: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{
			Version: m.Source.Version, Name: m.Source.Path,
			Applied: m.State == goose.StateApplied, AppliedAt: m.AppliedAt,
		})
	}
	return out, nil
}

func (s *Store) provider() (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("backoffice: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, s.db, Migrations(),
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("backoffice: migrations: %w", err)
	}
	return p, nil
}

// State is the projector's row: how far the projection is.
type State struct {
	LastSeq    uint64
	LastTime   time.Time // zero before the first command
	OriginTime int64     // unix nanoseconds of seq 1 of the journal projected; 0: none yet
	UpdatedAt  time.Time
}

// State reads projector_state.
func (s *Store) State(ctx context.Context) (State, error) {
	var (
		st     State
		last   int64
		lt     sql.NullTime
		origin sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx,
		`SELECT last_seq, last_time, origin_time, updated_at FROM projector_state WHERE id = 1`).
		Scan(&last, &lt, &origin, &st.UpdatedAt)
	if err != nil {
		return st, fmt.Errorf("backoffice: read projector state: %w", err)
	}
	st.LastSeq, st.LastTime, st.OriginTime = uint64(last), lt.Time, origin.Int64
	return st, nil
}

// CreateDatabase creates the database that url names, if it does not
// exist, by connecting to the server's postgres database. It reports
// whether it created it.
func CreateDatabase(ctx context.Context, rawURL string) (bool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, fmt.Errorf("backoffice: database url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return false, errors.New("backoffice: database url names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return false, fmt.Errorf("backoffice: open: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return false, fmt.Errorf("backoffice: connect to %s: %w", admin.Redacted(), err)
	}
	if exists {
		return false, nil
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile
			return false, nil
		}
		return false, fmt.Errorf("backoffice: create database %s: %w", name, err)
	}
	return true, nil
}
