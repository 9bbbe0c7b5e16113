package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Flows = (*DB)(nil)

const flowColumns = "id, kind, browser_hash, account_id, email, state, code_hash, link_hash, attempts, sends, " +
	"last_sent_at, data, created_at, expires_at, consumed_at"

// CreateFlow inserts f. The error wraps store.ErrConflict if f.ID or a
// non-empty f.LinkHash is taken, and store.ErrNotFound if a non-empty
// f.AccountID names no account.
//
// An empty AccountID is stored as NULL (the flow has no account yet), and
// so are BrowserHash, CodeHash and LinkHash when they are nil or empty: a
// digest of no bytes is no digest, and an empty LinkHash must neither find
// a flow nor collide with another flow's. They read back as "" and nil.
func (db *DB) CreateFlow(ctx context.Context, f store.Flow) error {
	_, err := db.writer().exec(ctx,
		"INSERT INTO flows ("+flowColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		f.ID, f.Kind, nullIfNoBytes(f.BrowserHash), nullIfEmpty(f.AccountID), f.Email, f.State,
		nullIfNoBytes(f.CodeHash), nullIfNoBytes(f.LinkHash), f.Attempts, f.Sends, millis(f.LastSentAt),
		f.Data, millis(f.CreatedAt), millis(f.ExpiresAt), millis(f.ConsumedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create flow %q: %w", f.ID, err)
	}
	return nil
}

// GetFlow returns the flow with the given ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	f, err := getFlow(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return f, fmt.Errorf("sqlstore: get flow %q: %w", id, err)
	}
	return f, nil
}

// GetFlowByLinkHash returns the flow whose link digest is linkHash, or an
// error wrapping store.ErrNotFound; an empty linkHash finds nothing. The
// digest is not put in the error.
func (db *DB) GetFlowByLinkHash(ctx context.Context, linkHash []byte) (store.Flow, error) {
	var (
		f   store.Flow
		err = store.ErrNotFound
	)
	if len(linkHash) > 0 {
		f, err = getFlow(ctx, db.reader(), "link_hash = ?", linkHash)
	}
	if err != nil {
		return f, fmt.Errorf("sqlstore: get flow by link hash: %w", err)
	}
	return f, nil
}

// UpdateFlow has the semantics of UpdateAccount: one transaction that locks
// the row (SELECT … FOR UPDATE on PostgreSQL, the write lock on SQLite), so
// concurrent updates of one flow run one after the other and each updater
// sees what the previous one wrote. An updater that checks ConsumedAt is
// zero and sets it therefore consumes the flow exactly once. fn's error is
// returned as it is and nothing is written; otherwise the error wraps
// store.ErrNotFound for a missing flow (or a new AccountID that names no
// account) and store.ErrConflict if the new LinkHash is taken. fn must not
// change the ID.
func (db *DB) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	f, err := update(ctx, db, "flow", id,
		func(c conn) (store.Flow, error) {
			return getFlow(ctx, c, "id = ?"+db.d.forUpdate, id)
		},
		fn,
		func(c conn, f store.Flow) error { return putFlow(ctx, c, id, f) })
	if err != nil {
		return store.Flow{}, err
	}
	return readBackFlow(f), nil
}

// ConsumeFlow is a compare and set in one UPDATE … RETURNING: the
// conditions sit in its WHERE, so of parallel calls (on any node) exactly
// one finds the flow unused; PostgreSQL re-checks them against the row a
// concurrent update committed, and SQLite's writes take turns. A browser
// digest is compared as the flow's UpdateFlow updaters compare it: a flow
// without one (NULL) is anyone's, a flow with one needs the same bytes.
func (db *DB) ConsumeFlow(ctx context.Context, id, kind string, browser []byte, now time.Time) (store.Flow, error) {
	f, err := scanFlow(db.writer().queryRow(ctx, "UPDATE flows SET consumed_at = ? WHERE id = ? AND kind = ? AND consumed_at = ? AND expires_at > ?"+
		" AND (browser_hash IS NULL OR browser_hash = ?) RETURNING "+flowColumns,
		millis(now), id, kind, zeroTime, millis(now), nullIfNoBytes(browser)))
	if err != nil {
		return f, fmt.Errorf("sqlstore: consume flow %q: %w", id, err)
	}
	return f, nil
}

// putFlow writes f over the flow id, inside UpdateFlow's transaction.
func putFlow(ctx context.Context, c conn, id string, f store.Flow) error {
	if f.ID != id {
		return fmt.Errorf("updater changed the ID to %q", f.ID)
	}
	return c.execOne(ctx, `UPDATE flows SET kind = ?, browser_hash = ?, account_id = ?, email = ?, state = ?,
		code_hash = ?, link_hash = ?, attempts = ?, sends = ?, last_sent_at = ?, data = ?, created_at = ?,
		expires_at = ?, consumed_at = ? WHERE id = ?`,
		f.Kind, nullIfNoBytes(f.BrowserHash), nullIfEmpty(f.AccountID), f.Email, f.State,
		nullIfNoBytes(f.CodeHash), nullIfNoBytes(f.LinkHash), f.Attempts, f.Sends, millis(f.LastSentAt),
		f.Data, millis(f.CreatedAt), millis(f.ExpiresAt), millis(f.ConsumedAt), id)
}

// DeleteFlow returns an error wrapping store.ErrNotFound if there was no
// such flow.
func (db *DB) DeleteFlow(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM flows WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete flow %q: %w", id, err)
	}
	return nil
}

// DeleteAccountFlows removes the account's flows of the given kinds (of
// every kind if none are given) and returns how many went. An empty
// accountID matches no flow: flows without an account are not anyone's.
func (db *DB) DeleteAccountFlows(ctx context.Context, accountID string, kinds ...string) (int, error) {
	query, args := "DELETE FROM flows WHERE account_id = ?", []any{accountID}
	if len(kinds) > 0 {
		query += " AND kind IN (" + placeholders(len(kinds)) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	n, err := db.writer().execCount(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete flows of %q: %w", accountID, err)
	}
	return n, nil
}

// DeleteExpiredFlows removes the flows whose ExpiresAt is not after now
// (to the millisecond) and returns how many went.
func (db *DB) DeleteExpiredFlows(ctx context.Context, now time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM flows WHERE expires_at <= ?", millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired flows: %w", err)
	}
	return n, nil
}

func getFlow(ctx context.Context, c conn, where string, args ...any) (store.Flow, error) {
	return scanFlow(c.queryRow(ctx, "SELECT "+flowColumns+" FROM flows WHERE "+where, args...))
}

// scanFlow reads a row of flowColumns; no row is store.ErrNotFound.
func scanFlow(r row) (store.Flow, error) {
	var (
		f                                            store.Flow
		accountID                                    sql.NullString
		lastSentAt, createdAt, expiresAt, consumedAt int64
	)
	err := r.Scan(
		&f.ID, &f.Kind, &f.BrowserHash, &accountID, &f.Email, &f.State, &f.CodeHash, &f.LinkHash,
		&f.Attempts, &f.Sends, &lastSentAt, &f.Data, &createdAt, &expiresAt, &consumedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Flow{}, store.ErrNotFound
	}
	if err != nil {
		return store.Flow{}, err
	}
	f.AccountID = accountID.String
	f.LastSentAt, f.CreatedAt = fromMillis(lastSentAt), fromMillis(createdAt)
	f.ExpiresAt, f.ConsumedAt = fromMillis(expiresAt), fromMillis(consumedAt)
	return readBackFlow(f), nil
}

// readBackFlow returns f as a read returns it: times in UTC to the
// millisecond and empty digests nil.
func readBackFlow(f store.Flow) store.Flow {
	f.LastSentAt, f.CreatedAt = truncTime(f.LastSentAt), truncTime(f.CreatedAt)
	f.ExpiresAt, f.ConsumedAt = truncTime(f.ExpiresAt), truncTime(f.ConsumedAt)
	for _, b := range []*[]byte{&f.BrowserHash, &f.CodeHash, &f.LinkHash} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	return f
}

// nullIfNoBytes stores a nil or empty byte slice as NULL, which unique
// indexes ignore and which reads back as nil.
func nullIfNoBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
