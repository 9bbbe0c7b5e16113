package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York even where the system has no zoneinfo

	"github.com/portvakt/portvakt/internal/store"
)

// T0 is the suite's fixed "now": every time in the suite is T0 plus or
// minus something.
var T0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// subtest is one named check run on a fresh store.
type subtest struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the conformance suite as subtests of t. newStore must return a
// new, empty store ready for use (migrated, for SQL backends) and arrange
// with t.Cleanup for it to be closed; it is called once per subtest with
// that subtest's t.
//
// The subtests run one after another. Some start goroutines that call the
// store concurrently, so the store must be safe for concurrent use.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	var all []subtest
	all = append(all, accountTests...)
	all = append(all, sessionTests...)
	all = append(all, timeTests...)
	all = append(all, outboxTests...)
	all = append(all, leaseTests...)
	all = append(all, housekeepingTests...)
	all = append(all, emailTests...)
	all = append(all, passwordTests...)
	all = append(all, flowTests...)
	all = append(all, counterTests...)
	all = append(all, registerTests...)
	all = append(all, registerFromFlowTests...)
	all = append(all, factorTests...)
	all = append(all, recoveryCodeTests...)
	all = append(all, trustedBrowserTests...)
	all = append(all, secondFactorTests...)
	all = append(all, webAuthnTests...)
	all = append(all, oidcTests...)
	all = append(all, identityTests...)
	all = append(all, delegationTests...)
	all = append(all, securityTests...)
	all = append(all, auditTests...)
	all = append(all, systemTests...)
	all = append(all, deviceTests...)
	all = append(all, lifecycleTests...)
	for _, st := range all {
		t.Run(st.name, func(t *testing.T) {
			st.run(t, newStore(t))
		})
	}
}

// errBoom is what failing updaters return.
var errBoom = errors.New("storetest: updater failed on purpose")

// wantErr fails the test unless errors.Is(err, want).
func wantErr(tb testing.TB, call string, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Errorf("%s: err = %v, want %v", call, err, want)
	}
}

// must stops the test if err is not nil.
func must(tb testing.TB, call string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: err = %v, want nil", call, err)
	}
}

// wantEqual fails the test unless got and want are deeply equal.
func wantEqual[T any](tb testing.TB, call string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s\n got: %+v\nwant: %+v", call, got, want)
	}
}

// ids returns the IDs of accounts, sessions or messages, in order.
func ids[T any](list []T, id func(T) string) []string {
	out := []string{}
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}
