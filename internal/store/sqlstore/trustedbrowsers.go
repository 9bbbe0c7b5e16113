package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.TrustedBrowsers = (*DB)(nil)

const trustedBrowserColumns = "id, account_id, token_hash, user_agent, ip, created_at, expires_at"

// CreateTrustedBrowser inserts b. The error wraps store.ErrConflict if
// b.ID or b.TokenHash is taken and store.ErrNotFound if b.AccountID names
// no account. A browser without a token digest (nil or empty) is refused
// with a plain error.
func (db *DB) CreateTrustedBrowser(ctx context.Context, b store.TrustedBrowser) error {
	if len(b.TokenHash) == 0 {
		return fmt.Errorf("sqlstore: create trusted browser %q: no token digest", b.ID)
	}
	_, err := db.writer().exec(ctx,
		"INSERT INTO trusted_browsers ("+trustedBrowserColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		b.ID, b.AccountID, b.TokenHash, b.UserAgent, b.IP, millis(b.CreatedAt), millis(b.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create trusted browser %q: %w", b.ID, err)
	}
	return nil
}

// GetTrustedBrowser returns the browser whose token digest is tokenHash,
// or an error wrapping store.ErrNotFound; an empty tokenHash finds
// nothing. It does not look at ExpiresAt: an expired browser is found, and
// the caller decides. The digest is not put in the error.
func (db *DB) GetTrustedBrowser(ctx context.Context, tokenHash []byte) (store.TrustedBrowser, error) {
	var (
		b   store.TrustedBrowser
		err = store.ErrNotFound
	)
	if len(tokenHash) > 0 {
		b, err = scanTrustedBrowser(db.reader().queryRow(ctx,
			"SELECT "+trustedBrowserColumns+" FROM trusted_browsers WHERE token_hash = ?", tokenHash))
		if errors.Is(err, sql.ErrNoRows) {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return store.TrustedBrowser{}, fmt.Errorf("sqlstore: get trusted browser by token hash: %w", err)
	}
	return b, nil
}

// ListTrustedBrowsers returns the account's browsers, newest (by
// CreatedAt) first, ties by ID, expired ones included. An unknown account
// has none; that is not an error.
func (db *DB) ListTrustedBrowsers(ctx context.Context, accountID string) ([]store.TrustedBrowser, error) {
	list, err := queryAll(ctx, db.reader(), scanTrustedBrowser, "SELECT "+trustedBrowserColumns+
		" FROM trusted_browsers WHERE account_id = ? ORDER BY created_at DESC, id DESC", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list trusted browsers of %q: %w", accountID, err)
	}
	return list, nil
}

// DeleteTrustedBrowser removes the account's browser with the given ID.
// The error wraps store.ErrNotFound if the account has no such browser,
// also when another account does; that browser is left alone.
func (db *DB) DeleteTrustedBrowser(ctx context.Context, accountID, id string) error {
	err := db.writer().execOne(ctx, "DELETE FROM trusted_browsers WHERE account_id = ? AND id = ?", accountID, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete trusted browser %q of %q: %w", id, accountID, err)
	}
	return nil
}

// DeleteTrustedBrowsers removes every browser of the account and returns
// how many went.
func (db *DB) DeleteTrustedBrowsers(ctx context.Context, accountID string) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM trusted_browsers WHERE account_id = ?", accountID)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete trusted browsers of %q: %w", accountID, err)
	}
	return n, nil
}

// scanTrustedBrowser reads a row of trustedBrowserColumns from a *sql.Row
// or *sql.Rows.
func scanTrustedBrowser(row interface{ Scan(...any) error }) (store.TrustedBrowser, error) {
	var (
		b                    store.TrustedBrowser
		createdAt, expiresAt int64
	)
	if err := row.Scan(&b.ID, &b.AccountID, &b.TokenHash, &b.UserAgent, &b.IP, &createdAt, &expiresAt); err != nil {
		return store.TrustedBrowser{}, err
	}
	b.CreatedAt, b.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
	return b, nil
}
