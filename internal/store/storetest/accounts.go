package storetest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newAccount returns an account with every field set.
func newAccount(id, username string) store.Account {
	return store.Account{
		ID:        id,
		Username:  username,
		Name:      "Name of " + id,
		Locale:    "nb",
		CreatedAt: T0.Add(-time.Hour),
		UpdatedAt: T0,
	}
}

func mustCreateAccount(tb testing.TB, s store.Store, a store.Account) store.Account {
	tb.Helper()
	must(tb, "CreateAccount("+a.ID+")", s.CreateAccount(tb.Context(), a))
	return a
}

var accountTests = []subtest{
	{"a created account reads back by ID and by username", func(t *testing.T, s store.Store) {
		want := newAccount("acct-1", "kari")
		want.Disabled, want.Groups, want.MFARequired = true, []string{"finance", "support"}, true
		mustCreateAccount(t, s, want)
		got, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1")`, got, want)
		got, err = s.GetAccountByUsername(t.Context(), "kari")
		must(t, `GetAccountByUsername("kari")`, err)
		wantEqual(t, `GetAccountByUsername("kari")`, got, want)
	}},
	{"a missing account is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		_, err := s.GetAccount(t.Context(), "nobody")
		wantErr(t, `GetAccount("nobody")`, err, store.ErrNotFound)
		_, err = s.GetAccountByUsername(t.Context(), "nobody")
		wantErr(t, `GetAccountByUsername("nobody")`, err, store.ErrNotFound)
		// An account without a username is not found by the empty one.
		_, err = s.GetAccountByUsername(t.Context(), "")
		wantErr(t, `GetAccountByUsername("")`, err, store.ErrNotFound)
	}},
	{"a second account with the same ID is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		err := s.CreateAccount(t.Context(), newAccount("acct-1", "ola"))
		wantErr(t, `CreateAccount("acct-1") again`, err, store.ErrConflict)
	}},
	{"a second account with the same username is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		err := s.CreateAccount(t.Context(), newAccount("acct-2", "kari"))
		wantErr(t, `CreateAccount("acct-2") with username "kari" taken`, err, store.ErrConflict)
		_, err = s.GetAccount(t.Context(), "acct-2")
		wantErr(t, `GetAccount("acct-2") after the conflict`, err, store.ErrNotFound)
	}},
	{"many accounts may have no username", func(t *testing.T, s store.Store) {
		for _, id := range []string{"acct-1", "acct-2", "acct-3"} {
			mustCreateAccount(t, s, newAccount(id, ""))
		}
		// Clearing a username leaves one more account without.
		mustCreateAccount(t, s, newAccount("acct-4", "kari"))
		_, err := s.UpdateAccount(t.Context(), "acct-4", func(a store.Account) (store.Account, error) {
			a.Username = ""
			return a, nil
		})
		must(t, `UpdateAccount("acct-4") clearing the username`, err)
		for _, id := range []string{"acct-1", "acct-2", "acct-3", "acct-4"} {
			got, err := s.GetAccount(t.Context(), id)
			must(t, "GetAccount("+id+")", err)
			if got.Username != "" {
				t.Errorf("GetAccount(%q).Username = %q, want empty", id, got.Username)
			}
		}
		_, err = s.GetAccountByUsername(t.Context(), "kari")
		wantErr(t, `GetAccountByUsername("kari") after clearing it`, err, store.ErrNotFound)
	}},
	{"an update writes what the updater returns", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		var seen store.Account
		got, err := s.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) {
			seen = a
			a.Username, a.Name, a.Locale, a.Disabled = "kari2", "Kari Nordmann", "sv", true
			a.Groups, a.MFARequired = []string{"payroll"}, true
			a.UpdatedAt = T0.Add(time.Minute)
			return a, nil
		})
		must(t, `UpdateAccount("acct-1")`, err)
		wantEqual(t, "the updater's argument", seen, newAccount("acct-1", "kari"))
		want := newAccount("acct-1", "kari2")
		want.Name, want.Locale, want.Disabled, want.UpdatedAt = "Kari Nordmann", "sv", true, T0.Add(time.Minute)
		want.Groups, want.MFARequired = []string{"payroll"}, true
		wantEqual(t, `UpdateAccount("acct-1") result`, got, want)
		got, err = s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1") after the update`, got, want)
		_, err = s.GetAccountByUsername(t.Context(), "kari")
		wantErr(t, `GetAccountByUsername("kari") after the rename`, err, store.ErrNotFound)
	}},
	{"an updater error aborts the account update and writes nothing", func(t *testing.T, s store.Store) {
		want := mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		_, err := s.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) {
			a.Name = "changed"
			return a, errBoom
		})
		wantErr(t, `UpdateAccount("acct-1") with a failing updater`, err, errBoom)
		got, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1") after the failed update`, got, want)
	}},
	{"updating a missing account is not found", func(t *testing.T, s store.Store) {
		_, err := s.UpdateAccount(t.Context(), "nobody", func(a store.Account) (store.Account, error) {
			t.Errorf(`UpdateAccount("nobody") called the updater with %+v`, a)
			return a, nil
		})
		wantErr(t, `UpdateAccount("nobody")`, err, store.ErrNotFound)
	}},
	{"renaming an account to a taken username is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		want := mustCreateAccount(t, s, newAccount("acct-2", "ola"))
		_, err := s.UpdateAccount(t.Context(), "acct-2", func(a store.Account) (store.Account, error) {
			a.Username = "kari"
			return a, nil
		})
		wantErr(t, `UpdateAccount("acct-2") to username "kari"`, err, store.ErrConflict)
		got, err := s.GetAccount(t.Context(), "acct-2")
		must(t, `GetAccount("acct-2")`, err)
		wantEqual(t, `GetAccount("acct-2") after the conflict`, got, want)
	}},
	{"deleting an account removes it and its sessions", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		mustCreateAccount(t, s, newAccount("acct-2", "ola"))
		mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		mustCreateSession(t, s, newSession("sess-2", "acct-1", T0))
		mustCreateSession(t, s, newSession("sess-3", "acct-2", T0))
		must(t, `DeleteAccount("acct-1")`, s.DeleteAccount(t.Context(), "acct-1"))
		_, err := s.GetAccount(t.Context(), "acct-1")
		wantErr(t, `GetAccount("acct-1") after DeleteAccount`, err, store.ErrNotFound)
		_, err = s.GetAccountByUsername(t.Context(), "kari")
		wantErr(t, `GetAccountByUsername("kari") after DeleteAccount`, err, store.ErrNotFound)
		for _, id := range []string{"sess-1", "sess-2"} {
			_, err := s.GetSession(t.Context(), id)
			wantErr(t, "GetSession("+id+") after deleting its account", err, store.ErrNotFound)
		}
		_, err = s.GetSession(t.Context(), "sess-3")
		must(t, `GetSession("sess-3") of another account`, err)
	}},
	{"deleting a missing account is not found", func(t *testing.T, s store.Store) {
		wantErr(t, `DeleteAccount("nobody")`, s.DeleteAccount(t.Context(), "nobody"), store.ErrNotFound)
	}},
	{"twenty parallel updates of one account are all applied", func(t *testing.T, s store.Store) {
		a := newAccount("acct-1", "")
		a.Name = "0"
		mustCreateAccount(t, s, a)
		parallel(t, 20, func(int) {
			_, err := s.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) {
				n, err := strconv.Atoi(a.Name)
				a.Name = strconv.Itoa(n + 1)
				return a, err
			})
			if err != nil {
				t.Errorf(`UpdateAccount("acct-1"): %v`, err)
			}
		})
		got, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		if got.Name != "20" {
			t.Errorf(`GetAccount("acct-1").Name = %q after 20 increments from "0", want "20"`, got.Name)
		}
	}},
}

// parallel runs fn(0) … fn(n-1) in goroutines that start together, and
// waits for them.
func parallel(t *testing.T, n int, fn func(i int)) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// race runs fn(0) … fn(n-1) together, as parallel does, and sorts the
// outcomes: winners are the calls that returned nil (in no set order),
// losers the calls whose error lost reports; any other error fails the
// test, named by what and the call's number.
func race(t *testing.T, n int, what string, lost func(error) bool, fn func(i int) error) (winners []int, losers int) {
	t.Helper()
	var mu sync.Mutex
	parallel(t, n, func(i int) {
		err := fn(i)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			winners = append(winners, i)
		case lost(err):
			losers++
		default:
			t.Errorf("%s by call %d: %v", what, i, err)
		}
	})
	return winners, losers
}
