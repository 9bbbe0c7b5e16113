package sqlstore_test

import (
	"maps"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestReviewLoginCountersMatchNamesExactly: the sign-in lookup of issue 12
// (GetLoginCountingByEmail/ByUsername) reads exactly the counters it is
// named, as FailuresOf does: names and the account prefix are bound
// values, never SQL (quotes, LIKE wildcards and a statement in a name are
// just characters), a name differing in case or one character is another
// counter, the account's counter is the prefix and its whole ID (not an
// account whose ID starts alike), and an address no account has reads no
// account counter, not even one named by the bare prefix.
func TestReviewLoginCountersMatchNamesExactly(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			var db *sqlstore.DB
			if driver == "postgres" {
				db = openAndMigrate(t, driver, pgtest.Shared(t).NewDatabase(t))
			} else {
				db = openSQLite(t)
			}
			ctx := t.Context()
			now := time.Unix(1_700_000_000, 0)
			for _, a := range []store.Account{{ID: "acct-1", Username: "o'brien"}, {ID: "acct-10", Username: "o_brien"}} {
				a.Name, a.CreatedAt, a.UpdatedAt = "O", now, now
				if err := db.CreateAccount(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.AddEmail(ctx, store.Email{Address: "o'brien@example.no", AccountID: "acct-1", Primary: true, VerifiedAt: now, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := db.SetPassword(ctx, store.Password{AccountID: "acct-1", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", ChangedAt: now}); err != nil {
				t.Fatal(err)
			}
			const (
				ident  = "t:login:email:o'brien@example.no"
				drop   = "x'); DROP TABLE counters; --"
				quoted = "t:a'c%:"
			)
			counts := map[string]int{
				ident:                              1,
				"t:login:email:O'BRIEN@example.no": 2,
				"t:login:email:o_brien@example.no": 3,
				drop:                               4,
				"t:acct:acct-1":                    5,
				"t:acct:acct-10":                   6,
				"t:acct:ACCT-1":                    7,
				"t:acct:":                          8,
				quoted + "acct-1":                  9,
				"t:aXcY:acct-1":                    10,
			}
			for name, n := range counts {
				for range n {
					if _, err := db.AddFailures(ctx, now, map[string]time.Duration{name: time.Hour}); err != nil {
						t.Fatal(err)
					}
				}
			}
			state := func(names ...string) map[string]store.CounterState {
				out := map[string]store.CounterState{}
				for _, n := range names {
					out[n] = store.CounterState{Failures: counts[n], Last: now}
				}
				return out
			}
			names := []string{ident, "t:login:email:o%", drop}
			c := store.LoginCounters{Names: names, AccountPrefix: "t:acct:"}
			check := func(what string, gotID string, got map[string]store.CounterState, err error, wantID string, want map[string]store.CounterState) {
				t.Helper()
				if wantID == "" {
					if err == nil {
						t.Errorf("%s: found %q, want not found", what, gotID)
					}
				} else if err != nil || gotID != wantID {
					t.Errorf("%s: %q, %v; want %q", what, gotID, err, wantID)
				}
				if !maps.EqualFunc(got, want, func(a, b store.CounterState) bool { return a.Failures == b.Failures && a.Last.Equal(b.Last) }) {
					t.Errorf("%s: counters %v, want %v", what, got, want)
				}
			}
			a, _, got, err := db.GetLoginCountingByEmail(ctx, "O'Brien@example.no", c)
			check("by address", a.ID, got, err, "acct-1", state(ident, drop, "t:acct:acct-1"))
			a, _, got, err = db.GetLoginCountingByUsername(ctx, "o'brien", c)
			check("by username", a.ID, got, err, "acct-1", state(ident, drop, "t:acct:acct-1"))
			a, _, got, err = db.GetLoginCountingByUsername(ctx, "o_brien", c)
			check("by the other username", a.ID, got, err, "acct-10", state(ident, drop, "t:acct:acct-10"))
			a, _, got, err = db.GetLoginCountingByUsername(ctx, "o%", c)
			check("by a LIKE pattern of a username", a.ID, got, err, "", state(ident, drop))
			a, _, got, err = db.GetLoginCountingByEmail(ctx, "nobody@example.no", c)
			check("unknown address", a.ID, got, err, "", state(ident, drop))
			a, _, got, err = db.GetLoginCountingByEmail(ctx, "o'brien@example.no", store.LoginCounters{AccountPrefix: quoted})
			check("a prefix with a quote and a wildcard", a.ID, got, err, "acct-1", state(quoted+"acct-1"))

			// Nothing ran as SQL: every counter is still there.
			all, err := db.FailuresOf(ctx, slicesOf(counts))
			if err != nil || len(all) != len(counts) {
				t.Errorf("FailuresOf after the lookups: %d counters, %v; want %d", len(all), err, len(counts))
			}
		})
	}
}

func slicesOf(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
