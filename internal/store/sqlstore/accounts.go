package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
)

const accountColumns = "id, username, name, locale, disabled, groups, mfa_required, created_at, updated_at"

// CreateAccount inserts a. It returns an error wrapping store.ErrConflict
// if a.ID or a non-empty a.Username is taken. An empty username is stored
// as NULL, so any number of accounts may have none.
func (db *DB) CreateAccount(ctx context.Context, a store.Account) error {
	if err := insertAccount(ctx, db.writer(), a); err != nil {
		return fmt.Errorf("sqlstore: create account %q: %w", a.ID, err)
	}
	return nil
}

// insertAccount is CreateAccount on a pool or in a transaction.
func insertAccount(ctx context.Context, c conn, a store.Account) error {
	_, err := c.exec(ctx,
		"INSERT INTO accounts ("+accountColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, nullIfEmpty(a.Username), a.Name, a.Locale, a.Disabled, joinGroups(a.Groups), a.MFARequired, millis(a.CreatedAt), millis(a.UpdatedAt))
	return err
}

// joinGroups stores group names space-separated; a name with a space
// could not be read back, so callers validate names.
func joinGroups(g []string) string { return strings.Join(g, " ") }

// GetAccount returns the account with the given ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := getAccount(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return a, fmt.Errorf("sqlstore: get account %q: %w", id, err)
	}
	return a, nil
}

// GetAccountByUsername returns the account with the given username, or an
// error wrapping store.ErrNotFound. The comparison is exact: usernames are
// lower-cased by the caller before they are stored or looked up.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (store.Account, error) {
	a, err := getAccount(ctx, db.reader(), "username = ?", username)
	if err != nil {
		return a, fmt.Errorf("sqlstore: get account by username %q: %w", username, err)
	}
	return a, nil
}

// UpdateAccount reads the account, passes it to fn and writes what fn
// returns, in one transaction that locks the row, so concurrent updates of
// one account are applied one after the other. fn is called at most once
// by this implementation (the contract allows more) and must not change
// the ID; if it does, nothing is written and an error is returned.
//
// If fn returns an error, nothing is written and that error is returned as
// it is. Otherwise the error wraps store.ErrNotFound if there is no such
// account and store.ErrConflict if the new username is taken. The returned
// account is what a later GetAccount returns (times in UTC, to the
// millisecond).
func (db *DB) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	a, err := update(ctx, db, "account", id,
		func(c conn) (store.Account, error) {
			return getAccount(ctx, c, "id = ?"+db.d.forUpdate, id)
		},
		fn,
		func(c conn, a store.Account) error {
			if a.ID != id {
				return fmt.Errorf("updater changed the ID to %q", a.ID)
			}
			return c.execOne(ctx,
				"UPDATE accounts SET username = ?, name = ?, locale = ?, disabled = ?, groups = ?, mfa_required = ?, created_at = ?, updated_at = ? WHERE id = ?",
				nullIfEmpty(a.Username), a.Name, a.Locale, a.Disabled, joinGroups(a.Groups), a.MFARequired, millis(a.CreatedAt), millis(a.UpdatedAt), id)
		})
	if err != nil {
		return store.Account{}, err
	}
	a.CreatedAt, a.UpdatedAt = truncTime(a.CreatedAt), truncTime(a.UpdatedAt)
	return a, nil
}

// DeleteAccount removes the account and, through ON DELETE CASCADE, its
// sessions, emails, password, flows, factors, recovery codes and trusted
// browsers. It returns an error wrapping
// store.ErrNotFound if there was no such account.
func (db *DB) DeleteAccount(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM accounts WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete account %q: %w", id, err)
	}
	return nil
}

// getAccount returns the one account matching where, or store.ErrNotFound.
func getAccount(ctx context.Context, c conn, where string, args ...any) (store.Account, error) {
	var r accountRow
	err := c.queryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE "+where, args...).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, err
	}
	return r.account(), nil
}

// accountRow is an account as the columns of accountColumns scan.
type accountRow struct {
	a                    store.Account
	username             sql.NullString
	groups               string
	createdAt, updatedAt int64
}

// dest is what Scan fills, in the order of accountColumns.
func (r *accountRow) dest() []any {
	return []any{&r.a.ID, &r.username, &r.a.Name, &r.a.Locale, &r.a.Disabled, &r.groups, &r.a.MFARequired, &r.createdAt, &r.updatedAt}
}

func (r *accountRow) account() store.Account {
	a := r.a
	a.Username = r.username.String
	if r.groups != "" {
		a.Groups = strings.Fields(r.groups) // none reads back as nil
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(r.createdAt), fromMillis(r.updatedAt)
	return a
}

// nullIfEmpty stores an empty string as NULL, which unique indexes ignore.
func nullIfEmpty(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
