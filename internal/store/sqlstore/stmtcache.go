package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// stmtKey names a kept statement: the pool it is prepared on and its
// query as the package writes it (with ? placeholders).
type stmtKey struct {
	pool  *sql.DB
	query string
}

// stmtCache keeps a prepared statement per pool and query for the
// statements a store runs outside transactions, on SQLite, where
// modernc.org/sqlite parses every statement anew on every call: a sign-in
// spent about a seventh of its CPU in SQLite's parser (issue 12), and for
// the OpenID Provider's short reads (a token on every introspection,
// userinfo and refresh, a client on every token request that misses its
// cache) preparing cost as much as running them. On PostgreSQL pgx caches
// prepared statements by itself. The
// queries are the package's own, but some are built from a filter (the
// audit log's listing has thousands of shapes), and each statement holds
// SQLite memory on every connection: so the cache keeps at most
// maxCachedStmts, and a query beyond them runs unprepared, as before the
// cache. The cache lives as long as the DB.
type stmtCache struct {
	m sync.Map     // stmtKey → *sql.Stmt
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
	k := stmtKey{pool, query}
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
