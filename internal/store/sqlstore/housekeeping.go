package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Housekeeping = (*DB)(nil)

// TakeLease takes the job's lease in one statement: the insert of a first
// lease, or the update of one that has ended, so nodes racing for it on
// SQLite or PostgreSQL get exactly one winner.
func (db *DB) TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	n, err := db.writer().execCount(ctx, `INSERT INTO job_leases (name, holder, until_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at
		WHERE job_leases.until_at <= ?`,
		name, holder, millis(until), millis(now))
	if err != nil {
		return false, fmt.Errorf("sqlstore: take lease %q: %w", name, err)
	}
	return n == 1, nil
}

// DeleteExpiredCounters removes counters whose expiry has passed.
func (db *DB) DeleteExpiredCounters(ctx context.Context, now time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM counters WHERE expires_at < ?", millis(now))
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete expired counters: %w", err)
	}
	return n, nil
}

// DeleteExpiredTrustedBrowsers removes remembered browsers that have expired.
func (db *DB) DeleteExpiredTrustedBrowsers(ctx context.Context, now time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM trusted_browsers WHERE expires_at <= ?", millis(now))
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete expired trusted browsers: %w", err)
	}
	return n, nil
}

// DeleteSentMessages removes messages delivered before before.
func (db *DB) DeleteSentMessages(ctx context.Context, before time.Time) (int, error) {
	n, err := db.writer().execCount(ctx, "DELETE FROM messages WHERE sent_at <> ? AND sent_at < ?", unsent, millis(before))
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete sent messages: %w", err)
	}
	return n, nil
}
