// Tests from the issue 12 review: failures counted and counters reset in
// parallel on the same keys never deadlock.

package sqlstore_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestReviewCountersMixedParallel: what a guessing storm does to the
// counters on both databases at once: multi-key AddFailures over shared
// keys (as throttle.Failed), ReserveFailure, FailuresOf and ResetFailures
// of overlapping keys (as throttle.Accept), fifty goroutines. None may
// fail (a deadlock between the multi-row upsert and the multi-row delete
// would be an error on PostgreSQL), and the reservations stay capped.
func TestCounters_CountersMixedParallel(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			var db *sqlstore.DB
			if driver == "sqlite" {
				db = openAndMigrate(t, "sqlite", filepath.Join(t.TempDir(), "p.db"))
			} else {
				db = openAndMigrate(t, "postgres", pgtest.Shared(t).NewDatabase(t))
			}
			now := time.Unix(1_700_000_000, 0)
			keys := []string{"t:global:all", "t:ip:192.0.2.1", "t:net:192.0.2.0/24", "t:login:email:a", "t:acct:A", "t:login:email:b", "t:acct:B"}
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				errs     []error
				reserved int
			)
			start := make(chan struct{})
			for i := range 50 {
				wg.Go(func() {
					<-start
					var err error
					for j := range 10 {
						switch (i + j) % 4 {
						case 0:
							w := map[string]time.Duration{}
							for k := range 5 {
								w[keys[(i+j+k)%len(keys)]] = time.Hour
							}
							_, err = db.AddFailures(t.Context(), now, w)
						case 1:
							err = db.ResetFailures(t.Context(), keys[(i+j)%len(keys)], keys[(i+j+3)%len(keys)], keys[(i+j+5)%len(keys)])
						case 2:
							_, err = db.FailuresOf(t.Context(), keys)
						case 3:
							var ok bool
							_, ok, err = db.ReserveFailure(t.Context(), "factor:totp:F", now, time.Hour, 10)
							if ok {
								mu.Lock()
								reserved++
								mu.Unlock()
							}
						}
						if err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
					}
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Errorf("%d calls failed: %v", len(errs), err)
			}
			if reserved != 10 {
				t.Errorf("%d reservations counted, want 10", reserved)
			}
		})
	}
}

// TestReviewAcceptAndFailedDeadlock: the exact statements of a sign-in
// storm on one account on PostgreSQL: throttle.Accept's DELETE of the
// identifier and account counters (a right password) against
// throttle.Failed's upsert of the account, global, address, identifier
// and network counters (wrong passwords), in parallel.
func TestCounters_AcceptAndFailedDeadlock(t *testing.T) {
	db := openAndMigrate(t, "postgres", pgtest.Shared(t).NewDatabase(t))
	now := time.Unix(1_700_000_000, 0)
	ident, acct := "t:login:email:kari@example.no", "t:acct:01ACCOUNT"
	fail := map[string]time.Duration{acct: time.Hour, "t:global:all": time.Hour, "t:ip:192.0.2.1": time.Hour, ident: time.Hour, "t:net:192.0.2.0/24": time.Hour}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for round := range 20 {
		start := make(chan struct{})
		for i := range 24 {
			wg.Go(func() {
				<-start
				var err error
				if (i+round)%3 == 0 {
					err = db.ResetFailures(t.Context(), ident, acct) // Accept's order
				} else {
					_, err = db.AddFailures(t.Context(), now, fail)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
	}
	if len(errs) > 0 {
		t.Errorf("%d of 480 calls failed: %v", len(errs), errors.Join(errs...))
	}
}
