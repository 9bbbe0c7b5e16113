package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// DB is a store.Store on SQLite or PostgreSQL. It is safe for concurrent
// use, and several processes may share one PostgreSQL database.
type DB struct {
	d *dialect
	// write runs every write and every transaction. On SQLite it holds a
	// single connection, so this process's writers queue up in Go.
	write *sql.DB
	// read serves single-statement reads. On SQLite it is a separate pool
	// of read-only connections; on PostgreSQL it is write.
	read *sql.DB
}

var _ store.Store = (*DB)(nil)

// Drivers returns the driver names Open accepts, for configuration
// checks and messages.
func Drivers() []string { return []string{"sqlite", "postgres"} }

// Open opens the database and checks that it answers, but does not migrate
// it; see Migrate and OpenAndMigrate.
//
// driver is "sqlite" (modernc.org/sqlite, no cgo) or "postgres" (pgx).
// For SQLite, dsn is a file name or a file: URI; Open adds the connection
// settings the store relies on (WAL, foreign keys, a busy timeout; see
// sqliteWriterParams), so the DSN should not set those. An in-memory SQLite
// database lives as long as its single connection: use a file in
// t.TempDir() in tests. For PostgreSQL, dsn is anything pgx accepts, such
// as "postgres://user:pw@host/db?sslmode=disable", and the pool keeps the
// database/sql defaults.
//
// Open fails if the database cannot be reached, so that a server with a
// wrong DSN stops at startup rather than at its first request.
func Open(ctx context.Context, driver, dsn string) (*DB, error) {
	d, ok := dialects[driver]
	if !ok {
		return nil, fmt.Errorf("sqlstore: unknown driver %q (want one of %s)", driver, strings.Join(Drivers(), ", "))
	}
	if dsn == "" {
		return nil, fmt.Errorf("sqlstore: open %s: empty DSN", driver)
	}
	write, read, err := d.open(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", driver, err)
	}
	db := &DB{d: d, write: write, read: read}
	// The writer goes first: on a new SQLite file it switches the journal
	// to WAL before any reader looks.
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", driver, err)
	}
	return db, nil
}

// OpenAndMigrate opens the database like Open and applies pending
// migrations like Migrate.
func OpenAndMigrate(ctx context.Context, driver, dsn string) (*DB, error) {
	db, err := Open(ctx, driver, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Driver returns the driver name the database was opened with.
func (db *DB) Driver() string { return db.d.name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Close closes the database. Calls in progress may fail.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders on a pool or transaction.
type conn struct {
	q querier
	d *dialect
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.q.ExecContext(ctx, c.d.rebind(query), args...)
	return res, c.d.check(err)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.d.rebind(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.rebind(query), args...)
}

// execOne runs a statement that must touch exactly one row and returns
// store.ErrNotFound if it touched none.
func (c conn) execOne(ctx context.Context, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// execCount runs a statement and returns how many rows it touched.
func (c conn) execCount(ctx context.Context, query string, args ...any) (int, error) {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// reader returns a conn for single-statement reads.
func (db *DB) reader() conn { return conn{db.read, db.d} }

// writer returns a conn for single-statement writes.
func (db *DB) writer() conn { return conn{db.write, db.d} }

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on SQLite), commits
// if fn returns nil and rolls back otherwise. fn must do all its work
// through the conn it is given: on SQLite the writer pool has one
// connection, which the transaction holds.
func (db *DB) inTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn{tx, db.d}); err != nil {
		tx.Rollback()
		return err
	}
	return db.d.check(tx.Commit())
}

// updaterError carries an error returned by an updater function out of
// inTx, so that the Update methods can hand it back unwrapped, as the
// store contract says.
type updaterError struct{ err error }

func (e updaterError) Error() string { return e.err.Error() }

// update is the body of the Update methods: inside one transaction, get
// reads the row (locking it on PostgreSQL), fn changes it, put writes it.
func update[T any](ctx context.Context, db *DB, what, id string,
	get func(conn) (T, error), fn func(T) (T, error), put func(conn, T) error) (T, error) {
	var out T
	err := db.inTx(ctx, func(c conn) error {
		old, err := get(c)
		if err != nil {
			return err
		}
		v, err := fn(old)
		if err != nil {
			return updaterError{err}
		}
		if err := put(c, v); err != nil {
			return err
		}
		out = v
		return nil
	})
	if ue, ok := errors.AsType[updaterError](err); ok {
		return out, ue.err
	}
	if err != nil {
		return out, fmt.Errorf("sqlstore: update %s %q: %w", what, id, err)
	}
	return out, nil
}

// Times are stored as integer milliseconds since the Unix epoch. The zero
// time.Time maps to its own Unix value (-62135596800000) and back to the
// zero time exactly, and SQL comparisons agree with time.Time's.

// millis converts t to the stored form, dropping anything finer than a
// millisecond (rounding down).
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts the stored form back to a time in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// truncTime returns t as it reads back from the database.
func truncTime(t time.Time) time.Time { return fromMillis(millis(t)) }

// placeholders returns "?, ?, …" with n placeholders.
func placeholders(n int) string {
	return strings.Join(slices.Repeat([]string{"?"}, n), ", ")
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, c conn, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}
