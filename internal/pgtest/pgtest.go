// Package pgtest gives tests a database of their own on the test
// PostgreSQL: 127.0.0.1:5432 with trust auth, or the server of
// VENUE_DATABASE_URL. Tests only; each database is dropped when its test
// ends.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"venue/backoffice"
)

var counter atomic.Uint64

// server is the URL of the test PostgreSQL's maintenance database.
func server(t testing.TB) *url.URL {
	t.Helper()
	base := os.Getenv("VENUE_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: VENUE_DATABASE_URL: %v", err)
	}
	u.Path = "/postgres"
	return u
}

// URL names a database no one has made yet (for a test of what creates
// it, such as venue migrate), prefixed with prefix, and drops it, if it
// was made, when the test ends.
func URL(t testing.TB, prefix string) string {
	t.Helper()
	admin := server(t)
	name := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	t.Cleanup(func() {
		db, err := sql.Open("postgres", admin.String())
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := *admin
	u.Path = "/" + name
	return u.String()
}

// FreshDB creates an empty database, prefixed with prefix, and returns its
// URL; it is dropped when the test ends. It is made as `venue migrate`
// makes one (backoffice.CreateDatabase).
func FreshDB(t testing.TB, prefix string) string {
	t.Helper()
	dbURL := URL(t, prefix)
	if _, err := backoffice.CreateDatabase(context.Background(), dbURL); err != nil {
		t.Fatalf("pgtest: %v (is PostgreSQL running? make deps starts it)", err)
	}
	return dbURL
}
