package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Factors = (*DB)(nil)

const factorColumns = "id, account_id, kind, name, secret, phone, last_step, confirmed_at, created_at, last_used_at"

// CreateFactor inserts f. The error wraps store.ErrConflict if f.ID is
// taken, or if f is a confirmed SMS factor (non-zero ConfirmedAt) and a
// confirmed SMS factor of the same account has the same Phone (compared
// exactly: numbers are E.164); unconfirmed factors may share a phone, and
// so may different accounts. It wraps store.ErrNotFound if f.AccountID
// names no account.
//
// A nil or empty Secret is stored as NULL and reads back as nil.
func (db *DB) CreateFactor(ctx context.Context, f store.Factor) error {
	_, err := db.writer().exec(ctx,
		"INSERT INTO factors ("+factorColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		f.ID, f.AccountID, f.Kind, f.Name, nullIfNoBytes(f.Secret), f.Phone, f.LastStep,
		millis(f.ConfirmedAt), millis(f.CreatedAt), millis(f.LastUsedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create factor %q: %w", f.ID, err)
	}
	return nil
}

// GetFactor returns the factor with the given ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetFactor(ctx context.Context, id string) (store.Factor, error) {
	f, err := getFactor(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return f, fmt.Errorf("sqlstore: get factor %q: %w", id, err)
	}
	return f, nil
}

// ListFactors returns the account's factors, oldest (by CreatedAt) first,
// ties by ID. An unknown account has none; that is not an error.
func (db *DB) ListFactors(ctx context.Context, accountID string) ([]store.Factor, error) {
	list, err := queryAll(ctx, db.reader(), scanFactor,
		"SELECT "+factorColumns+" FROM factors WHERE account_id = ? ORDER BY created_at, id", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list factors of %q: %w", accountID, err)
	}
	return list, nil
}

// AdvanceFactorStep is a compare and set on last_step in one UPDATE, where
// UpdateFactor takes a locking transaction of four round trips.
func (db *DB) AdvanceFactorStep(ctx context.Context, id string, from, step int64, at time.Time) (bool, error) {
	n, err := db.writer().execCount(ctx, "UPDATE factors SET last_step = ?, last_used_at = ? WHERE id = ? AND last_step = ?",
		step, millis(at), id, from)
	if err == nil && n == 0 {
		_, err = getFactor(ctx, db.reader(), "id = ?", id) // none, or another call won
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: advance step of factor %q: %w", id, err)
	}
	return n == 1, nil
}

// EnrolledKinds reads the kinds of the account's confirmed factors and
// whether it has a WebAuthn credential in one statement, where a sign-in
// listed both (every column, secrets included) in two.
func (db *DB) EnrolledKinds(ctx context.Context, accountID string) ([]string, error) {
	list, err := queryAll(ctx, db.reader(), func(r rowScanner) (string, error) {
		var kind string
		err := r.Scan(&kind)
		return kind, err
	}, "SELECT DISTINCT kind FROM factors WHERE account_id = ? AND confirmed_at <> ?"+
		" UNION SELECT ? FROM webauthn_credentials WHERE account_id = ?",
		accountID, zeroTime, store.EnrolledWebAuthn, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: enrolled kinds of %q: %w", accountID, err)
	}
	return list, nil
}

// UpdateFactor has the semantics of UpdateAccount: one transaction that
// locks the row (SELECT … FOR UPDATE on PostgreSQL, the write lock on
// SQLite), so concurrent updates of one factor run one after the other and
// each updater sees what the previous one wrote. An updater that refuses a
// TOTP step not after LastStep and otherwise advances LastStep therefore
// accepts each step at most once. fn's error is returned as it is and
// nothing is written; otherwise the error wraps store.ErrNotFound for a
// missing factor and store.ErrConflict if the result would give two
// confirmed SMS factors of the account the same phone (confirming a
// factor, or changing the phone of a confirmed one).
//
// fn must change neither the ID nor the AccountID (a factor does not move
// between accounts); if it does, nothing is written and a plain error is
// returned.
func (db *DB) UpdateFactor(ctx context.Context, id string, fn func(store.Factor) (store.Factor, error)) (store.Factor, error) {
	var accountID string
	f, err := update(ctx, db, "factor", id,
		func(c conn) (store.Factor, error) {
			f, err := getFactor(ctx, c, "id = ?"+db.d.forUpdate, id)
			accountID = f.AccountID
			return f, err
		},
		fn,
		func(c conn, f store.Factor) error {
			if f.ID != id {
				return fmt.Errorf("updater changed the ID to %q", f.ID)
			}
			if f.AccountID != accountID {
				return fmt.Errorf("updater changed the account ID to %q", f.AccountID)
			}
			return c.execOne(ctx, `UPDATE factors SET kind = ?, name = ?, secret = ?, phone = ?, last_step = ?,
				confirmed_at = ?, created_at = ?, last_used_at = ? WHERE id = ?`,
				f.Kind, f.Name, nullIfNoBytes(f.Secret), f.Phone, f.LastStep,
				millis(f.ConfirmedAt), millis(f.CreatedAt), millis(f.LastUsedAt), id)
		})
	if err != nil {
		return store.Factor{}, err
	}
	return readBackFactor(f), nil
}

// DeleteFactor returns an error wrapping store.ErrNotFound if there was no
// such factor.
func (db *DB) DeleteFactor(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM factors WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete factor %q: %w", id, err)
	}
	return nil
}

func getFactor(ctx context.Context, c conn, where string, args ...any) (store.Factor, error) {
	f, err := scanFactor(c.queryRow(ctx, "SELECT "+factorColumns+" FROM factors WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Factor{}, store.ErrNotFound
	}
	return f, err
}

// scanFactor reads a row of factorColumns from a *sql.Row or *sql.Rows.
func scanFactor(row interface{ Scan(...any) error }) (store.Factor, error) {
	var (
		f                                  store.Factor
		confirmedAt, createdAt, lastUsedAt int64
	)
	err := row.Scan(&f.ID, &f.AccountID, &f.Kind, &f.Name, &f.Secret, &f.Phone, &f.LastStep,
		&confirmedAt, &createdAt, &lastUsedAt)
	if err != nil {
		return store.Factor{}, err
	}
	f.ConfirmedAt, f.CreatedAt, f.LastUsedAt = fromMillis(confirmedAt), fromMillis(createdAt), fromMillis(lastUsedAt)
	return readBackFactor(f), nil
}

// readBackFactor returns f as a read returns it: times in UTC to the
// millisecond and an empty Secret nil.
func readBackFactor(f store.Factor) store.Factor {
	f.ConfirmedAt, f.CreatedAt, f.LastUsedAt = truncTime(f.ConfirmedAt), truncTime(f.CreatedAt), truncTime(f.LastUsedAt)
	if len(f.Secret) == 0 {
		f.Secret = nil
	}
	return f
}
