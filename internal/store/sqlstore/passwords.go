package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Passwords = (*DB)(nil)

const passwordColumns = "account_id, hash, history, changed_at"

// GetPassword returns the account's password, or an error wrapping
// store.ErrNotFound if it has none. An empty History reads back as nil.
func (db *DB) GetPassword(ctx context.Context, accountID string) (store.Password, error) {
	p, err := getPassword(ctx, db.reader(), "account_id = ?", accountID)
	if err != nil {
		return p, fmt.Errorf("sqlstore: get password of %q: %w", accountID, err)
	}
	return p, nil
}

// SetPassword inserts the account's password or replaces the one it has.
// The error wraps store.ErrNotFound if p.AccountID names no account.
func (db *DB) SetPassword(ctx context.Context, p store.Password) error {
	if err := upsertPassword(ctx, db.writer(), p); err != nil {
		return fmt.Errorf("sqlstore: set password of %q: %w", p.AccountID, err)
	}
	return nil
}

// UpdatePassword has the semantics of UpdateAccount: one transaction that
// locks the row, fn's error returned as it is and nothing written, an
// error wrapping store.ErrNotFound if the account has no password. fn must
// not change AccountID.
func (db *DB) UpdatePassword(ctx context.Context, accountID string, fn func(store.Password) (store.Password, error)) (store.Password, error) {
	p, err := update(ctx, db, "password of", accountID,
		func(c conn) (store.Password, error) {
			return getPassword(ctx, c, "account_id = ?"+db.d.forUpdate, accountID)
		},
		fn,
		func(c conn, p store.Password) error {
			if p.AccountID != accountID {
				return fmt.Errorf("updater changed the account ID to %q", p.AccountID)
			}
			history, err := json.Marshal(nonNil(p.History))
			if err != nil {
				return err
			}
			return c.execOne(ctx, "UPDATE passwords SET hash = ?, history = ?, changed_at = ? WHERE account_id = ?",
				p.Hash, string(history), millis(p.ChangedAt), accountID)
		})
	if err != nil {
		return store.Password{}, err
	}
	p.ChangedAt = truncTime(p.ChangedAt)
	if len(p.History) == 0 {
		p.History = nil
	}
	return p, nil
}

// upsertPassword is SetPassword on a pool or in a transaction.
func upsertPassword(ctx context.Context, c conn, p store.Password) error {
	history, err := json.Marshal(nonNil(p.History))
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "INSERT INTO passwords ("+passwordColumns+") VALUES (?, ?, ?, ?)"+
		" ON CONFLICT (account_id) DO UPDATE SET hash = excluded.hash, history = excluded.history, changed_at = excluded.changed_at",
		p.AccountID, p.Hash, string(history), millis(p.ChangedAt))
	return err
}

func getPassword(ctx context.Context, c conn, where string, args ...any) (store.Password, error) {
	var (
		p         store.Password
		history   string
		changedAt int64
	)
	err := c.queryRow(ctx, "SELECT "+passwordColumns+" FROM passwords WHERE "+where, args...).
		Scan(&p.AccountID, &p.Hash, &history, &changedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Password{}, store.ErrNotFound
	}
	if err != nil {
		return store.Password{}, err
	}
	if err := json.Unmarshal([]byte(history), &p.History); err != nil {
		return store.Password{}, fmt.Errorf("password history: %w", err)
	}
	if len(p.History) == 0 {
		p.History = nil
	}
	p.ChangedAt = fromMillis(changedAt)
	return p, nil
}

// nonNil returns s, or an empty slice if s is nil, so that it is stored as
// the JSON array [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// loginColumns are accountColumns of accounts a and the columns of its
// password p a sign-in needs (not the history, which only a change reads).
var loginColumns = "a." + strings.ReplaceAll(accountColumns, ", ", ", a.") + ", p.hash, p.changed_at"

// GetLoginByEmail reads the account of an address and its password in one
// statement, where GetEmail, GetAccount and GetPassword took three round
// trips on every sign-in (issue 12).
func (db *DB) GetLoginByEmail(ctx context.Context, address string) (store.Account, store.Password, error) {
	a, p, err := scanLogin(db.reader().queryRow(ctx, "SELECT "+loginColumns+
		" FROM emails e JOIN accounts a ON a.id = e.account_id LEFT JOIN passwords p ON p.account_id = a.id WHERE e.address_key = ?",
		emailKey(address)))
	if err != nil {
		return a, p, fmt.Errorf("sqlstore: get login by email %q: %w", address, err)
	}
	return a, p, nil
}

// GetLoginByUsername reads the account of a username and its password in
// one statement.
func (db *DB) GetLoginByUsername(ctx context.Context, username string) (store.Account, store.Password, error) {
	a, p, err := scanLogin(db.reader().queryRow(ctx, "SELECT "+loginColumns+
		" FROM accounts a LEFT JOIN passwords p ON p.account_id = a.id WHERE a.username = ?", username))
	if err != nil {
		return a, p, fmt.Errorf("sqlstore: get login by username %q: %w", username, err)
	}
	return a, p, nil
}

func scanLogin(r row) (store.Account, store.Password, error) {
	var (
		ar        accountRow
		hash      sql.NullString
		changedAt sql.NullInt64
	)
	err := r.Scan(append(ar.dest(), &hash, &changedAt)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.Password{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, store.Password{}, err
	}
	a := ar.account()
	var p store.Password
	if hash.Valid {
		p = store.Password{AccountID: a.ID, Hash: hash.String, ChangedAt: fromMillis(changedAt.Int64)}
	}
	return a, p, nil
}
