package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.RecoveryCodes = (*DB)(nil)

// unused is the stored used_at of a recovery code not yet used: the zero
// time's millisecond value.
var unused = millis(time.Time{})

// ReplaceRecoveryCodes deletes every recovery code of the account and
// inserts codes, in one transaction: either the new set replaces the old
// one or nothing changes. An empty codes leaves the account with none.
//
// The error wraps store.ErrNotFound if no account has the ID, and
// store.ErrConflict if codes repeat a digest. A code with an empty
// AccountID belongs to the account; one naming another account, or one
// without a digest, is refused with a plain error. Nothing is written in
// any of these cases.
//
// The transaction begins by locking the account's row (SELECT … FOR UPDATE
// on PostgreSQL), so that concurrent replacements for one account take
// turns and the last one's set is what remains, never a mix of two.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, accountID string, codes []store.RecoveryCode) error {
	err := db.inTx(ctx, func(c conn) error {
		args := make([]any, 0, 4*len(codes))
		for i, rc := range codes {
			if rc.AccountID != "" && rc.AccountID != accountID {
				return fmt.Errorf("recovery code %d is for account %q", i, rc.AccountID)
			}
			if len(rc.Hash) == 0 {
				return fmt.Errorf("recovery code %d has no digest", i)
			}
			args = append(args, accountID, rc.Hash, millis(rc.CreatedAt), millis(rc.UsedAt))
		}
		var id string
		err := c.queryRow(ctx, "SELECT id FROM accounts WHERE id = ?"+db.d.forUpdate, accountID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM recovery_codes WHERE account_id = ?", accountID); err != nil {
			return err
		}
		if len(codes) == 0 {
			return nil
		}
		values := strings.Repeat(", (?, ?, ?, ?)", len(codes))[2:]
		_, err = c.exec(ctx, "INSERT INTO recovery_codes (account_id, hash, created_at, used_at) VALUES "+values, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: replace recovery codes of %q: %w", accountID, err)
	}
	return nil
}

// UseRecoveryCode marks the account's unused code with the digest hash as
// used at now and returns how many unused codes the account has left, in
// one transaction. The error wraps store.ErrNotFound if the account has no
// unused code with that digest: unknown, already used, another account's,
// or an empty hash. The digest is not put in the error.
//
// The code is marked by a single UPDATE … WHERE used_at is unused, whose
// row count says whether this call used it. Concurrent calls with one code
// queue on the row (PostgreSQL re-checks the condition once the first
// commits; SQLite's writer runs one at a time), so exactly one of them
// succeeds and the others get ErrNotFound.
//
// now must not be the zero time, which would leave the code unused.
func (db *DB) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, now time.Time) (int, error) {
	if millis(now) == unused {
		return 0, fmt.Errorf("sqlstore: use recovery code of %q: zero time", accountID)
	}
	if len(hash) == 0 {
		return 0, fmt.Errorf("sqlstore: use recovery code of %q: %w", accountID, store.ErrNotFound)
	}
	var remaining int
	err := db.inTx(ctx, func(c conn) error {
		if err := c.execOne(ctx, "UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND hash = ? AND used_at = ?",
			millis(now), accountID, hash, unused); err != nil {
			return err
		}
		return c.queryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE account_id = ? AND used_at = ?",
			accountID, unused).Scan(&remaining)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: use recovery code of %q: %w", accountID, err)
	}
	return remaining, nil
}

// CountRecoveryCodes returns how many unused codes the account has and how
// many it has in all. An unknown account has none; that is not an error.
func (db *DB) CountRecoveryCodes(ctx context.Context, accountID string) (unusedCodes, total int, err error) {
	err = db.reader().queryRow(ctx,
		"SELECT COALESCE(SUM(CASE WHEN used_at = ? THEN 1 ELSE 0 END), 0), COUNT(*) FROM recovery_codes WHERE account_id = ?",
		unused, accountID).Scan(&unusedCodes, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: count recovery codes of %q: %w", accountID, err)
	}
	return unusedCodes, total, nil
}
