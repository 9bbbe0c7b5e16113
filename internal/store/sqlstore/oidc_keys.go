package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/portvakt/portvakt/internal/store"
)

const signingKeyColumns = "id, alg, private_key, public_key, created_at, active_from, retired_at, expires_at"

// ListSigningKeys returns every signing key, by ActiveFrom then ID.
func (db *DB) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := listSigningKeys(ctx, db.reader())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list signing keys: %w", err)
	}
	return keys, nil
}

func listSigningKeys(ctx context.Context, c conn) ([]store.SigningKey, error) {
	rows, err := c.query(ctx, "SELECT "+signingKeyColumns+" FROM oidc_signing_keys ORDER BY active_from, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.SigningKey
	for rows.Next() {
		var (
			k                                     store.SigningKey
			created, activeFrom, retired, expires int64
		)
		if err := rows.Scan(&k.ID, &k.Alg, &k.PrivateKey, &k.PublicKey, &created, &activeFrom, &retired, &expires); err != nil {
			return nil, err
		}
		k.CreatedAt, k.ActiveFrom = fromMillis(created), fromMillis(activeFrom)
		k.RetiredAt, k.ExpiresAt = fromMillis(retired), fromMillis(expires)
		list = append(list, k)
	}
	return list, rows.Err()
}

// UpdateSigningKeys reads every key, passes them to fn and writes the
// difference to what fn returns, in one transaction. Two of them never
// run at once: on SQLite the write transaction (BEGIN IMMEDIATE) already
// excludes every other writer, also of other processes; on PostgreSQL the
// transaction begins with LOCK TABLE … IN EXCLUSIVE MODE, which lets
// readers (ListSigningKeys) through but queues other updaters, so two
// nodes starting at once do not both create a first key. fn's error is
// returned as it is and nothing is written; a returned set that repeats
// an ID is refused with a plain error.
func (db *DB) UpdateSigningKeys(ctx context.Context,
	fn func([]store.SigningKey) ([]store.SigningKey, error)) ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := db.inTx(ctx, func(c conn) error {
		// The one statement here that only one dialect knows; SQLite needs
		// no lock beyond its write transaction.
		if db.d.name == "postgres" {
			if _, err := c.exec(ctx, "LOCK TABLE oidc_signing_keys IN EXCLUSIVE MODE"); err != nil {
				return err
			}
		}
		old, err := listSigningKeys(ctx, c)
		if err != nil {
			return err
		}
		next, err := fn(append([]store.SigningKey(nil), old...))
		if err != nil {
			return updaterError{err}
		}
		byID := map[string]store.SigningKey{}
		for _, k := range old {
			byID[k.ID] = k
		}
		seen := map[string]bool{}
		for _, k := range next {
			if k.ID == "" || seen[k.ID] {
				return fmt.Errorf("key ID %q is empty or repeated", k.ID)
			}
			seen[k.ID] = true
			args := []any{k.ID, k.Alg, k.PrivateKey, k.PublicKey, millis(k.CreatedAt), millis(k.ActiveFrom),
				millis(k.RetiredAt), millis(k.ExpiresAt)}
			prev, ok := byID[k.ID]
			switch {
			case !ok:
				_, err = c.exec(ctx, "INSERT INTO oidc_signing_keys ("+signingKeyColumns+") VALUES ("+placeholders(8)+")", args...)
			case !sameSigningKey(prev, k):
				err = c.execOne(ctx, `UPDATE oidc_signing_keys SET alg = ?, private_key = ?, public_key = ?,
					created_at = ?, active_from = ?, retired_at = ?, expires_at = ? WHERE id = ?`, append(args[1:], k.ID)...)
			}
			if err != nil {
				return err
			}
		}
		for _, k := range old {
			if !seen[k.ID] {
				if err := c.execOne(ctx, "DELETE FROM oidc_signing_keys WHERE id = ?", k.ID); err != nil {
					return err
				}
			}
		}
		out, err = listSigningKeys(ctx, c)
		return err
	})
	if ue, ok := errors.AsType[updaterError](err); ok {
		return nil, ue.err
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: update signing keys: %w", err)
	}
	return out, nil
}

// sameSigningKey reports whether a and b would be stored alike.
func sameSigningKey(a, b store.SigningKey) bool {
	return a.Alg == b.Alg && bytes.Equal(a.PrivateKey, b.PrivateKey) && bytes.Equal(a.PublicKey, b.PublicKey) &&
		millis(a.CreatedAt) == millis(b.CreatedAt) && millis(a.ActiveFrom) == millis(b.ActiveFrom) &&
		millis(a.RetiredAt) == millis(b.RetiredAt) && millis(a.ExpiresAt) == millis(b.ExpiresAt)
}
