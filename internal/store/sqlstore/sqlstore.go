package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
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
	// timeout bounds every call: a statement, the wait for a connection,
	// a whole transaction.
	timeout time.Duration
	// trace is Options.Trace.
	trace func(stmt string)
	// stmts holds the prepared statements of single statements on the
	// pools (SQLite only; see conn.prepared).
	stmts *stmtCache
}

// DefaultQueryTimeout bounds a database call when Options.QueryTimeout is
// zero.
const DefaultQueryTimeout = 5 * time.Second

// Options size the connection pool and bound the calls. The zero value
// gives the defaults.
type Options struct {
	// MaxOpenConns caps the open connections: on PostgreSQL all of them,
	// on SQLite the read connections (writes always share one). 0 means
	// DefaultMaxOpenConns.
	MaxOpenConns int
	// MaxIdleConns is how many stay open while idle; 0 (or more than
	// MaxOpenConns) means MaxOpenConns, so a busy server never reconnects.
	MaxIdleConns int
	// ConnMaxIdleTime and ConnMaxLifetime close PostgreSQL connections
	// idle, or open, that long; 0 keeps them. SQLite ignores them.
	ConnMaxIdleTime time.Duration
	ConnMaxLifetime time.Duration
	// QueryTimeout bounds every call the store makes: a statement
	// together with the wait for a free connection, or a whole
	// transaction. A call that runs out fails with an error wrapping
	// store.ErrUnavailable and context.DeadlineExceeded. 0 means
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
	// Trace, when set, is called with every statement as it is sent (as
	// written, with ? placeholders), BEGIN and COMMIT included: one call is
	// one round trip to the database. Tests count a sign-in's statements
	// with it.
	Trace func(stmt string)
}

// DefaultMaxOpenConns is the pool size when Options.MaxOpenConns is zero:
// four per core, since a request mostly waits on the database rather than
// computing, at least 8 and at most 32. (config.DefaultMaxOpenConns
// documents the same number to operators.)
func DefaultMaxOpenConns() int { return min(32, max(8, 4*runtime.GOMAXPROCS(0))) }

func (o Options) withDefaults() Options {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = DefaultMaxOpenConns()
	}
	if o.MaxIdleConns <= 0 || o.MaxIdleConns > o.MaxOpenConns {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	return o
}

var _ store.Store = (*DB)(nil)

// Drivers returns the driver names Open accepts, for configuration
// checks and messages.
func Drivers() []string { return []string{"sqlite", "postgres"} }

// Open opens the database with the default Options; see OpenWith.
func Open(ctx context.Context, driver, dsn string) (*DB, error) {
	return OpenWith(ctx, driver, dsn, Options{})
}

// OpenWith opens the database and checks that it answers, but does not
// migrate it; see Migrate and OpenAndMigrate.
//
// driver is "sqlite" (modernc.org/sqlite, no cgo) or "postgres" (pgx).
// For SQLite, dsn is a file name or a file: URI; Open adds the connection
// settings the store relies on (WAL, foreign keys, a busy timeout; see
// sqliteWriterParams), so the DSN should not set those. An in-memory SQLite
// database lives as long as its single connection: use a file in
// t.TempDir() in tests. For PostgreSQL, dsn is anything pgx accepts, such
// as "postgres://user:pw@host/db?sslmode=disable". opts sizes the pool and
// sets the deadline of every call.
//
// Open fails if the database cannot be reached, so that a server with a
// wrong DSN stops at startup rather than at its first request.
func OpenWith(ctx context.Context, driver, dsn string, opts Options) (*DB, error) {
	d, ok := dialects[driver]
	if !ok {
		return nil, fmt.Errorf("sqlstore: unknown driver %q (want one of %s)", driver, strings.Join(Drivers(), ", "))
	}
	if dsn == "" {
		return nil, fmt.Errorf("sqlstore: open %s: empty DSN", driver)
	}
	opts = opts.withDefaults()
	write, read, err := d.open(dsn, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", driver, err)
	}
	db := &DB{d: d, write: write, read: read, timeout: opts.QueryTimeout, trace: opts.Trace}
	if d.prepare {
		db.stmts = &stmtCache{}
	}
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

// Ping checks that the database answers. Errors wrap
// store.ErrUnavailable.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	for _, pool := range []*sql.DB{db.write, db.read} {
		if err := pool.PingContext(ctx); err != nil {
			if !errors.Is(err, store.ErrUnavailable) {
				err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
		if db.read == db.write {
			break
		}
	}
	return nil
}

// Stats returns the statistics of the pool that runs writes and
// transactions (on PostgreSQL, the only pool).
func (db *DB) Stats() sql.DBStats { return db.write.Stats() }

// Heartbeat proves that the database takes writes: it records at as the
// time of node's last heartbeat, committed, and removes the rows of nodes
// silent for a day. It fails (wrapping store.ErrUnavailable) when the
// database is down, stalled past the query timeout, read-only or full.
func (db *DB) Heartbeat(ctx context.Context, node string, at time.Time) error {
	err := db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO heartbeats (node, beat_at) VALUES (?, ?)
			ON CONFLICT (node) DO UPDATE SET beat_at = excluded.beat_at`, node, millis(at)); err != nil {
			return err
		}
		_, err := c.exec(ctx, "DELETE FROM heartbeats WHERE beat_at < ?", millis(at.Add(-24*time.Hour)))
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrUnavailable) {
			// Whatever stops a one-row upsert stops every sign-in too.
			err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return fmt.Errorf("sqlstore: heartbeat: %w", err)
	}
	return nil
}

// Close closes the database. Calls in progress may fail.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
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

// conn runs queries written with ? placeholders on a pool or transaction,
// each within a deadline, and turns driver errors into the store's
// sentinels (see dialect.fail).
type conn struct {
	q querier
	d *dialect
	// timeout bounds each statement on a pool, including the wait for a
	// connection.
	timeout time.Duration
	// deadline is the end of the transaction the conn belongs to. Each
	// statement carries it: database/sql rolls the transaction back when
	// it passes, but only after the running statement returns.
	deadline time.Time
	// trace is Options.Trace.
	trace func(stmt string)
	// stmts, when set, runs each statement through a prepared statement
	// kept for the pool q (never set in a transaction).
	stmts *stmtCache
}

// unprepared returns c without the statement cache, for a query whose text
// is built from a caller's filter: each shape would be one more kept
// statement (see stmtCache).
func (c conn) unprepared() conn {
	c.stmts = nil
	return c
}

// bound returns ctx with the statement's deadline.
func (c conn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case !c.deadline.IsZero():
		return context.WithDeadline(ctx, c.deadline)
	case c.timeout > 0:
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if c.trace != nil {
		c.trace(query)
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if st := c.prepared(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, c.d.fail(ctx, err)
	}
	res, err := c.q.ExecContext(ctx, c.d.rebind(query), args...)
	return res, c.d.fail(ctx, err)
}

// query runs a query; the caller must Close the rows, which ends their
// deadline.
func (c conn) query(ctx context.Context, query string, args ...any) (*rows, error) {
	if c.trace != nil {
		c.trace(query)
	}
	ctx, cancel := c.bound(ctx)
	var (
		rs  *sql.Rows
		err error
	)
	if st := c.prepared(ctx, query); st != nil {
		rs, err = st.QueryContext(ctx, args...)
	} else {
		rs, err = c.q.QueryContext(ctx, c.d.rebind(query), args...)
	}
	if err != nil {
		cancel()
		return nil, c.d.fail(ctx, err)
	}
	return &rows{Rows: rs, ctx: ctx, cancel: cancel, d: c.d}, nil
}

// queryRow runs a single-row query; its deadline ends with Scan.
func (c conn) queryRow(ctx context.Context, query string, args ...any) row {
	if c.trace != nil {
		c.trace(query)
	}
	ctx, cancel := c.bound(ctx)
	if st := c.prepared(ctx, query); st != nil {
		return row{r: st.QueryRowContext(ctx, args...), ctx: ctx, cancel: cancel, d: c.d}
	}
	return row{r: c.q.QueryRowContext(ctx, c.d.rebind(query), args...), ctx: ctx, cancel: cancel, d: c.d}
}

// rows is *sql.Rows whose errors come back classified and whose Close
// releases the deadline.
type rows struct {
	*sql.Rows
	ctx    context.Context
	cancel context.CancelFunc
	d      *dialect
}

func (r *rows) Err() error { return r.d.fail(r.ctx, r.Rows.Err()) }

func (r *rows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

// row is *sql.Row whose Scan classifies the error and releases the
// deadline. sql.ErrNoRows comes back as it is.
type row struct {
	r      *sql.Row
	ctx    context.Context
	cancel context.CancelFunc
	d      *dialect
}

func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return r.d.fail(r.ctx, r.r.Scan(dest...))
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
func (db *DB) reader() conn {
	return conn{q: db.read, d: db.d, timeout: db.timeout, trace: db.trace, stmts: db.stmts}
}

// writer returns a conn for single-statement writes.
func (db *DB) writer() conn {
	return conn{q: db.write, d: db.d, timeout: db.timeout, trace: db.trace, stmts: db.stmts}
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on SQLite), commits
// if fn returns nil and rolls back otherwise. fn must do all its work
// through the conn it is given: on SQLite the writer pool has one
// connection, which the transaction holds. The whole transaction, from
// the wait for the connection to the commit, gets the query timeout.
func (db *DB) inTx(ctx context.Context, fn func(c conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	if db.trace != nil {
		db.trace("BEGIN")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.d.fail(ctx, err)
	}
	deadline, _ := ctx.Deadline()
	if err := fn(conn{q: tx, d: db.d, deadline: deadline, trace: db.trace}); err != nil {
		if db.trace != nil {
			db.trace("ROLLBACK")
		}
		tx.Rollback()
		if _, ok := err.(updaterError); ok {
			return err
		}
		return db.d.fail(ctx, err)
	}
	if db.trace != nil {
		db.trace("COMMIT")
	}
	return db.d.fail(ctx, tx.Commit())
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
