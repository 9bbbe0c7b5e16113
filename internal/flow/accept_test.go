package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// duringHash is a store that counts failures right after the sign-in's
// lookup, which also reads the counters for the check before the hash:
// as if wrong passwords were counted, here or on another node, while the
// right one was being hashed.
type duringHash struct {
	flow.Store
	db       store.Counters
	now      func() time.Time
	failures map[string]int // counter name → failures to count
}

func (d duringHash) GetLoginCountingByEmail(ctx context.Context, address string, c store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
	a, p, cs, err := d.Store.GetLoginCountingByEmail(ctx, address, c)
	for name, n := range d.failures {
		for range n {
			if _, ferr := d.db.AddFailures(ctx, d.now(), map[string]time.Duration{name: 24 * time.Hour}); ferr != nil {
				return a, p, cs, ferr
			}
		}
	}
	return a, p, cs, err
}

// The check before the hash rides on the lookup (one round trip less,
// issue 12), so a right password is accepted only after the counters are
// read again: failures counted during its hash still refuse it when they
// reach a limit, and are cleared with the others (the identifier's and the
// account's) when they do not, as when the check read apart.
func TestRightPasswordSeesFailuresCountedDuringItsHash(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "during@example.no")
		ident := throttle.Rule{Name: "login"}.Prefix() + "email:during@example.no"
		ip := throttle.DefaultRules().IP.Prefix() + browserA.IP
		count := func(name string) int {
			t.Helper()
			n, _, err := e.db.Failures(t.Context(), name, e.clock.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		signIn := func(failures map[string]int) error {
			svc := *e.svc
			svc.Store = duringHash{Store: e.db, db: e.db, now: e.clock.Now, failures: failures}
			f, err := svc.StartLogin(t.Context(), browserA, "during@example.no", false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
			return err
		}

		// Below the limits: signed in; the identifier's failure is cleared,
		// the address's kept.
		if err := signIn(map[string]int{ident: 1, ip: 1}); err != nil {
			t.Fatalf("sign-in with one failure counted during the hash: %v", err)
		}
		if n, m := count(ident), count(ip); n != 0 || m != 1 {
			t.Errorf("after it: identifier %d, address %d failures; want 0 and 1", n, m)
		}

		// The tenth failure on the identifier (Config.LoginFailures)
		// counted during the hash: refused, and nothing cleared.
		err := signIn(map[string]int{ident: 10})
		wantProblem(t, err, "login.throttled")
		if n := count(ident); n != 10 {
			t.Errorf("identifier after the refusal: %d failures, want 10", n)
		}
	})
}
