package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// The OpenID Provider reads a token on every introspection, userinfo and
// refresh request, and a client on every token request that misses its
// cache. modernc.org/sqlite prepares a statement anew on every
// QueryContext, and for these short reads preparing costs as much as
// running them (measured: over a third of an introspection's CPU). So
// these reads go through prepared statements, which database/sql prepares
// once per connection and reuses. On PostgreSQL, pgx caches prepared
// statements by itself; the *sql.Stmt costs next to nothing there.
//
// The cache is keyed by the read pool and lives as long as the process;
// the few statements of a closed DB stay behind, which only matters to
// tests that open many stores.
var hotStmts sync.Map // hotKey → *sql.Stmt

type hotKey struct {
	pool  *sql.DB
	query string
}

// hotRow runs a single-row read, written with ? placeholders, through a
// cached prepared statement on the read pool, within the query timeout.
// Errors (including a failed prepare) come back from Scan, as with
// conn.queryRow.
func (db *DB) hotRow(ctx context.Context, query string, args ...any) row {
	c := db.reader()
	if c.trace != nil {
		c.trace(query)
	}
	ctx, cancel := c.bound(ctx)
	r := row{ctx: ctx, cancel: cancel, d: db.d}
	q := db.d.rebind(query)
	k := hotKey{db.read, q}
	if s, ok := hotStmts.Load(k); ok {
		r.r = s.(*sql.Stmt).QueryRowContext(ctx, args...)
		return r
	}
	s, err := db.read.PrepareContext(ctx, q)
	if err != nil {
		r.r = db.read.QueryRowContext(ctx, q, args...)
		return r
	}
	if prev, loaded := hotStmts.LoadOrStore(k, s); loaded {
		s.Close()
		s = prev.(*sql.Stmt)
	}
	r.r = s.QueryRowContext(ctx, args...)
	return r
}

// stmtCache keeps a prepared statement per pool and query for the
// statements a store runs outside transactions, on SQLite, where
// modernc.org/sqlite parses every statement anew on every call: a sign-in
// spent about a seventh of its CPU in SQLite's parser (issue 12). The
// queries are the package's own, but some are built from a filter (the
// audit log's listing has thousands of shapes), and each statement holds
// SQLite memory on every connection: so the cache keeps at most
// maxCachedStmts, and a query beyond them runs unprepared, as before the
// cache. The cache lives as long as the DB.
type stmtCache struct {
	m sync.Map     // hotKey → *sql.Stmt
	n atomic.Int64 // entries in m
}

// maxCachedStmts bounds stmtCache: the sign-in, token and session paths
// use a few dozen statements per pool.
const maxCachedStmts = 256

// prepared returns the kept statement for query on c's pool, preparing it
// on first use; nil in a transaction, without a cache, or if it cannot be
// prepared (then the query runs unprepared and reports its own error).
func (c conn) prepared(ctx context.Context, query string) *sql.Stmt {
	pool, ok := c.q.(*sql.DB)
	if c.stmts == nil || !ok {
		return nil
	}
	k := hotKey{pool, query}
	if s, ok := c.stmts.m.Load(k); ok {
		return s.(*sql.Stmt)
	}
	if c.stmts.n.Load() >= maxCachedStmts {
		return nil
	}
	s, err := pool.PrepareContext(ctx, c.d.rebind(query))
	if err != nil {
		return nil
	}
	if prev, loaded := c.stmts.m.LoadOrStore(k, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	c.stmts.n.Add(1)
	return s
}

func (sc *stmtCache) close() {
	sc.m.Range(func(k, s any) bool {
		s.(*sql.Stmt).Close()
		sc.m.Delete(k)
		sc.n.Add(-1)
		return true
	})
}
