package storetest

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newPassword returns a password of the account with two earlier hashes.
func newPassword(accountID string) store.Password {
	return store.Password{
		AccountID: accountID,
		Hash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDM$aGFzaDM",
		History: []string{
			"$argon2id$v=19$m=65536,t=3,p=4$c2FsdDI$aGFzaDI",
			"$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		},
		ChangedAt: T0.Add(-24 * time.Hour),
	}
}

// loginByEmail and loginByUsername are the sign-in's lookups without
// counters.
func loginByEmail(t *testing.T, s store.Store, address string) (store.Account, store.Password, error) {
	a, p, _, err := s.GetLoginCountingByEmail(t.Context(), address, store.LoginCounters{})
	return a, p, err
}

func loginByUsername(t *testing.T, s store.Store, username string) (store.Account, store.Password, error) {
	a, p, _, err := s.GetLoginCountingByUsername(t.Context(), username, store.LoginCounters{})
	return a, p, err
}

func mustSetPassword(tb testing.TB, s store.Store, p store.Password) store.Password {
	tb.Helper()
	must(tb, "SetPassword("+p.AccountID+")", s.SetPassword(tb.Context(), p))
	return p
}

var passwordTests = []subtest{
	{"a set password reads back with its history in order", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustSetPassword(t, s, newPassword("acct-1"))
		got, err := s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1")`, got, want)
	}},
	{"a password without history reads back with an empty history", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		for _, history := range [][]string{nil, {}} {
			p := newPassword("acct-1")
			p.History = history
			mustSetPassword(t, s, p)
			got, err := s.GetPassword(t.Context(), "acct-1")
			must(t, `GetPassword("acct-1")`, err)
			if len(got.History) != 0 {
				t.Errorf(`GetPassword("acct-1").History = %q after setting %#v, want empty`, got.History, history)
			}
		}
	}},
	{"setting a password replaces the old one", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustSetPassword(t, s, newPassword("acct-1"))
		other := mustSetPassword(t, s, newPassword("acct-2"))
		want := store.Password{AccountID: "acct-1", Hash: "$argon2id$new", History: []string{"$argon2id$old"}, ChangedAt: T0}
		mustSetPassword(t, s, want)
		got, err := s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1") after the second SetPassword`, got, want)
		got, err = s.GetPassword(t.Context(), "acct-2")
		must(t, `GetPassword("acct-2")`, err)
		wantEqual(t, `GetPassword("acct-2") of another account`, got, other)
	}},
	{"a sign-in reads the account of an address or username and its password at once", func(t *testing.T, s store.Store) {
		kari := newAccount("acct-1", "kari")
		kari.Groups = []string{"staff", "admins"}
		mustCreateAccount(t, s, kari)
		mustCreateAccount(t, s, newAccount("acct-2", "ola"))
		mustAddEmail(t, s, newEmail("Kari@example.no", "acct-1", true, T0))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", true, T0))
		pw := mustSetPassword(t, s, newPassword("acct-1"))
		pw.History = nil // a sign-in does not read it
		for _, c := range []struct {
			call string
			get  func() (store.Account, store.Password, error)
		}{
			{`GetLoginCountingByEmail("kARI@EXAMPLE.NO")`, func() (store.Account, store.Password, error) {
				return loginByEmail(t, s, "kARI@EXAMPLE.NO")
			}},
			{`GetLoginCountingByUsername("kari")`, func() (store.Account, store.Password, error) {
				return loginByUsername(t, s, "kari")
			}},
		} {
			a, p, err := c.get()
			must(t, c.call, err)
			wantEqual(t, c.call+" account", a, kari)
			wantEqual(t, c.call+" password", p, pw)
		}
		// An account without a password comes with none.
		a, p, err := loginByEmail(t, s, "ola@example.no")
		must(t, `GetLoginCountingByEmail("ola@example.no")`, err)
		wantEqual(t, `GetLoginCountingByEmail("ola@example.no")`, []any{a.ID, p}, []any{"acct-2", store.Password{}})
		a, p, err = loginByUsername(t, s, "ola")
		must(t, `GetLoginCountingByUsername("ola")`, err)
		wantEqual(t, `GetLoginCountingByUsername("ola")`, []any{a.ID, p}, []any{"acct-2", store.Password{}})
		_, _, err = loginByEmail(t, s, "nobody@example.no")
		wantErr(t, `GetLoginCountingByEmail("nobody@example.no")`, err, store.ErrNotFound)
		_, _, err = loginByUsername(t, s, "nobody")
		wantErr(t, `GetLoginCountingByUsername("nobody")`, err, store.ErrNotFound)
		_, _, err = loginByUsername(t, s, "")
		wantErr(t, `GetLoginCountingByUsername("")`, err, store.ErrNotFound)
	}},
	{"a sign-in reads the counters it checks with the account", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		mustCreateAccount(t, s, newAccount("acct-2", "ola"))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", true, T0))
		pw := mustSetPassword(t, s, newPassword("acct-1"))
		pw.History = nil
		_, err := s.AddFailures(t.Context(), T0, map[string]time.Duration{"t:ip:1": time.Hour, "t:acct:acct-1": time.Hour, "t:acct:acct-2": time.Hour})
		must(t, "AddFailures", err)
		_, err = s.AddFailures(t.Context(), T0.Add(time.Second), map[string]time.Duration{"t:acct:acct-1": time.Hour})
		must(t, "AddFailures", err)
		c := store.LoginCounters{Names: []string{"t:ip:1", "t:net:1"}, AccountPrefix: "t:acct:"}
		want := map[string]store.CounterState{
			"t:ip:1":        {Failures: 1, Last: T0},
			"t:acct:acct-1": {Failures: 2, Last: T0.Add(time.Second)},
		}
		for _, call := range []struct {
			name string
			get  func() (store.Account, store.Password, map[string]store.CounterState, error)
		}{
			{`GetLoginCountingByEmail("KARI@example.no")`, func() (store.Account, store.Password, map[string]store.CounterState, error) {
				return s.GetLoginCountingByEmail(t.Context(), "KARI@example.no", c)
			}},
			{`GetLoginCountingByUsername("kari")`, func() (store.Account, store.Password, map[string]store.CounterState, error) {
				return s.GetLoginCountingByUsername(t.Context(), "kari", c)
			}},
		} {
			a, p, got, err := call.get()
			must(t, call.name, err)
			wantEqual(t, call.name+" account and password", []any{a.ID, p}, []any{"acct-1", pw})
			wantEqual(t, call.name+" counters", got, want)
		}
		// No counter at all: an empty map, and still the account.
		a, _, got, err := s.GetLoginCountingByEmail(t.Context(), "kari@example.no", store.LoginCounters{Names: []string{"t:none"}, AccountPrefix: "t:nothing:"})
		must(t, "GetLoginCountingByEmail without counters", err)
		wantEqual(t, "GetLoginCountingByEmail without counters", []any{a.ID, len(got)}, []any{"acct-1", 0})
		// Only the account's own counter, of an account without a password.
		a, p, got, err := s.GetLoginCountingByUsername(t.Context(), "ola", store.LoginCounters{AccountPrefix: "t:acct:"})
		must(t, `GetLoginCountingByUsername("ola")`, err)
		wantEqual(t, `GetLoginCountingByUsername("ola")`, []any{a.ID, p, got}, []any{"acct-2", store.Password{}, map[string]store.CounterState{"t:acct:acct-2": {Failures: 1, Last: T0}}})
		// Unknown: not found, and the counters all the same (but an
		// account's, as there is none), so that an unknown account costs
		// the one statement a known one does.
		unknown := map[string]store.CounterState{"t:ip:1": {Failures: 1, Last: T0}}
		a, _, got, err = s.GetLoginCountingByEmail(t.Context(), "nobody@example.no", c)
		wantErr(t, `GetLoginCountingByEmail("nobody@example.no")`, err, store.ErrNotFound)
		wantEqual(t, `GetLoginCountingByEmail("nobody@example.no") account and counters`, []any{a.ID, got}, []any{"", unknown})
		a, _, got, err = s.GetLoginCountingByUsername(t.Context(), "nobody", c)
		wantErr(t, `GetLoginCountingByUsername("nobody")`, err, store.ErrNotFound)
		wantEqual(t, `GetLoginCountingByUsername("nobody") account and counters`, []any{a.ID, got}, []any{"", unknown})
		_, _, got, err = s.GetLoginCountingByUsername(t.Context(), "nobody", store.LoginCounters{AccountPrefix: "t:acct:"})
		wantErr(t, `GetLoginCountingByUsername("nobody") with the account's counter only`, err, store.ErrNotFound)
		wantEqual(t, `GetLoginCountingByUsername("nobody") with the account's counter only`, len(got), 0)
	}},
	{"a missing password is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		_, err := s.GetPassword(t.Context(), "acct-1")
		wantErr(t, `GetPassword("acct-1") of an account without one`, err, store.ErrNotFound)
		_, err = s.GetPassword(t.Context(), "nobody")
		wantErr(t, `GetPassword("nobody")`, err, store.ErrNotFound)
		_, err = s.UpdatePassword(t.Context(), "acct-1", func(p store.Password) (store.Password, error) {
			t.Errorf(`UpdatePassword("acct-1") called the updater with %+v`, p)
			return p, nil
		})
		wantErr(t, `UpdatePassword("acct-1") of an account without one`, err, store.ErrNotFound)
	}},
	{"a password for an unknown account is not found", func(t *testing.T, s store.Store) {
		err := s.SetPassword(t.Context(), newPassword("nobody"))
		wantErr(t, `SetPassword("nobody")`, err, store.ErrNotFound)
		_, err = s.GetPassword(t.Context(), "nobody")
		wantErr(t, `GetPassword("nobody") after the failed set`, err, store.ErrNotFound)
	}},
	{"a password update writes what the updater returns", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		old := mustSetPassword(t, s, newPassword("acct-1"))
		var seen store.Password
		got, err := s.UpdatePassword(t.Context(), "acct-1", func(p store.Password) (store.Password, error) {
			seen = p
			p.History = append([]string{p.Hash}, p.History...)
			p.Hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDQ$aGFzaDQ"
			p.ChangedAt = T0.Add(1500 * time.Microsecond)
			return p, nil
		})
		must(t, `UpdatePassword("acct-1")`, err)
		wantEqual(t, "the updater's argument", seen, old)
		want := store.Password{
			AccountID: "acct-1",
			Hash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDQ$aGFzaDQ",
			History:   append([]string{old.Hash}, old.History...),
			ChangedAt: T0.Add(time.Millisecond),
		}
		wantEqual(t, `UpdatePassword("acct-1") result`, got, want)
		got, err = s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1") after the update`, got, want)
	}},
	{"an updater error aborts the password update and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustSetPassword(t, s, newPassword("acct-1"))
		_, err := s.UpdatePassword(t.Context(), "acct-1", func(p store.Password) (store.Password, error) {
			p.Hash, p.History = "changed", nil
			return p, errBoom
		})
		wantErr(t, `UpdatePassword("acct-1") with a failing updater`, err, errBoom)
		got, err := s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1") after the failed update`, got, want)
	}},
}
