package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

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
	// skipLocked ends the SELECT of ClaimMessages so that concurrent
	// claimers (on any node) pass over the rows another claimer holds.
	skipLocked string
	// classify maps a driver error to store.ErrConflict or store.ErrNotFound,
	// or returns nil if it is neither.
	classify func(error) error
	// open opens the connection pools: write runs every transaction and
	// write, read serves single-statement reads. They may be the same pool.
	open func(dsn string) (write, read *sql.DB, err error)
	// locker, if not nil, makes concurrent Migrate calls from several nodes
	// take turns.
	locker func() (lock.SessionLocker, error)
}

var dialects = map[string]*dialect{
	"sqlite": {
		name:     "sqlite",
		goose:    goose.DialectSQLite3,
		classify: classifySQLite,
		open:     openSQLite,
	},
	"postgres": {
		name:       "postgres",
		goose:      goose.DialectPostgres,
		dollar:     true,
		forUpdate:  " FOR UPDATE",
		skipLocked: " FOR UPDATE SKIP LOCKED",
		classify:   classifyPostgres,
		open:       openPostgres,
		locker:     func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() },
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

// check returns err unchanged unless the dialect recognizes it as a
// uniqueness or foreign key violation; those come back wrapping
// store.ErrConflict or store.ErrNotFound, with the driver's text (which
// names the constraint) kept for the operator.
func (d *dialect) check(err error) error {
	if err == nil {
		return nil
	}
	if sentinel := d.classify(err); sentinel != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
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
//   - busy_timeout: wait up to 5 s for another process's lock (the admin
//     CLI next to a running server) instead of failing with SQLITE_BUSY.
//   - foreign_keys: off by default in SQLite, and the schema relies on
//     ON DELETE CASCADE.
//   - journal_mode=WAL: readers do not block the writer or each other.
//   - synchronous=NORMAL: with WAL, a power cut can lose the last commits but
//     never corrupts the database; FULL costs an fsync per commit.
//   - _txlock=immediate: BEGIN IMMEDIATE takes the write lock up front, so a
//     transaction that reads and then writes never fails with SQLITE_BUSY
//     on upgrading its lock, which the busy timeout cannot help with.
const (
	sqliteWriterParams = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	// query_only guards against a write slipping onto a read connection,
	// where it would bypass the single writer.
	sqliteReaderParams = "_pragma=busy_timeout(5000)&_pragma=query_only(1)"
)

// openSQLite opens two pools on the database file: a writer with one
// connection, which serializes every transaction of this process in Go (no
// lock polling, no SQLITE_BUSY), and readers that WAL lets run alongside it.
// An in-memory database exists only inside its one connection, so there
// the writer serves reads too.
func openSQLite(dsn string) (write, read *sql.DB, err error) {
	write, err = sql.Open("sqlite", withParams(dsn, sqliteWriterParams))
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
	read, err = sql.Open("sqlite", withParams(dsn, sqliteReaderParams))
	if err != nil {
		write.Close()
		return nil, nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return write, read, nil
}

func openPostgres(dsn string) (write, read *sql.DB, err error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, nil, err
	}
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
