package sqlstore_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestReviewStatementCacheAfterClose: statements kept by the SQLite cache
// do not outlive Close: every call after it fails with an error (no
// panic, no answer from a closed pool), and calls racing Close either
// answer or fail (run with -race).
func TestReviewStatementCacheAfterClose(t *testing.T) {
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	for range 3 {
		if _, _, err := db.ReserveFailure(t.Context(), "k", now, time.Hour, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FailuresOf(t.Context(), []string{"k", "j"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			<-start
			for range 50 {
				db.ReserveFailure(t.Context(), "k", now, time.Hour, 10)
				db.FailuresOf(t.Context(), []string{"k"})
				db.AddFailures(t.Context(), now, map[string]time.Duration{"a": time.Hour, "b": time.Minute})
			}
		})
	}
	close(start)
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if _, _, err := db.ReserveFailure(t.Context(), "k", now, time.Hour, 10); err == nil {
		t.Error("ReserveFailure after Close succeeded")
	}
	if _, err := db.FailuresOf(t.Context(), []string{"k"}); err == nil {
		t.Error("FailuresOf after Close succeeded")
	}
	if _, err := db.GetFlow(t.Context(), "x"); err == nil || err == store.ErrNotFound {
		t.Errorf("GetFlow after Close: %v, want a closed-database error", err)
	}
}

// TestReviewReserveFailureFiftyParallelOneKey: fifty at once against a
// limit of 10 on SQLite's cached statements: exactly ten count.
func TestReviewReserveFailureFiftyParallelOneKey(t *testing.T) {
	db := openSQLite(t)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			_, ok, err := db.ReserveFailure(t.Context(), "factor:totp:x", now.Add(time.Duration(i)*time.Millisecond), 15*time.Minute, 10)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 10 {
		t.Errorf("%d of 50 parallel reservations counted, want 10", won)
	}
}
