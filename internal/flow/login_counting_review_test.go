package flow_test

import (
	"strings"
	"testing"

	acctpkg "github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// Review of issue 12's one-statement sign-in lookup (GetLoginCountingBy…,
// throttle.Decide): the counters read with the account are the ones the
// separate read gave, on both databases.

// TestReviewLockedAccountIsSeenInTheLookup: wrong passwords by username
// and by address count on one account counter, and once it is locked the
// lookup's own counter read sees it before the hash: the right password,
// by either identifier, is answered as a wrong one after a dummy hash, as
// an unknown address is.
func TestReviewLockedAccountIsSeenInTheLookup(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		rules := throttle.DefaultRules()
		rules.Account.Limit = 3
		e.svc.Rules = &rules
		if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "kari", Name: "Kari", Email: "kari@example.no", Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		const wrong = "wrong horse battery staple"
		wantProblem(t, e.loginEmail(t, "kari@example.no", wrong), "login.wrong_credentials")
		_, err := e.svc.LoginUsername(t.Context(), browserA, "kari", wrong)
		wantProblem(t, err, "login.wrong_credentials")
		wantProblem(t, e.loginEmail(t, "KARI@example.no", wrong), "login.wrong_credentials") // the third: locked

		for _, c := range []struct {
			name  string
			login func() error
		}{
			{"right password by address", func() error { return e.loginEmail(t, "kari@example.no", goodPassword) }},
			{"right password by username", func() error {
				_, err := e.svc.LoginUsername(t.Context(), browserA, "kari", goodPassword)
				return err
			}},
			{"unknown address", func() error { return e.loginEmail(t, "nobody@example.no", goodPassword) }},
		} {
			before := e.svc.Hasher.Stats()
			wantProblem(t, c.login(), "login.wrong_credentials")
			after := e.svc.Hasher.Stats()
			if v, d := after.Verifications-before.Verifications, after.Dummies-before.Dummies; v != 1 || d != 1 {
				t.Errorf("%s on a locked account: %d verifications, %d dummies; want one dummy (the lock seen before the hash)", c.name, v, d)
			}
		}
		if locked, err := e.svc.AccountLocked(t.Context(), accountOf(t, e, "kari@example.no")); err != nil || !locked {
			t.Errorf("AccountLocked = %v, %v; want true", locked, err)
		}
	})
}

// TestReviewAddressVariantsShareOneIdentifierBudget: case, Unicode and
// IDNA variants of one address find one account and count on one
// identifier counter, so that typing the address differently buys no more
// guesses; the right password after ten wrong ones in variants waits.
func TestReviewAddressVariantsShareOneIdentifierBudget(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "Kari.Nordmann@xn--blbr-roah.no") // blåbær.no
		variants := []string{
			"kari.nordmann@blåbær.no",
			"KARI.NORDMANN@BLÅBÆR.NO",
			"kari.nordmann@BLA\u030aBÆR.no",
			"Kari.Nordmann@xn--blbr-roah.no",
			"KARI.NORDMANN@ｂｌåｂæｒ.no",
		}
		want := ""
		for _, v := range variants {
			addr, err := acctpkg.ParseEmail("email", v)
			if err != nil {
				t.Fatal(err)
			}
			if k := acctpkg.EmailKey(addr); want == "" {
				want = k
			} else if k != want {
				t.Fatalf("EmailKey(%q) = %q, want %q (the test's variants are one address)", v, k, want)
			}
		}
		for i := range 10 {
			wantProblem(t, e.loginEmail(t, variants[i%len(variants)], "not the password at all"), "login.wrong_credentials")
		}
		for _, v := range variants {
			wantProblem(t, e.loginEmail(t, v, goodPassword), "login.throttled")
		}
	})
}

// TestReviewSignInRoundTripsTellNoAccount: a wrong password for an
// account, an address no account has, and an account without a password
// each send the same number of statements (the lookup with its counters,
// then the failure), and the last two write the same counters: nothing on
// an account.
func TestReviewSignInRoundTripsTellNoAccount(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			log := &stmtLog{}
			e, _ := newTracedEnv(t, driver, fastHasher(t), log)
			if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Email: "kari@example.no", Name: "Kari", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Email: "nopass@example.no", Name: "Per"}); err != nil {
				t.Fatal(err)
			}
			nopass := accountOf(t, e, "nopass@example.no")
			counts := map[string]int{}
			for _, addr := range []string{"kari@example.no", "nobody@example.no", "nopass@example.no"} {
				f := mustStartLogin(t, e, browserB, addr)
				stmts := log.during(func() {
					_, err := e.svc.LoginPassword(t.Context(), browserB, f, "not the password at all")
					wantProblem(t, err, "login.wrong_credentials")
				})
				counts[addr] = len(stmts)
				if len(stmts) < 2 || !strings.Contains(stmts[1], "LEFT JOIN counters") {
					t.Errorf("%s: the statement after the flow's is not the lookup with its counters: %q", addr, stmts)
				}
			}
			if counts["nobody@example.no"] != counts["kari@example.no"] || counts["nopass@example.no"] != counts["kari@example.no"] {
				t.Errorf("statements of a wrong password: %v; want one number", counts)
			}
			got, err := e.db.FailuresOf(t.Context(), []string{throttle.DefaultRules().Account.Prefix() + nopass})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("a wrong password for an account without one counted on the account: %v", got)
			}
		})
	}
}

// accountOf returns the ID of the account that has address.
func accountOf(t *testing.T, e *env, address string) string {
	t.Helper()
	a, _, _, err := e.db.GetLoginCountingByEmail(t.Context(), address, store.LoginCounters{})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
