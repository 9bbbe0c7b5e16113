package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Emails = (*DB)(nil)

const emailColumns = "address, account_id, is_primary, verified_at, created_at"

// emailKey is the form an address is unique and looked up in
// (account.EmailKey: NFC, the domain through IDNA, lower-cased), computed
// in Go so that both dialects (whose lower() functions differ outside
// ASCII) agree on which addresses are the same.
func emailKey(address string) string { return account.EmailKey(address) }

// AddEmail inserts e. The error wraps store.ErrConflict if any account
// already has the address (compared lower-cased) or if e.Primary is set and
// the account already has a primary address, and store.ErrNotFound if
// e.AccountID names no account.
func (db *DB) AddEmail(ctx context.Context, e store.Email) error {
	if err := insertEmail(ctx, db.writer(), e); err != nil {
		return fmt.Errorf("sqlstore: add email %q: %w", e.Address, err)
	}
	return nil
}

// insertEmail is AddEmail on a pool or in a transaction.
func insertEmail(ctx context.Context, c conn, e store.Email) error {
	_, err := c.exec(ctx,
		"INSERT INTO emails (address_key, "+emailColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		emailKey(e.Address), e.Address, e.AccountID, e.Primary, millis(e.VerifiedAt), millis(e.CreatedAt))
	return err
}

// GetEmail returns the address that equals address when both are
// lower-cased, or an error wrapping store.ErrNotFound. The Address of the
// result is as it was added.
func (db *DB) GetEmail(ctx context.Context, address string) (store.Email, error) {
	e, err := scanEmail(db.reader().queryRow(ctx,
		"SELECT "+emailColumns+" FROM emails WHERE address_key = ?", emailKey(address)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("sqlstore: get email %q: %w", address, err)
	}
	return e, nil
}

// ListEmails returns the account's addresses, the primary first, then by
// CreatedAt, oldest first (ties by address). An unknown account has none;
// that is not an error.
func (db *DB) ListEmails(ctx context.Context, accountID string) ([]store.Email, error) {
	list, err := queryAll(ctx, db.reader(), scanEmail, "SELECT "+emailColumns+
		" FROM emails WHERE account_id = ? ORDER BY is_primary DESC, created_at, address_key", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list emails of %q: %w", accountID, err)
	}
	return list, nil
}

// SetPrimaryEmail makes address (compared lower-cased) the account's only
// primary address, in one transaction. The error wraps store.ErrNotFound if
// the account does not own the address; then nothing changes.
//
// The transaction first reads the account's addresses, on PostgreSQL FOR
// UPDATE and in a fixed order (so that two callers cannot deadlock), so
// that concurrent calls for one account take turns: without that, the
// second could miss the primary the first just set and fail on the
// one-primary index instead of replacing it.
func (db *DB) SetPrimaryEmail(ctx context.Context, accountID, address string) error {
	err := db.inTx(ctx, func(c conn) error { return setPrimaryEmail(ctx, c, db.d, accountID, address) })
	if err != nil {
		return fmt.Errorf("sqlstore: set primary email of %q to %q: %w", accountID, address, err)
	}
	return nil
}

// setPrimaryEmail is SetPrimaryEmail's body, inside a transaction.
func setPrimaryEmail(ctx context.Context, c conn, d *dialect, accountID, address string) error {
	key := emailKey(address)
	rows, err := c.query(ctx,
		"SELECT address_key FROM emails WHERE account_id = ? ORDER BY address_key"+d.forUpdate, accountID)
	if err != nil {
		return err
	}
	owned := false
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		owned = owned || k == key
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	if !owned {
		return store.ErrNotFound
	}
	// Two statements, the old primary cleared before the new one is
	// set: PostgreSQL checks a unique index row by row.
	if _, err := c.exec(ctx, "UPDATE emails SET is_primary = ? WHERE account_id = ? AND is_primary = ? AND address_key <> ?",
		false, accountID, true, key); err != nil {
		return err
	}
	return c.execOne(ctx, "UPDATE emails SET is_primary = ? WHERE account_id = ? AND address_key = ?",
		true, accountID, key)
}

// DeleteEmail removes the address (compared lower-cased) from the account.
// The error wraps store.ErrNotFound if the account does not own it, also
// when another account does. Deleting the primary address leaves the
// account without one.
func (db *DB) DeleteEmail(ctx context.Context, accountID, address string) error {
	err := db.writer().execOne(ctx, "DELETE FROM emails WHERE account_id = ? AND address_key = ?",
		accountID, emailKey(address))
	if err != nil {
		return fmt.Errorf("sqlstore: delete email %q of %q: %w", address, accountID, err)
	}
	return nil
}

// scanEmail reads a row of emailColumns from a *sql.Row or *sql.Rows.
func scanEmail(row interface{ Scan(...any) error }) (store.Email, error) {
	var (
		e                     store.Email
		verifiedAt, createdAt int64
	)
	if err := row.Scan(&e.Address, &e.AccountID, &e.Primary, &verifiedAt, &createdAt); err != nil {
		return store.Email{}, err
	}
	e.VerifiedAt, e.CreatedAt = fromMillis(verifiedAt), fromMillis(createdAt)
	return e, nil
}

// rekeyEmails brings the keys of addresses stored before keys were
// normalised (NFC, IDNA) to the current form, so that those accounts are
// still found. Only a key with a character outside printable ASCII can
// change, so only those are read; once rekeyed they are ASCII and are
// not read again. A key another row already has is left as it is (two
// accounts now share one address: the older keeps it, support merges).
// It runs after every Migrate and returns how many keys it changed.
func (db *DB) rekeyEmails(ctx context.Context) (int, error) {
	nonASCII := "address_key GLOB '*[^ -~]*'"
	if db.d.name == "postgres" {
		nonASCII = "address_key ~ '[^ -~]'"
	}
	type row struct{ key, address string }
	var stale []row
	rows, err := db.writer().query(ctx, "SELECT address_key, address FROM emails WHERE "+nonASCII+" ORDER BY created_at")
	if err != nil {
		return 0, fmt.Errorf("sqlstore: rekey emails: %w", err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.address); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlstore: rekey emails: %w", err)
		}
		if emailKey(r.address) != r.key {
			stale = append(stale, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlstore: rekey emails: %w", err)
	}
	n := 0
	for _, r := range stale {
		c, err := db.writer().execCount(ctx,
			"UPDATE emails SET address_key = ? WHERE address_key = ? AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.address_key = ?)",
			emailKey(r.address), r.key, emailKey(r.address))
		if err != nil {
			return n, fmt.Errorf("sqlstore: rekey emails: %w", err)
		}
		n += c
	}
	return n, nil
}
