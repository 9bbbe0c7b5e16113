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

// GetLoginCountingByEmail reads the account of an address, its password
// and the counters c names in one statement (getLogin), where GetEmail,
// GetAccount, GetPassword and FailuresOf took four round trips on every
// sign-in (issue 12).
func (db *DB) GetLoginCountingByEmail(ctx context.Context, address string, c store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
	a, p, cs, err := db.getLogin(ctx, "emails e JOIN accounts a ON a.id = e.account_id", "e.address_key = ?", emailKey(address), c)
	if err != nil {
		return a, p, cs, fmt.Errorf("sqlstore: get login by email %q: %w", address, err)
	}
	return a, p, cs, nil
}

// GetLoginCountingByUsername is GetLoginCountingByEmail for a username.
func (db *DB) GetLoginCountingByUsername(ctx context.Context, username string, c store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
	a, p, cs, err := db.getLogin(ctx, "accounts a", "a.username = ?", username, c)
	if err != nil {
		return a, p, cs, fmt.Errorf("sqlstore: get login by username %q: %w", username, err)
	}
	return a, p, cs, nil
}

// maybeLoginColumns are loginColumns of the subquery l of getLogin, which
// may find no account: then they are the zero values (an account's ID is
// never empty) and NULL where loginColumns may be NULL. They follow
// accountColumns.
const maybeLoginColumns = "COALESCE(l.id, ''), l.username, COALESCE(l.name, ''), COALESCE(l.locale, ''), COALESCE(l.disabled, FALSE), " +
	"COALESCE(l.groups, ''), COALESCE(l.mfa_required, FALSE), COALESCE(l.created_at, 0), COALESCE(l.updated_at, 0), l.hash, l.changed_at"

// getLogin reads the login of the account from finds where where holds
// (with arg), and the counters c names. With counters it is one row per
// counter found, or one with empty counter columns: the account, if any,
// is LEFT JOINed to a row of its own, so an unknown account costs the
// same one statement as a known one and the number of round trips tells
// nothing. The counters are LEFT JOINed on their primary key (index
// lookups); the account's own is named by concatenation, which both
// databases do with ||.
func (db *DB) getLogin(ctx context.Context, from, where string, arg any, c store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
	names := c.Names
	if len(names) == 0 && c.AccountPrefix == "" {
		a, p, err := scanLogin(db.reader().queryRow(ctx, "SELECT "+loginColumns+" FROM "+from+
			" LEFT JOIN passwords p ON p.account_id = a.id WHERE "+where, arg), nil)
		return a, p, nil, err
	}
	if len(names)+1 > store.MaxCounterKeys {
		return store.Account{}, store.Password{}, nil, fmt.Errorf("%d counter keys in one read, more than %d", len(names)+1, store.MaxCounterKeys)
	}
	args := []any{arg}
	var on []string
	if len(names) > 0 {
		on = append(on, "c.name IN ("+placeholders(len(names))+")")
		args = append(args, anys(names)...)
	}
	if c.AccountPrefix != "" {
		on = append(on, "c.name = CAST(? AS TEXT) || l.id")
		args = append(args, c.AccountPrefix)
	}
	rs, err := db.reader().query(ctx, "SELECT "+maybeLoginColumns+", c.name, c.failures, c.last_failure_at FROM (SELECT 1 AS one) x"+
		" LEFT JOIN (SELECT "+loginColumns+" FROM "+from+" LEFT JOIN passwords p ON p.account_id = a.id WHERE "+where+") l ON 1 = 1"+
		" LEFT JOIN counters c ON "+strings.Join(on, " OR "), args...)
	if err != nil {
		return store.Account{}, store.Password{}, nil, err
	}
	defer rs.Close()
	var (
		a store.Account
		p store.Password
	)
	counters := make(map[string]store.CounterState, len(names)+1)
	for rs.Next() {
		var (
			name     sql.NullString
			failures sql.NullInt64
			last     sql.NullInt64
		)
		if a, p, err = scanLogin(rs, []any{&name, &failures, &last}); err != nil {
			return store.Account{}, store.Password{}, nil, err
		}
		if name.Valid {
			counters[name.String] = store.CounterState{Failures: int(failures.Int64), Last: fromMillis(last.Int64)}
		}
	}
	if err := rs.Err(); err != nil {
		return store.Account{}, store.Password{}, nil, err
	}
	if a.ID == "" {
		return store.Account{}, store.Password{}, counters, store.ErrNotFound
	}
	return a, p, counters, nil
}

// scanLogin scans loginColumns, then into more.
func scanLogin(r rowScanner, more []any) (store.Account, store.Password, error) {
	var (
		ar        accountRow
		hash      sql.NullString
		changedAt sql.NullInt64
	)
	err := r.Scan(append(append(ar.dest(), &hash, &changedAt), more...)...)
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
