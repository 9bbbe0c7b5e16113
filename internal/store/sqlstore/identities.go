package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Identities = (*DB)(nil)

const identityColumns = "provider, subject, account_id, email, national_id_masked, national_id_sealed, linked_at, last_used_at"

// CreateIdentity implements store.Identities.
func (db *DB) CreateIdentity(ctx context.Context, id store.FederatedIdentity) error {
	_, err := db.writer().exec(ctx,
		"INSERT INTO federated_identities ("+identityColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		id.Provider, id.Subject, id.AccountID, id.Email, id.NationalIDMasked, nilIfEmpty(id.NationalIDSealed),
		millis(id.LinkedAt), millis(id.LastUsedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: link %s identity to %q: %w", id.Provider, id.AccountID, err)
	}
	return nil
}

// GetIdentity implements store.Identities.
func (db *DB) GetIdentity(ctx context.Context, provider, subject string) (store.FederatedIdentity, error) {
	id, err := getIdentity(ctx, db.reader(), provider, subject)
	if err != nil {
		return store.FederatedIdentity{}, fmt.Errorf("sqlstore: get %s identity: %w", provider, err)
	}
	return id, nil
}

func getIdentity(ctx context.Context, c conn, provider, subject string) (store.FederatedIdentity, error) {
	id, err := scanIdentity(c.queryRow(ctx, "SELECT "+identityColumns+
		" FROM federated_identities WHERE provider = ? AND subject = ?", provider, subject))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return id, err
}

// ListIdentities implements store.Identities.
func (db *DB) ListIdentities(ctx context.Context, accountID string) ([]store.FederatedIdentity, error) {
	list, err := queryAll(ctx, db.reader(), scanIdentity, "SELECT "+identityColumns+
		" FROM federated_identities WHERE account_id = ? ORDER BY linked_at, provider, subject", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list identities of %q: %w", accountID, err)
	}
	return list, nil
}

// TouchIdentity implements store.Identities.
func (db *DB) TouchIdentity(ctx context.Context, provider, subject string, at time.Time) error {
	err := db.writer().execOne(ctx, "UPDATE federated_identities SET last_used_at = ? WHERE provider = ? AND subject = ?",
		millis(at), provider, subject)
	if err != nil {
		return fmt.Errorf("sqlstore: touch %s identity: %w", provider, err)
	}
	return nil
}

// DeleteIdentity implements store.Identities.
func (db *DB) DeleteIdentity(ctx context.Context, accountID, provider, subject string) error {
	err := db.writer().execOne(ctx, "DELETE FROM federated_identities WHERE account_id = ? AND provider = ? AND subject = ?",
		accountID, provider, subject)
	if err != nil {
		return fmt.Errorf("sqlstore: unlink %s identity of %q: %w", provider, accountID, err)
	}
	return nil
}

// MoveIdentity implements store.Identities. The update names the account
// that must hold the identity, so of two moves racing for one identity
// only the first finds it; the read-back is in the same transaction.
func (db *DB) MoveIdentity(ctx context.Context, provider, subject, from, to string, at time.Time) (store.FederatedIdentity, error) {
	var out store.FederatedIdentity
	err := db.inTx(ctx, func(c conn) error {
		if _, err := c.queryRow(ctx, "SELECT id FROM accounts WHERE id = ?", to).scanOne(); err != nil {
			return err
		}
		if err := c.execOne(ctx, "UPDATE federated_identities SET account_id = ?, linked_at = ? WHERE provider = ? AND subject = ? AND account_id = ?",
			to, millis(at), provider, subject, from); err != nil {
			return err
		}
		var err error
		out, err = getIdentity(ctx, c, provider, subject)
		return err
	})
	if err != nil {
		return store.FederatedIdentity{}, fmt.Errorf("sqlstore: move %s identity from %q to %q: %w", provider, from, to, err)
	}
	return out, nil
}

// scanOne scans a single string column, turning no row into
// store.ErrNotFound.
func (r row) scanOne() (string, error) {
	var s string
	err := r.Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return s, err
}

func scanIdentity(r rowScanner) (store.FederatedIdentity, error) {
	var (
		id           store.FederatedIdentity
		linked, used int64
	)
	if err := r.Scan(&id.Provider, &id.Subject, &id.AccountID, &id.Email, &id.NationalIDMasked, &id.NationalIDSealed, &linked, &used); err != nil {
		return store.FederatedIdentity{}, err
	}
	id.LinkedAt, id.LastUsedAt = fromMillis(linked), fromMillis(used)
	return id, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
