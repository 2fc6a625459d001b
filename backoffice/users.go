package backoffice

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Roles of venue users (operators of the ops endpoint and the CLI).
var userRoles = map[string]bool{"admin": true, "operator": true, "viewer": true, "trader": true}

// UserInput is `user add`.
type UserInput struct {
	Username     string
	Role         string // admin, operator, viewer or trader
	Firm         string // optional: a firm's own user
	PasswordHash []byte // bcrypt
}

// AddUser is `user add`: a new active user with a bcrypt password hash.
func (s *Store) AddUser(ctx context.Context, who Actor, in UserInput) (int64, error) {
	before := checkName("--username", in.Username)
	if before == nil && !userRoles[in.Role] {
		before = fieldErr("--role", strconv.Quote(in.Role), "must be admin, operator, viewer or trader")
	}
	if before == nil && in.Firm != "" {
		before = checkName("--firm", in.Firm)
	}
	if before == nil {
		before = checkHash(in.PasswordHash)
	}
	var id int64
	details := map[string]any{"username": in.Username, "role": in.Role, "firm": in.Firm, "password": "set"}
	_, err := s.admin(ctx, who, "user.add", in.Username, details, before, func(tx *sql.Tx) (string, error) {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)`, in.Username).Scan(&exists); err != nil {
			return "", err
		}
		if exists {
			return "", fieldErr("--username", in.Username, "a user of that name exists")
		}
		var firm sql.NullInt64
		if in.Firm != "" {
			f, err := firmID(ctx, tx, in.Firm)
			if err != nil {
				return "", err
			}
			firm = sql.NullInt64{Int64: f, Valid: true}
		}
		return "ok", tx.QueryRowContext(ctx, `INSERT INTO users (firm_id, username, password_hash, role)
			VALUES ($1, $2, $3, $4) RETURNING id`, firm, in.Username, string(in.PasswordHash), in.Role).Scan(&id)
	})
	return id, err
}

// SetUserStatus is `user suspend|resume`.
func (s *Store) SetUserStatus(ctx context.Context, who Actor, username, status string) (string, error) {
	action := "user.resume"
	if status == "suspended" {
		action = "user.suspend"
	}
	return s.admin(ctx, who, action, username, map[string]any{"status": status}, checkName("--username", username),
		func(tx *sql.Tx) (string, error) {
			res, err := tx.ExecContext(ctx, `UPDATE users SET status = $2, updated_at = now() WHERE username = $1`, username, status)
			if err != nil {
				return "", err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return "", fieldErr("--username", username, "unknown user")
			}
			return "ok", nil
		})
}

// SetUserPassword is `user set-password`.
func (s *Store) SetUserPassword(ctx context.Context, who Actor, username string, hash []byte) (string, error) {
	before := checkName("--username", username)
	if before == nil {
		before = checkHash(hash)
	}
	return s.admin(ctx, who, "user.set-password", username, map[string]any{"password": "set"}, before,
		func(tx *sql.Tx) (string, error) {
			res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE username = $1`, username, string(hash))
			if err != nil {
				return "", err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return "", fieldErr("--username", username, "unknown user")
			}
			return "ok", nil
		})
}

// UserRow is a row of `user list` (no hash).
type UserRow struct {
	ID       int64
	Username string
	Role     string
	Firm     string
	Status   string
}

// ListUsers lists the users by id.
func (s *Store) ListUsers(ctx context.Context) ([]UserRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.username, u.role, COALESCE(f.name, ''), u.status
		FROM users u LEFT JOIN firms f ON f.id = u.firm_id ORDER BY u.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserRow
	for rows.Next() {
		var r UserRow
		if err := rows.Scan(&r.ID, &r.Username, &r.Role, &r.Firm, &r.Status); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)
	return h
})

// ErrBadCredentials is a wrong username or password, or a user not active.
var ErrBadCredentials = errors.New("wrong username or password, or the user is not active")

// CheckUser authenticates a user and returns its role.
func CheckUser(ctx context.Context, db *sql.DB, username, password string) (string, error) {
	var hash, role, status string
	err := db.QueryRowContext(ctx, `SELECT password_hash, role, status FROM users WHERE username = $1`, username).Scan(&hash, &role, &status)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the time a check would, so names cannot be probed.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", ErrBadCredentials
	}
	if err != nil {
		return "", err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || status != "active" {
		return "", ErrBadCredentials
	}
	return role, nil
}
