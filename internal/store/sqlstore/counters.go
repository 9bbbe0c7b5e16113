package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.Counters = (*DB)(nil)

// countFailure counts one failure on a key: its arguments are the key,
// now, now+window (the expiry), now-window (the cutoff), now, now, and the
// expiry twice.
const countFailure = `INSERT INTO counters (name, failures, last_failure_at, expires_at) VALUES (?, 1, ?, ?)
		ON CONFLICT (name) DO UPDATE SET
			failures = CASE WHEN counters.last_failure_at < ? THEN 1 ELSE counters.failures + 1 END,
			last_failure_at = CASE WHEN counters.last_failure_at > ? THEN counters.last_failure_at ELSE ? END,
			expires_at = CASE WHEN counters.expires_at > ? THEN counters.expires_at ELSE ? END`

// AddFailure adds one failure to key and returns the new count, in one
// statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), so concurrent
// calls on any node each get a count of their own. A counter whose last
// failure is older than window (before now-window; exactly window ago is
// not older) starts again from zero before the increment. The counter may
// be collected (DeleteExpiredCounters) a window after its last failure,
// the longest window it was ever counted under.
//
// The last failure becomes now, unless the stored one is later (a node
// whose clock is behind), so it never goes back in time.
func (db *DB) AddFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	at, cutoff, expires := millis(now), millis(now.Add(-window)), millis(now.Add(window))
	var n int
	err := db.writer().queryRow(ctx, countFailure+" RETURNING failures",
		key, at, expires, cutoff, at, at, expires, expires).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: add failure to %q: %w", key, err)
	}
	return n, nil
}

// ReserveFailure is AddFailure with the limit in the upsert's WHERE: a
// counter at the limit within its window is left as it is and no row
// comes back. PostgreSQL evaluates the WHERE against the row a concurrent
// call has just committed, and SQLite's writes take turns, so parallel
// calls never count past the limit.
func (db *DB) ReserveFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (int, bool, error) {
	if limit <= 0 {
		return 0, false, nil
	}
	at, cutoff, expires := millis(now), millis(now.Add(-window)), millis(now.Add(window))
	var n int
	err := db.writer().queryRow(ctx, countFailure+" WHERE counters.last_failure_at < ? OR counters.failures < ? RETURNING failures",
		key, at, expires, cutoff, at, at, expires, expires, cutoff, limit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: reserve failure of %q: %w", key, err)
	}
	return n, true, nil
}

// AddFailures is AddFailure for every key in one statement: a multi-row
// INSERT … ON CONFLICT DO UPDATE … RETURNING, the same arithmetic row by
// row (a row's cutoff, now less its window, is written as 2·at − expires,
// since its expires is now plus its window). The rows go in the order of
// their names, so that concurrent calls lock shared counters (the global
// one) in one order and cannot deadlock on PostgreSQL.
func (db *DB) AddFailures(ctx context.Context, now time.Time, windows map[string]time.Duration) (map[string]int, error) {
	out := make(map[string]int, len(windows))
	if len(windows) == 0 {
		return out, nil
	}
	if len(windows) > store.MaxCounterKeys {
		return nil, fmt.Errorf("sqlstore: %d counter keys in one write, more than %d", len(windows), store.MaxCounterKeys)
	}
	names := slices.Sorted(maps.Keys(windows))
	at := millis(now)
	args := make([]any, 0, 3*len(names))
	for _, k := range names {
		args = append(args, k, at, millis(now.Add(windows[k])))
	}
	rs, err := db.writer().query(ctx, "INSERT INTO counters (name, failures, last_failure_at, expires_at) VALUES "+
		strings.Repeat("(?, 1, ?, ?), ", len(names)-1)+"(?, 1, ?, ?)"+`
		ON CONFLICT (name) DO UPDATE SET
			failures = CASE WHEN counters.last_failure_at < 2 * excluded.last_failure_at - excluded.expires_at
				THEN 1 ELSE counters.failures + 1 END,
			last_failure_at = CASE WHEN counters.last_failure_at > excluded.last_failure_at
				THEN counters.last_failure_at ELSE excluded.last_failure_at END,
			expires_at = CASE WHEN counters.expires_at > excluded.expires_at THEN counters.expires_at ELSE excluded.expires_at END
		RETURNING name, failures`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: add failures: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var name string
		var n int
		if err := rs.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: add failures: %w", err)
		}
		out[name] = n
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: add failures: %w", err)
	}
	if len(out) != len(names) {
		return nil, fmt.Errorf("sqlstore: add failures: %d counts for %d keys", len(out), len(names))
	}
	return out, nil
}

// Failures returns key's count and when its last failure was. A missing or
// reset key has a count of 0 and a zero time. A key whose last failure is
// older than window has a count of 0 but keeps the time of that failure.
func (db *DB) Failures(ctx context.Context, key string, now time.Time, window time.Duration) (count int, last time.Time, err error) {
	var at int64
	err = db.reader().queryRow(ctx, "SELECT failures, last_failure_at FROM counters WHERE name = ?", key).
		Scan(&count, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: failures of %q: %w", key, err)
	}
	if at < millis(now.Add(-window)) {
		count = 0
	}
	return count, fromMillis(at), nil
}

// FailuresOf reads the counters of keys in one statement: a sign-in
// checks five or so keys after its hash, and one round trip each was most
// of what PostgreSQL spent on a login (issue 12). Before the hash they
// come with the account (GetLoginCountingByEmail).
func (db *DB) FailuresOf(ctx context.Context, keys []string) (map[string]store.CounterState, error) {
	out := make(map[string]store.CounterState, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if len(keys) > store.MaxCounterKeys {
		return nil, fmt.Errorf("sqlstore: %d counter keys in one read, more than %d", len(keys), store.MaxCounterKeys)
	}
	rs, err := db.reader().query(ctx, "SELECT name, failures, last_failure_at FROM counters WHERE name IN ("+placeholders(len(keys))+")", anys(keys)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read counters: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var name string
		var n int
		var at int64
		if err := rs.Scan(&name, &n, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: read counters: %w", err)
		}
		out[name] = store.CounterState{Failures: n, Last: fromMillis(at)}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read counters: %w", err)
	}
	return out, nil
}

// ResetFailures deletes the keys' counters in one statement; a missing key
// is not an error.
func (db *DB) ResetFailures(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) > store.MaxCounterKeys {
		return fmt.Errorf("sqlstore: %d counter keys in one reset, more than %d", len(keys), store.MaxCounterKeys)
	}
	q := "DELETE FROM counters WHERE name IN (" + placeholders(len(keys)) + ")"
	if db.d.forUpdate != "" {
		// Lock the rows in name order, as AddFailures writes them: a
		// DELETE … IN locks in the order of its plan, and a reset beside
		// a failure counted on the same keys could deadlock (found by the
		// issue 12 review: a wrong password counted on no key, or a right
		// one refused, with a 500). SQLite has one writer at a time.
		q = "DELETE FROM counters WHERE name IN (SELECT name FROM counters WHERE name IN (" +
			placeholders(len(keys)) + ") ORDER BY name" + db.d.forUpdate + ")"
	}
	if _, err := db.writer().exec(ctx, q, anys(keys)...); err != nil {
		return fmt.Errorf("sqlstore: reset failures of %q: %w", keys, err)
	}
	return nil
}

// anys converts a slice of strings to query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
