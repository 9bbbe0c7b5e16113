package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portvakt/portvakt/internal/store"
)

// A dialect holds every difference between SQLite and PostgreSQL that the
// rest of the package has to know about. Queries are written once, in the
// SQL both databases understand, with ? placeholders; nothing else about
// them is rewritten.
type dialect struct {
	// name is the driver name given to Open and the directory of the
	// dialect's migrations.
	name string
	// goose is the dialect goose uses for its version table.
	goose goose.Dialect
	// dollar makes rebind number the placeholders ($1, $2, …), as
	// PostgreSQL wants.
	dollar bool
	// forUpdate ends the SELECT of a read-modify-write so that concurrent
	// writers of the same row queue up instead of overwriting each other.
	// SQLite needs nothing: its write transactions (BEGIN IMMEDIATE) already
	// exclude one another.
	forUpdate string
	// prepare runs the statements made outside a transaction through
	// prepared statements the store keeps (conn.prepared): the driver
	// would prepare them anew on every call.
	prepare bool
	// markActive, if set, is MarkActive in one statement: it takes the
	// account's ID, the sign-in's time and the zero time, and returns the
	// lifecycleColumns before. SQLite has none (its RETURNING sees only the
	// new row), and reads then writes with a compare and set.
	markActive string
	// skipLocked ends the SELECT of ClaimMessages so that concurrent
	// claimers (on any node) pass over the rows another claimer holds.
	skipLocked string
	// classify maps a driver error to store.ErrConflict or store.ErrNotFound,
	// or returns nil if it is neither.
	classify func(error) error
	// unavailable reports whether a driver error means the database cannot
	// serve now (down, unreachable, out of connections or disk, read-only)
	// rather than that the request was wrong.
	unavailable func(error) bool
	// open opens the connection pools, sized by opts: write runs every
	// transaction and write, read serves single-statement reads. They may
	// be the same pool.
	open func(dsn string, opts Options) (write, read *sql.DB, err error)
	// locker, if not nil, makes concurrent Migrate calls from several nodes
	// take turns.
	locker func() (lock.SessionLocker, error)
}

var dialects = map[string]*dialect{
	"sqlite": {
		name:        "sqlite",
		goose:       goose.DialectSQLite3,
		prepare:     true,
		classify:    classifySQLite,
		unavailable: unavailableSQLite,
		open:        openSQLite,
	},
	"postgres": {
		name:      "postgres",
		goose:     goose.DialectPostgres,
		dollar:    true,
		forUpdate: " FOR UPDATE",
		// The CTE locks the row and reads it as it is (after any
		// concurrent update it waited for); the UPDATE writes from it.
		markActive: `WITH b AS (SELECT ` + lifecycleColumns + ` FROM accounts WHERE id = $1 FOR UPDATE)
			UPDATE accounts a SET last_active_at = GREATEST(b.last_active_at, $2), inactivity_warnings = 0,
				inactivity_warned_at = $3, deletion_requested_at = $3, deletion_due_at = $3
			FROM b WHERE a.id = b.id
			RETURNING b.id, b.created_at, b.last_active_at, b.inactivity_warnings, b.inactivity_warned_at,
				b.deletion_requested_at, b.deletion_due_at`,
		skipLocked:  " FOR UPDATE SKIP LOCKED",
		classify:    classifyPostgres,
		unavailable: unavailablePostgres,
		open:        openPostgres,
		locker:      func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() },
	},
}

// rebind returns query with its ? placeholders in the dialect's style. The
// queries of this package use ? only as a placeholder, never inside a
// string literal, an identifier or a comment.
func (d *dialect) rebind(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// fail classifies err, the outcome of a call made with ctx:
//
//   - a uniqueness or foreign key violation wraps store.ErrConflict or
//     store.ErrNotFound, with the driver's text (which names the
//     constraint) kept for the operator;
//   - a call that ran out of time (its own deadline or the caller's), or
//     that the database could not serve, wraps store.ErrUnavailable (and
//     the driver's error);
//   - a call the caller cancelled wraps context.Canceled;
//   - anything else, sql.ErrNoRows included, comes back unchanged.
func (d *dialect) fail(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if sentinel := d.classify(err); sentinel != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	switch ctx.Err() {
	case context.DeadlineExceeded:
		return fmt.Errorf("%w: no answer in time: %w", store.ErrUnavailable, errors.Join(context.DeadlineExceeded, err))
	case context.Canceled:
		if !errors.Is(err, context.Canceled) {
			err = errors.Join(context.Canceled, err)
		}
		return err
	}
	if d.unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func classifySQLite(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	// modernc.org/sqlite turns on extended result codes.
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return nil
}

// unavailableSQLite: the file is locked by another process past the busy
// timeout, read-only, unreadable, on a full disk or failing I/O.
func unavailableSQLite(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_INTERRUPT:
		return true
	}
	return false
}

// unavailablePostgres: the server cannot be reached or dropped the
// connection, is starting or shutting down, is out of connections, memory
// or disk, or is read-only (a standby, or default_transaction_read_only).
func unavailablePostgres(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: too many connections, disk full, out of memory
			return true
		}
		switch pe.Code {
		case "57P01", "57P02", "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		case "25006": // read_only_sql_transaction
			return true
		case "57014": // query_canceled: statement_timeout on the server
			return true
		}
		return false
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

func classifyPostgres(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Code {
	case "23505": // unique_violation
		return store.ErrConflict
	case "23503": // foreign_key_violation
		return store.ErrNotFound
	}
	return nil
}

// SQLite connection settings, applied by modernc.org/sqlite to every new
// connection:
//   - busy_timeout: wait up to the query timeout for another process's
//     lock (the admin CLI next to a running server) instead of failing at
//     once with SQLITE_BUSY. SQLite's busy wait does not notice a
//     cancelled context, so it must end by itself within the deadline.
//   - foreign_keys: off by default in SQLite, and the schema relies on
//     ON DELETE CASCADE.
//   - journal_mode=WAL: readers do not block the writer or each other.
//   - synchronous=NORMAL: with WAL, a power cut can lose the last commits but
//     never corrupts the database; FULL costs an fsync per commit.
//   - _txlock=immediate: BEGIN IMMEDIATE takes the write lock up front, so a
//     transaction that reads and then writes never fails with SQLITE_BUSY
//     on upgrading its lock, which the busy timeout cannot help with.
func sqliteWriterParams(busy time.Duration) string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()) + "&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// sqliteReaderParams adds query_only, which guards against a write
// slipping onto a read connection, where it would bypass the single
// writer.
func sqliteReaderParams(busy time.Duration) string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()) + "&_pragma=query_only(1)"
}

// openSQLite opens two pools on the database file: a writer with one
// connection, which serializes every transaction of this process in Go (no
// lock polling, no SQLITE_BUSY), and readers that WAL lets run alongside it.
// An in-memory database exists only inside its one connection, so there
// the writer serves reads too.
func openSQLite(dsn string, opts Options) (write, read *sql.DB, err error) {
	if err := prepareSQLiteFile(dsn); err != nil {
		return nil, nil, err
	}
	write, err = sql.Open("sqlite", withParams(dsn, sqliteWriterParams(opts.QueryTimeout)))
	if err != nil {
		return nil, nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if isSQLiteMemory(dsn) {
		return write, write, nil
	}
	read, err = sql.Open("sqlite", withParams(dsn, sqliteReaderParams(opts.QueryTimeout)))
	if err != nil {
		write.Close()
		return nil, nil, err
	}
	// Reader connections cost nothing on the server side, and closing one
	// throws its page cache away, so they are kept.
	read.SetMaxOpenConns(opts.MaxOpenConns)
	read.SetMaxIdleConns(opts.MaxIdleConns)
	return write, read, nil
}

// openPostgres opens one pool for reads and writes. Without limits,
// database/sql keeps 2 idle connections and opens any number, so under
// load it connects for almost every request (each a new backend process)
// and, with several nodes, runs into the server's max_connections.
func openPostgres(dsn string, opts Options) (write, read *sql.DB, err error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxIdleTime(opts.ConnMaxIdleTime)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	return db, db, nil
}

// withParams appends query parameters to a SQLite DSN ("file.db",
// "file:file.db?mode=rwc").
func withParams(dsn, params string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + params
	}
	return dsn + "?" + params
}

func isSQLiteMemory(dsn string) bool {
	return strings.HasPrefix(dsn, ":memory:") || strings.HasPrefix(dsn, "file::memory:") ||
		strings.Contains(dsn, "mode=memory")
}
