package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.WebAuthnCredentials = (*DB)(nil)

const webAuthnColumns = "id, account_id, name, public_key, attestation_type, aaguid, sign_count, transports, " +
	"discoverable, backup_eligible, backup_state, clone_warning, created_at, last_used_at"

// CreateWebAuthnCredential inserts c. The error wraps store.ErrConflict if
// the credential ID is registered already, to this or any other account,
// and store.ErrNotFound if c.AccountID names no account. A credential
// without an ID, or with a transport that is empty or contains a space
// (they are stored space-separated), is refused with a plain error.
//
// A nil or empty PublicKey or AAGUID is stored as NULL and reads back as
// nil; so does an empty Transports.
func (db *DB) CreateWebAuthnCredential(ctx context.Context, c store.WebAuthnCredential) error {
	if len(c.ID) == 0 {
		return fmt.Errorf("sqlstore: create webauthn credential of %q: no credential ID", c.AccountID)
	}
	transports, err := joinTransports(c.Transports)
	if err != nil {
		return fmt.Errorf("sqlstore: create webauthn credential %s: %w", credentialName(c.ID), err)
	}
	_, err = db.writer().exec(ctx,
		"INSERT INTO webauthn_credentials ("+webAuthnColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.Name, nullIfNoBytes(c.PublicKey), c.AttestationType, nullIfNoBytes(c.AAGUID),
		int64(c.SignCount), transports, c.Discoverable, c.BackupEligible, c.BackupState, c.CloneWarning,
		millis(c.CreatedAt), millis(c.LastUsedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create webauthn credential %s: %w", credentialName(c.ID), err)
	}
	return nil
}

// GetWebAuthnCredential returns the credential with the given ID, or an
// error wrapping store.ErrNotFound; an empty id finds nothing.
func (db *DB) GetWebAuthnCredential(ctx context.Context, id []byte) (store.WebAuthnCredential, error) {
	c, err := getWebAuthnCredential(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return c, fmt.Errorf("sqlstore: get webauthn credential %s: %w", credentialName(id), err)
	}
	return c, nil
}

// ListWebAuthnCredentials returns the account's credentials, oldest (by
// CreatedAt) first, ties by ID. An unknown account has none; that is not
// an error.
func (db *DB) ListWebAuthnCredentials(ctx context.Context, accountID string) ([]store.WebAuthnCredential, error) {
	list, err := queryAll(ctx, db.reader(), scanWebAuthnCredential, "SELECT "+webAuthnColumns+
		" FROM webauthn_credentials WHERE account_id = ? ORDER BY created_at, id", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list webauthn credentials of %q: %w", accountID, err)
	}
	return list, nil
}

// UpdateWebAuthnCredential has the semantics of UpdateAccount: one
// transaction that locks the row (SELECT … FOR UPDATE on PostgreSQL, the
// write lock on SQLite), so concurrent updates of one credential run one
// after the other and each updater sees what the previous one wrote. An
// updater that checks the signature counter against SignCount and
// advances it therefore never loses a step to a concurrent login. fn's
// error is returned as it is and nothing is written; otherwise the error
// wraps store.ErrNotFound for a missing credential.
//
// fn must change neither the ID nor the AccountID (a credential does not
// move between accounts), and its Transports follow the rules of
// CreateWebAuthnCredential; if it breaks one, nothing is written and a
// plain error is returned.
func (db *DB) UpdateWebAuthnCredential(ctx context.Context, id []byte,
	fn func(store.WebAuthnCredential) (store.WebAuthnCredential, error)) (store.WebAuthnCredential, error) {
	var accountID string
	c, err := update(ctx, db, "webauthn credential", credentialName(id),
		func(cn conn) (store.WebAuthnCredential, error) {
			c, err := getWebAuthnCredential(ctx, cn, "id = ?"+db.d.forUpdate, id)
			accountID = c.AccountID
			return c, err
		},
		fn,
		func(cn conn, c store.WebAuthnCredential) error {
			if !bytes.Equal(c.ID, id) {
				return fmt.Errorf("updater changed the ID to %s", credentialName(c.ID))
			}
			if c.AccountID != accountID {
				return fmt.Errorf("updater changed the account ID to %q", c.AccountID)
			}
			transports, err := joinTransports(c.Transports)
			if err != nil {
				return err
			}
			return cn.execOne(ctx, `UPDATE webauthn_credentials SET name = ?, public_key = ?, attestation_type = ?,
				aaguid = ?, sign_count = ?, transports = ?, discoverable = ?, backup_eligible = ?, backup_state = ?,
				clone_warning = ?, created_at = ?, last_used_at = ? WHERE id = ?`,
				c.Name, nullIfNoBytes(c.PublicKey), c.AttestationType, nullIfNoBytes(c.AAGUID), int64(c.SignCount),
				transports, c.Discoverable, c.BackupEligible, c.BackupState, c.CloneWarning,
				millis(c.CreatedAt), millis(c.LastUsedAt), id)
		})
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	return readBackWebAuthnCredential(c), nil
}

// DeleteWebAuthnCredential removes the account's credential with the given
// ID. The error wraps store.ErrNotFound if the account has no such
// credential, also when another account does; that credential is left
// alone.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, accountID string, id []byte) error {
	err := db.writer().execOne(ctx, "DELETE FROM webauthn_credentials WHERE account_id = ? AND id = ?", accountID, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete webauthn credential %s of %q: %w", credentialName(id), accountID, err)
	}
	return nil
}

func getWebAuthnCredential(ctx context.Context, c conn, where string, args ...any) (store.WebAuthnCredential, error) {
	cred, err := scanWebAuthnCredential(c.queryRow(ctx, "SELECT "+webAuthnColumns+" FROM webauthn_credentials WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.WebAuthnCredential{}, store.ErrNotFound
	}
	return cred, err
}

// scanWebAuthnCredential reads a row of webAuthnColumns from a *sql.Row or
// *sql.Rows.
func scanWebAuthnCredential(row interface{ Scan(...any) error }) (store.WebAuthnCredential, error) {
	var (
		c                     store.WebAuthnCredential
		signCount             int64
		transports            string
		createdAt, lastUsedAt int64
	)
	err := row.Scan(&c.ID, &c.AccountID, &c.Name, &c.PublicKey, &c.AttestationType, &c.AAGUID, &signCount,
		&transports, &c.Discoverable, &c.BackupEligible, &c.BackupState, &c.CloneWarning, &createdAt, &lastUsedAt)
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	c.SignCount = uint32(signCount) // the column's CHECK keeps it in range
	c.Transports = strings.Fields(transports)
	c.CreatedAt, c.LastUsedAt = fromMillis(createdAt), fromMillis(lastUsedAt)
	return readBackWebAuthnCredential(c), nil
}

// readBackWebAuthnCredential returns c as a read returns it: times in UTC
// to the millisecond, and an empty PublicKey, AAGUID or Transports nil.
func readBackWebAuthnCredential(c store.WebAuthnCredential) store.WebAuthnCredential {
	c.CreatedAt, c.LastUsedAt = truncTime(c.CreatedAt), truncTime(c.LastUsedAt)
	if len(c.PublicKey) == 0 {
		c.PublicKey = nil
	}
	if len(c.AAGUID) == 0 {
		c.AAGUID = nil
	}
	if len(c.Transports) == 0 {
		c.Transports = nil
	}
	return c
}

// joinTransports stores the transport hints space-separated, refusing
// values that would not split back into the same list.
func joinTransports(transports []string) (string, error) {
	for _, t := range transports {
		if t == "" || strings.ContainsFunc(t, unicode.IsSpace) {
			return "", fmt.Errorf("transport %q is empty or contains a space", t)
		}
	}
	return strings.Join(transports, " "), nil
}

// credentialName returns a credential ID as it is put into error messages:
// base64url, as browsers and the WebAuthn JSON show it. Credential IDs are
// not secret.
func credentialName(id []byte) string {
	return base64.RawURLEncoding.EncodeToString(id)
}
