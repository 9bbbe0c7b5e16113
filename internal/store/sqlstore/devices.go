package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var (
	_ store.Devices    = (*DB)(nil)
	_ store.Lifecycles = (*DB)(nil)
)

const knownDeviceColumns = "account_id, device_hash, user_agent, ip, first_seen_at, last_seen_at"

// SeeDevice records a sign-in from d (see store.Devices). The insert is
// one statement that does nothing on a known device, so of parallel
// calls for a new device exactly one inserts it; a new device beyond
// store.MaxKnownDevices pushes out the one seen longest ago.
func (db *DB) SeeDevice(ctx context.Context, d store.KnownDevice) (known bool, before int, err error) {
	if len(d.Hash) == 0 {
		return false, 0, fmt.Errorf("sqlstore: see device of %q: no device digest", d.AccountID)
	}
	// A known device, as on most sign-ins: one UPDATE that returns the
	// account's count, not a read then a write (issue 12), nor a
	// transaction of five round trips. The count is of the rows the
	// statement sees, this one among them; the update adds or removes
	// none. A device forgotten in between matches no row, and goes the
	// way of a new one.
	err = db.writer().queryRow(ctx, `UPDATE known_devices SET user_agent = ?, ip = ?,
		last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
		WHERE account_id = ? AND device_hash = ?
		RETURNING (SELECT COUNT(*) FROM known_devices c WHERE c.account_id = ?)`,
		d.UserAgent, d.IP, millis(d.LastSeenAt), millis(d.LastSeenAt), d.AccountID, d.Hash, d.AccountID).Scan(&before)
	if err == nil {
		return true, before, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("sqlstore: see device of %q: %w", d.AccountID, err)
	}
	err = db.inTx(ctx, func(c conn) error {
		if err := c.queryRow(ctx, "SELECT COUNT(*) FROM known_devices WHERE account_id = ?", d.AccountID).Scan(&before); err != nil {
			return err
		}
		n, err := c.execCount(ctx, "INSERT INTO known_devices ("+knownDeviceColumns+") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, device_hash) DO NOTHING",
			d.AccountID, d.Hash, d.UserAgent, d.IP, millis(d.LastSeenAt), millis(d.LastSeenAt))
		if err != nil {
			return err
		}
		if n == 0 {
			known = true
			_, err := c.exec(ctx, `UPDATE known_devices SET user_agent = ?, ip = ?,
				last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
				WHERE account_id = ? AND device_hash = ?`,
				d.UserAgent, d.IP, millis(d.LastSeenAt), millis(d.LastSeenAt), d.AccountID, d.Hash)
			return err
		}
		if before >= store.MaxKnownDevices {
			// Bounded: keep the newest MaxKnownDevices.
			_, err := c.exec(ctx, `DELETE FROM known_devices WHERE account_id = ? AND device_hash IN (
				SELECT device_hash FROM known_devices WHERE account_id = ? AND device_hash <> ?
				ORDER BY last_seen_at, device_hash LIMIT ?)`, d.AccountID, d.AccountID, d.Hash, before+1-store.MaxKnownDevices)
			return err
		}
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("sqlstore: see device of %q: %w", d.AccountID, err)
	}
	return known, before, nil
}

// ListDevices returns the account's devices, last seen first.
func (db *DB) ListDevices(ctx context.Context, accountID string) ([]store.KnownDevice, error) {
	list, err := queryAll(ctx, db.reader(), scanKnownDevice, "SELECT "+knownDeviceColumns+
		" FROM known_devices WHERE account_id = ? ORDER BY last_seen_at DESC, device_hash", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list devices of %q: %w", accountID, err)
	}
	return list, nil
}

// ForgetDevice removes one device of the account; the error wraps
// store.ErrNotFound if it has none with that digest.
func (db *DB) ForgetDevice(ctx context.Context, accountID string, hash []byte) error {
	if err := db.writer().execOne(ctx, "DELETE FROM known_devices WHERE account_id = ? AND device_hash = ?", accountID, hash); err != nil {
		return fmt.Errorf("sqlstore: forget device of %q: %w", accountID, err)
	}
	return nil
}

// DeleteStaleDevices removes the devices last seen before before.
func (db *DB) DeleteStaleDevices(ctx context.Context, before time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM known_devices WHERE last_seen_at < ?", millis(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete stale devices: %w", err)
	}
	return n, nil
}

// TouchTrustedBrowser moves the browser's last_used_at forward to at.
func (db *DB) TouchTrustedBrowser(ctx context.Context, accountID, id string, at time.Time) error {
	var exists int
	err := db.inTx(ctx, func(c conn) error {
		if err := c.queryRow(ctx, "SELECT COUNT(*) FROM trusted_browsers WHERE account_id = ? AND id = ?", accountID, id).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return store.ErrNotFound
		}
		_, err := c.exec(ctx, "UPDATE trusted_browsers SET last_used_at = ? WHERE account_id = ? AND id = ? AND last_used_at < ?",
			millis(at), accountID, id, millis(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: touch trusted browser %q of %q: %w", id, accountID, err)
	}
	return nil
}

// TrustedBrowserLastUsed returns the last use of each of the account's
// remembered browsers, by ID.
func (db *DB) TrustedBrowserLastUsed(ctx context.Context, accountID string) (map[string]time.Time, error) {
	type used struct {
		id string
		at time.Time
	}
	list, err := queryAll(ctx, db.reader(), func(r rowScanner) (used, error) {
		var u used
		var at int64
		err := r.Scan(&u.id, &at)
		u.at = fromMillis(at)
		return u, err
	}, "SELECT id, last_used_at FROM trusted_browsers WHERE account_id = ?", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trusted browsers' last use of %q: %w", accountID, err)
	}
	out := make(map[string]time.Time, len(list))
	for _, u := range list {
		out[u.id] = u.at
	}
	return out, nil
}

func scanKnownDevice(row rowScanner) (store.KnownDevice, error) {
	var (
		d           store.KnownDevice
		first, last int64
	)
	if err := row.Scan(&d.AccountID, &d.Hash, &d.UserAgent, &d.IP, &first, &last); err != nil {
		return store.KnownDevice{}, err
	}
	d.FirstSeenAt, d.LastSeenAt = fromMillis(first), fromMillis(last)
	return d, nil
}

// ---- lifecycle ----

const lifecycleColumns = "id, created_at, last_active_at, inactivity_warnings, inactivity_warned_at, deletion_requested_at, deletion_due_at"

func scanLifecycle(row rowScanner) (store.Lifecycle, error) {
	var (
		l                                       store.Lifecycle
		created, active, warned, requested, due int64
	)
	if err := row.Scan(&l.AccountID, &created, &active, &l.Warnings, &warned, &requested, &due); err != nil {
		return store.Lifecycle{}, err
	}
	l.CreatedAt, l.LastActiveAt, l.WarnedAt = fromMillis(created), fromMillis(active), fromMillis(warned)
	l.DeletionRequestedAt, l.DeletionDueAt = fromMillis(requested), fromMillis(due)
	return l, nil
}

func getLifecycle(ctx context.Context, c conn, id, suffix string) (store.Lifecycle, error) {
	l, err := scanLifecycle(c.queryRow(ctx, "SELECT "+lifecycleColumns+" FROM accounts WHERE id = ?"+suffix, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Lifecycle{}, store.ErrNotFound
	}
	return l, err
}

// GetLifecycle returns the account's lifecycle state, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetLifecycle(ctx context.Context, accountID string) (store.Lifecycle, error) {
	l, err := getLifecycle(ctx, db.reader(), accountID, "")
	if err != nil {
		return l, fmt.Errorf("sqlstore: get lifecycle of %q: %w", accountID, err)
	}
	return l, nil
}

// MarkActive records a sign-in (see store.Lifecycles) and returns the
// state before it. It runs on every sign-in, so it is not a transaction
// of four round trips: on PostgreSQL it is one statement that locks, reads
// and writes the row (dialect.markActive); on SQLite a read and a compare
// and set (nothing written when nothing would change): the UPDATE applies
// only if the row is still what was read, and is tried again if a
// concurrent change came between. After a few lost races it falls back to
// the locking transaction.
func (db *DB) MarkActive(ctx context.Context, accountID string, at time.Time) (store.Lifecycle, error) {
	if db.d.markActive != "" {
		// One statement on PostgreSQL: the read, the lock and the write.
		before, err := scanLifecycle(db.writer().queryRow(ctx, db.d.markActive, accountID, millis(at), zeroTime))
		if errors.Is(err, sql.ErrNoRows) {
			err = store.ErrNotFound
		}
		if err != nil {
			return store.Lifecycle{}, fmt.Errorf("sqlstore: mark %q active: %w", accountID, err)
		}
		return before, nil
	}
	for range 3 {
		before, err := getLifecycle(ctx, db.reader(), accountID, "")
		if err != nil {
			return store.Lifecycle{}, fmt.Errorf("sqlstore: mark %q active: %w", accountID, err)
		}
		active := max(millis(before.LastActiveAt), millis(at))
		if active == millis(before.LastActiveAt) && before.Warnings == 0 && before.WarnedAt.IsZero() &&
			before.DeletionRequestedAt.IsZero() && before.DeletionDueAt.IsZero() {
			return before, nil // already so
		}
		n, err := db.writer().execCount(ctx, `UPDATE accounts SET last_active_at = ?, inactivity_warnings = 0, inactivity_warned_at = ?,
			deletion_requested_at = ?, deletion_due_at = ? WHERE id = ? AND last_active_at = ? AND inactivity_warnings = ?
			AND inactivity_warned_at = ? AND deletion_requested_at = ? AND deletion_due_at = ?`,
			active, zeroTime, zeroTime, zeroTime, accountID, millis(before.LastActiveAt), before.Warnings,
			millis(before.WarnedAt), millis(before.DeletionRequestedAt), millis(before.DeletionDueAt))
		if err != nil {
			return store.Lifecycle{}, fmt.Errorf("sqlstore: mark %q active: %w", accountID, err)
		}
		if n == 1 {
			return before, nil
		}
	}
	var before store.Lifecycle
	err := db.inTx(ctx, func(c conn) error {
		var err error
		if before, err = getLifecycle(ctx, c, accountID, db.d.forUpdate); err != nil {
			return err
		}
		active := before.LastActiveAt
		if at.After(active) {
			active = at
		}
		_, err = c.exec(ctx, `UPDATE accounts SET last_active_at = ?, inactivity_warnings = 0, inactivity_warned_at = ?,
			deletion_requested_at = ?, deletion_due_at = ? WHERE id = ?`,
			millis(active), zeroTime, zeroTime, zeroTime, accountID)
		return err
	})
	if err != nil {
		return store.Lifecycle{}, fmt.Errorf("sqlstore: mark %q active: %w", accountID, err)
	}
	return before, nil
}

// ScheduleDeletion records a requested deletion.
func (db *DB) ScheduleDeletion(ctx context.Context, accountID string, requested, due time.Time) error {
	if err := db.writer().execOne(ctx, "UPDATE accounts SET deletion_requested_at = ?, deletion_due_at = ? WHERE id = ?",
		millis(requested), millis(due), accountID); err != nil {
		return fmt.Errorf("sqlstore: schedule deletion of %q: %w", accountID, err)
	}
	return nil
}

func lifecycleLimit(limit int) int {
	if limit <= 0 || limit > store.MaxLifecycleBatch {
		return store.MaxLifecycleBatch
	}
	return limit
}

// ListIdleAccounts returns accounts last active at or before activeBefore:
// both the last sign-in and the creation are (Active is the later).
func (db *DB) ListIdleAccounts(ctx context.Context, activeBefore time.Time, afterID string, limit int) ([]store.Lifecycle, error) {
	list, err := queryAll(ctx, db.reader(), scanLifecycle, "SELECT "+lifecycleColumns+
		" FROM accounts WHERE last_active_at <= ? AND created_at <= ? AND id > ? ORDER BY id LIMIT ?",
		millis(activeBefore), millis(activeBefore), afterID, lifecycleLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list idle accounts: %w", err)
	}
	return list, nil
}

// ListDueDeletions returns accounts whose requested deletion is due.
func (db *DB) ListDueDeletions(ctx context.Context, now time.Time, afterID string, limit int) ([]store.Lifecycle, error) {
	list, err := queryAll(ctx, db.reader(), scanLifecycle, "SELECT "+lifecycleColumns+
		" FROM accounts WHERE deletion_due_at > ? AND deletion_due_at <= ? AND id > ? ORDER BY id LIMIT ?",
		zeroTime, millis(now), afterID, lifecycleLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list due deletions: %w", err)
	}
	return list, nil
}

// MarkWarned is a compare and set on (last_active_at, inactivity_warnings).
func (db *DB) MarkWarned(ctx context.Context, was store.Lifecycle, n int, at time.Time) (bool, error) {
	c, err := db.writer().execCount(ctx, `UPDATE accounts SET inactivity_warnings = ?, inactivity_warned_at = ?
		WHERE id = ? AND last_active_at = ? AND inactivity_warnings = ?`,
		n, millis(at), was.AccountID, millis(was.LastActiveAt), was.Warnings)
	if err != nil {
		return false, fmt.Errorf("sqlstore: mark %q warned: %w", was.AccountID, err)
	}
	return c == 1, nil
}

// DeleteAccountIf deletes the account if its lifecycle state is still
// was; the foreign keys take everything that belongs to it.
func (db *DB) DeleteAccountIf(ctx context.Context, was store.Lifecycle) (bool, error) {
	c, err := db.writer().execCount(ctx, `DELETE FROM accounts WHERE id = ? AND last_active_at = ?
		AND inactivity_warnings = ? AND deletion_due_at = ?`,
		was.AccountID, millis(was.LastActiveAt), was.Warnings, millis(was.DeletionDueAt))
	if err != nil {
		return false, fmt.Errorf("sqlstore: delete account %q: %w", was.AccountID, err)
	}
	return c == 1, nil
}
