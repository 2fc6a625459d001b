package backoffice_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"

	"venue/backoffice"
)

// TestLedgerRefusesUnbalanced: the database itself refuses postings of
// one event that do not sum to zero per asset, postings added to an entry
// by a later statement, and changes to posted lines; balanced entries
// move the balances.
func TestLedgerRefusesUnbalanced(t *testing.T) {
	dbURL := freshDB(t)
	ctx := context.Background()
	st, err := backoffice.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	const ins = `INSERT INTO ledger_postings (seq, event_index, posting_index, account_id, asset_id, amount, kind, posted_at) VALUES `
	refused := func(name, q string) {
		t.Helper()
		_, err := db.Exec(q)
		var pqErr *pq.Error
		if err == nil {
			t.Errorf("%s: accepted", name)
			return
		}
		if !errors.As(err, &pqErr) || (pqErr.Code != "23514" && pqErr.Code != "23505") {
			t.Errorf("%s: refused with %v, want a constraint violation", name, err)
		}
	}
	tests := []struct{ name, q string }{
		{"one side missing", ins + `(10, 0, 0, 2, 0, 1.5, 'deposit', now())`},
		{"sums to 0.00000001", ins + `(11, 0, 0, 2, 0, 1.00000001, 'deposit', now()), (11, 0, 1, 0, 0, -1, 'deposit', now())`},
		{"zero overall, not per asset", ins + `(12, 0, 0, 2, 0, 5, 'trade', now()), (12, 0, 1, 3, 1, -5, 'trade', now())`},
		{"second event unbalanced", ins + `(13, 0, 0, 2, 0, 5, 'x', now()), (13, 0, 1, 0, 0, -5, 'x', now()),
			(13, 1, 0, 2, 1, 7, 'x', now())`},
	}
	for _, tc := range tests {
		refused(tc.name, tc.q)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ledger_postings`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused statements left %d postings (%v)", n, err)
	}

	// A balanced trade: both legs and the fee account.
	mustExec(t, db, ins+`(20, 1, 0, 2, 0, 0.5, 'trade', now()), (20, 1, 1, 3, 0, -0.5, 'trade', now()),
		(20, 1, 2, 2, 1, -30000.0000000001, 'trade', now()), (20, 1, 3, 3, 1, 29999.5, 'trade', now()),
		(20, 1, 4, 1, 1, 0.5000000001, 'trade', now())`)
	var bal string
	if err := db.QueryRow(`SELECT amount FROM balances WHERE account_id = 2 AND asset_id = 1`).Scan(&bal); err != nil {
		t.Fatal(err)
	}
	if bal != "-30000.0000000001" {
		t.Errorf("balance %s, want -30000.0000000001", bal)
	}
	// Adding a balanced pair to the same entry later is refused too: an
	// entry is whole in one statement.
	refused("added to an entry later", ins+`(20, 1, 5, 2, 0, 1, 'trade', now()), (20, 1, 6, 3, 0, -1, 'trade', now())`)
	refused("update", `UPDATE ledger_postings SET amount = amount + 1 WHERE seq = 20 AND posting_index = 0`)
	refused("delete", `DELETE FROM ledger_postings WHERE seq = 20 AND posting_index = 0`)
	// COPY, as the projector writes, is checked the same way.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(`COPY ledger_postings (seq, event_index, posting_index, account_id, asset_id, amount, kind, posted_at) FROM STDIN`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stmt.Exec(int64(30), int64(0), int64(0), int64(2), int64(0), "3", "deposit", "2026-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	_, err = stmt.Exec()
	if err == nil {
		t.Error("COPY of an unbalanced entry accepted")
	}
	_ = stmt.Close()
	_ = tx.Rollback()
}
