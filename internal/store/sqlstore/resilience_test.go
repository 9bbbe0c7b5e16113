package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// backends runs fn once on a fresh SQLite file and once on a fresh
// PostgreSQL database, each opened (and migrated) with opts.
func backends(t *testing.T, opts sqlstore.Options, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openWith(t, "sqlite", filepath.Join(t.TempDir(), "p.db"), opts))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, openWith(t, "postgres", pgtest.Shared(t).NewDatabase(t), opts))
	})
}

func openWith(t *testing.T, driver, dsn string, opts sqlstore.Options) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenWith(t.Context(), driver, dsn, opts)
	if err != nil {
		t.Fatalf("OpenWith(%s): %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate(%s): %v", driver, err)
	}
	return db
}

func TestPoolOptionsAreApplied(t *testing.T) {
	opts := sqlstore.Options{MaxOpenConns: 3, MaxIdleConns: 2, ConnMaxIdleTime: time.Minute, ConnMaxLifetime: time.Hour}
	t.Run("postgres", func(t *testing.T) {
		db := openWith(t, "postgres", pgtest.Shared(t).NewDatabase(t), opts)
		if got := db.Stats().MaxOpenConnections; got != 3 {
			t.Errorf("MaxOpenConnections = %d, want 3", got)
		}
		release, err := db.HoldConns(t.Context(), 3)
		if err != nil {
			t.Fatal(err)
		}
		release()
		if st := db.Stats(); st.Idle != 2 || st.MaxIdleClosed != 1 {
			t.Errorf("after 3 connections came back: idle %d, closed for the idle limit %d; want 2 and 1", st.Idle, st.MaxIdleClosed)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		db := openWith(t, "sqlite", filepath.Join(t.TempDir(), "p.db"), opts)
		// One writer, always: SQLite takes one write at a time, and
		// queuing writers in Go beats polling the file lock.
		if got := db.Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer MaxOpenConnections = %d, want 1", got)
		}
		if got := db.ReadStats().MaxOpenConnections; got != 3 {
			t.Errorf("reader MaxOpenConnections = %d, want 3", got)
		}
	})
}

// TestDefaultPoolDoesNotReconnectUnderLoad is the finding of issue 12: with
// database/sql's default of two idle connections, eight concurrent clients
// made PostgreSQL start a backend for almost every request.
func TestDefaultPoolDoesNotReconnectUnderLoad(t *testing.T) {
	db := openWith(t, "postgres", pgtest.Shared(t).NewDatabase(t), sqlstore.Options{})
	if err := db.CreateAccount(t.Context(), store.Account{ID: "acct-1", Name: "Kari"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := db.GetAccount(t.Context(), "acct-1"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("GetAccount: %v", err)
	}
	st := db.Stats()
	if st.MaxIdleClosed != 0 {
		t.Errorf("%d connections were closed for want of idle room, want 0 (stats %+v)", st.MaxIdleClosed, st)
	}
	if st.OpenConnections > sqlstore.DefaultMaxOpenConns() {
		t.Errorf("%d connections open, want at most %d", st.OpenConnections, sqlstore.DefaultMaxOpenConns())
	}
}

// wantUnavailable checks that err is the store's "try again later" and
// came from the deadline.
func wantUnavailable(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s = %v, want store.ErrUnavailable from the deadline", call, err)
	}
}

// timed runs fn and checks that it returned no sooner than the deadline
// and within a bound generous enough for a loaded machine (the point is
// that it returns at all, rather than hanging).
func timed(t *testing.T, deadline time.Duration, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	took := time.Since(start)
	if took < deadline {
		t.Errorf("returned after %s, before its %s deadline: the failure was not the deadline's", took, deadline)
	}
	if bound := deadline + 20*time.Second; took > bound {
		t.Errorf("returned after %s, want the %s deadline to end it", took, deadline)
	}
}

func TestExhaustedPoolIsUnavailableAfterTheQueryTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	backends(t, sqlstore.Options{MaxOpenConns: 2, QueryTimeout: timeout}, func(t *testing.T, db *sqlstore.DB) {
		n := db.Stats().MaxOpenConnections
		release, err := db.HoldConns(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		msg := store.Message{ID: "msg-1", Channel: store.ChannelEmail, To: "kari@example.no", Text: "x", CreatedAt: time.Now()}
		timed(t, timeout, func() {
			wantUnavailable(t, "EnqueueMessage with every connection taken", db.EnqueueMessage(t.Context(), msg))
		})
		timed(t, timeout, func() {
			_, err := db.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) { return a, nil })
			wantUnavailable(t, "UpdateAccount (a transaction) with every connection taken", err)
		})
		release()
		if err := db.EnqueueMessage(t.Context(), msg); err != nil {
			t.Errorf("EnqueueMessage once the connections came back = %v, want nil", err)
		}
	})
}

func TestCallerCancellationIsNotUnavailability(t *testing.T) {
	backends(t, sqlstore.Options{}, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := db.GetAccount(ctx, "acct-1")
		if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("GetAccount(cancelled) = %v, want context.Canceled and not ErrUnavailable", err)
		}
	})
}

// TestStalledPostgresIsUnavailable: a statement stuck behind a lock (as
// behind a stalled server) gives up at the query timeout, and the same
// store serves again once the lock is gone.
func TestStalledPostgresIsUnavailable(t *testing.T) {
	const timeout = 300 * time.Millisecond
	dsn := pgtest.Shared(t).NewDatabase(t)
	db := openWith(t, "postgres", dsn, sqlstore.Options{QueryTimeout: timeout})
	if err := db.CreateAccount(t.Context(), store.Account{ID: "acct-1", Name: "Kari"}); err != nil {
		t.Fatal(err)
	}
	locker, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	tx, err := locker.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	timed(t, timeout, func() {
		_, err := db.GetAccount(t.Context(), "acct-1")
		wantUnavailable(t, "GetAccount behind a lock", err)
	})
	timed(t, timeout, func() {
		_, err := db.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) { return a, nil })
		wantUnavailable(t, "UpdateAccount behind a lock", err)
	})
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if a, err := db.GetAccount(t.Context(), "acct-1"); err != nil || a.Name != "Kari" {
		t.Errorf("GetAccount after the lock = %+v, %v; want Kari", a, err)
	}
}

func TestHeartbeat(t *testing.T) {
	backends(t, sqlstore.Options{}, func(t *testing.T, db *sqlstore.DB) {
		now := time.Now()
		for i := range 3 {
			if err := db.Heartbeat(t.Context(), "node-a", now.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatalf("Heartbeat #%d = %v", i+1, err)
			}
		}
		if err := db.Heartbeat(t.Context(), "node-b", now.Add(48*time.Hour)); err != nil {
			t.Fatalf("Heartbeat(node-b) = %v", err)
		}
	})
}

// TestHeartbeatFailsOnAReadOnlyDatabase: a database that answers reads
// but refuses writes must fail the readiness check.
func TestHeartbeatFailsOnAReadOnlyDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "p.db")
		openWith(t, "sqlite", path, sqlstore.Options{}).Close()
		// mode=ro is what SQLite falls back to when the file is not
		// writable for the process (chmod does not stop root, who runs CI).
		db, err := sqlstore.Open(t.Context(), "sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatalf("Open(read-only) = %v", err)
		}
		defer db.Close()
		if err := db.Ping(t.Context()); err != nil {
			t.Fatalf("Ping(read-only) = %v, want nil: the database answers", err)
		}
		if err := db.Heartbeat(t.Context(), "node-a", time.Now()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Heartbeat(read-only) = %v, want store.ErrUnavailable", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Shared(t).NewDatabase(t)
		openWith(t, "postgres", dsn, sqlstore.Options{}).Close()
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.ExecContext(t.Context(), fmt.Sprintf("ALTER DATABASE %q SET default_transaction_read_only = on", name)); err != nil {
			t.Fatal(err)
		}
		// Only new connections see the setting.
		db := openExisting(t, dsn)
		if err := db.Ping(t.Context()); err != nil {
			t.Fatalf("Ping(read-only) = %v, want nil", err)
		}
		if err := db.Heartbeat(t.Context(), "node-a", time.Now()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Heartbeat(read-only) = %v, want store.ErrUnavailable", err)
		}
	})
}

// openExisting opens a database that is already migrated.
func openExisting(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestLockedSQLiteIsUnavailableAfterTheQueryTimeout: another process (the
// admin CLI, a backup) holding the write lock makes writes wait for the
// query timeout, not SQLite's own, and then fail as unavailable; reads go
// on meanwhile (WAL).
func TestLockedSQLiteIsUnavailableAfterTheQueryTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "p.db")
	db := openWith(t, "sqlite", path, sqlstore.Options{QueryTimeout: timeout})
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	msg := store.Message{ID: "msg-1", Channel: store.ChannelEmail, To: "kari@example.no", Text: "x", CreatedAt: time.Now()}
	timed(t, timeout, func() {
		err := db.EnqueueMessage(t.Context(), msg)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("EnqueueMessage while another connection holds the lock = %v, want store.ErrUnavailable", err)
		}
	})
	if _, err := db.GetAccount(t.Context(), "acct-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount while another connection holds the write lock = %v, want ErrNotFound (reads go on)", err)
	}
	if _, err := other.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueMessage(t.Context(), msg); err != nil {
		t.Errorf("EnqueueMessage after the lock = %v, want nil", err)
	}
}
