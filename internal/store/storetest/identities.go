package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newIdentity returns an ID-porten-like identity with every field set,
// linked at linked.
func newIdentity(provider, subject, accountID string, linked time.Time) store.FederatedIdentity {
	return store.FederatedIdentity{
		Provider:         provider,
		Subject:          subject,
		AccountID:        accountID,
		Email:            "kari@example.no",
		NationalIDMasked: "******12345",
		NationalIDSealed: []byte{1, 2, 3, 0, 255},
		LinkedAt:         linked,
		LastUsedAt:       linked.Add(time.Minute),
	}
}

func mustLink(tb testing.TB, s store.Store, id store.FederatedIdentity) store.FederatedIdentity {
	tb.Helper()
	must(tb, "CreateIdentity("+id.Provider+", "+id.Subject+")", s.CreateIdentity(tb.Context(), id))
	return id
}

func identityKey(id store.FederatedIdentity) string { return id.Provider + "/" + id.Subject }

func listIdentities(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListIdentities(tb.Context(), accountID)
	must(tb, "ListIdentities("+accountID+")", err)
	return ids(list, identityKey)
}

var identityTests = []subtest{
	{"a linked identity reads back with every field", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustLink(t, s, newIdentity("idporten", "hash-of-pid", "acct-1", T0))
		got, err := s.GetIdentity(t.Context(), "idporten", "hash-of-pid")
		must(t, "GetIdentity", err)
		wantEqual(t, "GetIdentity(idporten, hash-of-pid)", got, want)
		list, err := s.ListIdentities(t.Context(), "acct-1")
		must(t, "ListIdentities", err)
		wantEqual(t, `ListIdentities("acct-1")`, list, []store.FederatedIdentity{want})
	}},
	{"an identity without a national ID reads back with nil sealed bytes", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		id := newIdentity("github", "583231", "acct-1", T0)
		id.NationalIDMasked, id.NationalIDSealed, id.Email = "", nil, ""
		mustLink(t, s, id)
		got, err := s.GetIdentity(t.Context(), "github", "583231")
		must(t, "GetIdentity", err)
		wantEqual(t, "GetIdentity(github, 583231)", got, id)
	}},
	{"an identity is linked to one account only", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustLink(t, s, newIdentity("idporten", "hash-of-pid", "acct-1", T0))
		err := s.CreateIdentity(t.Context(), newIdentity("idporten", "hash-of-pid", "acct-2", T0))
		wantErr(t, "CreateIdentity(same identity, acct-2)", err, store.ErrConflict)
		wantEqual(t, "identities of acct-2", listIdentities(t, s, "acct-2"), []string{})
	}},
	{"the same subject at two providers is two identities", func(t *testing.T, s store.Store) {
		// SECURITY.md 6.8.1: the key is (provider, subject).
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustLink(t, s, newIdentity("google", "123", "acct-1", T0))
		mustLink(t, s, newIdentity("github", "123", "acct-2", T0))
		got, err := s.GetIdentity(t.Context(), "github", "123")
		must(t, "GetIdentity(github, 123)", err)
		wantEqual(t, "owner of github/123", got.AccountID, "acct-2")
	}},
	{"a missing identity is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		_, err := s.GetIdentity(t.Context(), "idporten", "nobody")
		wantErr(t, "GetIdentity(nobody)", err, store.ErrNotFound)
		wantErr(t, "TouchIdentity(nobody)", s.TouchIdentity(t.Context(), "idporten", "nobody", T0), store.ErrNotFound)
		wantErr(t, "DeleteIdentity(nobody)", s.DeleteIdentity(t.Context(), "acct-1", "idporten", "nobody"), store.ErrNotFound)
	}},
	{"an identity for an unknown account is not found", func(t *testing.T, s store.Store) {
		err := s.CreateIdentity(t.Context(), newIdentity("idporten", "x", "nobody", T0))
		wantErr(t, "CreateIdentity(account nobody)", err, store.ErrNotFound)
	}},
	{"identities are listed oldest link first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustLink(t, s, newIdentity("google", "g", "acct-1", T0.Add(time.Hour)))
		mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		mustLink(t, s, newIdentity("github", "h", "acct-1", T0.Add(2*time.Hour)))
		wantEqual(t, "identities", listIdentities(t, s, "acct-1"), []string{"idporten/i", "google/g", "github/h"})
	}},
	{"touching an identity records its last use", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		must(t, "TouchIdentity", s.TouchIdentity(t.Context(), "idporten", "i", T0.Add(48*time.Hour+time.Millisecond)))
		got, err := s.GetIdentity(t.Context(), "idporten", "i")
		must(t, "GetIdentity", err)
		want.LastUsedAt = T0.Add(48*time.Hour + time.Millisecond)
		wantEqual(t, "GetIdentity after TouchIdentity", got, want)
	}},
	{"deleting another account's identity is not found and leaves it", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		wantErr(t, "DeleteIdentity(acct-2, idporten, i)", s.DeleteIdentity(t.Context(), "acct-2", "idporten", "i"), store.ErrNotFound)
		wantEqual(t, "identities of acct-1", listIdentities(t, s, "acct-1"), []string{"idporten/i"})
		must(t, "DeleteIdentity(acct-1)", s.DeleteIdentity(t.Context(), "acct-1", "idporten", "i"))
		wantEqual(t, "identities of acct-1 after unlinking", listIdentities(t, s, "acct-1"), []string{})
		// Once unlinked, the identity may be linked anew.
		mustLink(t, s, newIdentity("idporten", "i", "acct-2", T0))
	}},
	{"deleting an account unlinks its identities", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		must(t, "DeleteAccount", s.DeleteAccount(t.Context(), "acct-1"))
		_, err := s.GetIdentity(t.Context(), "idporten", "i")
		wantErr(t, "GetIdentity after DeleteAccount", err, store.ErrNotFound)
	}},
	{"moving an identity changes its account and link time only", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		got, err := s.MoveIdentity(t.Context(), "idporten", "i", "acct-1", "acct-2", T0.Add(time.Hour))
		must(t, "MoveIdentity", err)
		want.AccountID, want.LinkedAt = "acct-2", T0.Add(time.Hour)
		wantEqual(t, "MoveIdentity", got, want)
		wantEqual(t, "identities of acct-1", listIdentities(t, s, "acct-1"), []string{})
		wantEqual(t, "identities of acct-2", listIdentities(t, s, "acct-2"), []string{"idporten/i"})
	}},
	{"a move from an account that does not hold the identity changes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateAccount(t, s, newAccount("acct-3", ""))
		mustLink(t, s, newIdentity("idporten", "i", "acct-1", T0))
		_, err := s.MoveIdentity(t.Context(), "idporten", "i", "acct-3", "acct-2", T0)
		wantErr(t, "MoveIdentity(from acct-3)", err, store.ErrNotFound)
		_, err = s.MoveIdentity(t.Context(), "idporten", "i", "acct-1", "nobody", T0)
		wantErr(t, "MoveIdentity(to nobody)", err, store.ErrNotFound)
		_, err = s.MoveIdentity(t.Context(), "idporten", "gone", "acct-1", "acct-2", T0)
		wantErr(t, "MoveIdentity(unknown identity)", err, store.ErrNotFound)
		wantEqual(t, "identities of acct-1", listIdentities(t, s, "acct-1"), []string{"idporten/i"})
	}},
	{"of twenty parallel moves of one identity exactly one succeeds", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-0", ""))
		mustLink(t, s, newIdentity("idporten", "i", "acct-0", T0))
		const n = 20
		for i := 1; i <= n; i++ {
			mustCreateAccount(t, s, newAccount(accountN(i), ""))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.MoveIdentity(t.Context(), "idporten", "i", "acct-0", accountN(i+1), T0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantErr(t, "a losing MoveIdentity", err, store.ErrNotFound)
			}
		}
		wantEqual(t, "successful moves", ok, 1)
	}},
}

func accountN(i int) string { return "acct-" + string(rune('a'+i)) }
