package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newEmail returns a verified address of the account, added at created.
func newEmail(address, accountID string, primary bool, created time.Time) store.Email {
	return store.Email{
		Address:    address,
		AccountID:  accountID,
		Primary:    primary,
		VerifiedAt: created.Add(-time.Minute),
		CreatedAt:  created,
	}
}

func mustAddEmail(tb testing.TB, s store.Store, e store.Email) store.Email {
	tb.Helper()
	must(tb, "AddEmail("+e.Address+")", s.AddEmail(tb.Context(), e))
	return e
}

func emailAddress(e store.Email) string { return e.Address }

// listEmails returns the account's addresses in order, failing the test on
// error.
func listEmails(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListEmails(tb.Context(), accountID)
	must(tb, "ListEmails("+accountID+")", err)
	return ids(list, emailAddress)
}

// primaries returns the account's primary addresses.
func primaries(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListEmails(tb.Context(), accountID)
	must(tb, "ListEmails("+accountID+")", err)
	out := []string{}
	for _, e := range list {
		if e.Primary {
			out = append(out, e.Address)
		}
	}
	return out
}

var emailTests = []subtest{
	{"an added email reads back by its address in any case", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustAddEmail(t, s, newEmail("Kari.Nordmann@example.no", "acct-1", true, T0))
		for _, addr := range []string{"Kari.Nordmann@example.no", "kari.nordmann@example.no", "KARI.NORDMANN@EXAMPLE.NO"} {
			got, err := s.GetEmail(t.Context(), addr)
			must(t, "GetEmail("+addr+")", err)
			wantEqual(t, "GetEmail("+addr+")", got, want)
		}
		list, err := s.ListEmails(t.Context(), "acct-1")
		must(t, `ListEmails("acct-1")`, err)
		wantEqual(t, `ListEmails("acct-1")`, list, []store.Email{want})
	}},
	{"a missing email is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		_, err := s.GetEmail(t.Context(), "ola@example.no")
		wantErr(t, `GetEmail("ola@example.no")`, err, store.ErrNotFound)
		_, err = s.GetEmail(t.Context(), "")
		wantErr(t, `GetEmail("")`, err, store.ErrNotFound)
	}},
	{"an address any account has in any case is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustAddEmail(t, s, newEmail("Kari@Example.no", "acct-1", false, T0))
		err := s.AddEmail(t.Context(), newEmail("kari@example.NO", "acct-2", false, T0))
		wantErr(t, `AddEmail("kari@example.NO") to acct-2 with "Kari@Example.no" on acct-1`, err, store.ErrConflict)
		err = s.AddEmail(t.Context(), newEmail("KARI@example.no", "acct-1", false, T0))
		wantErr(t, `AddEmail("KARI@example.no") to acct-1, which has "Kari@Example.no"`, err, store.ErrConflict)
		wantEqual(t, `ListEmails("acct-2") after the conflict`, listEmails(t, s, "acct-2"), []string{})
		got, err := s.GetEmail(t.Context(), "kari@example.no")
		must(t, `GetEmail("kari@example.no")`, err)
		wantEqual(t, `GetEmail("kari@example.no") after the conflicts`, got, want)
	}},
	{"an email for an unknown account is not found", func(t *testing.T, s store.Store) {
		err := s.AddEmail(t.Context(), newEmail("kari@example.no", "nobody", true, T0))
		wantErr(t, `AddEmail("kari@example.no") to account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetEmail(t.Context(), "kari@example.no")
		wantErr(t, `GetEmail("kari@example.no") after the failed add`, err, store.ErrNotFound)
	}},
	{"a second primary address of one account is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		err := s.AddEmail(t.Context(), newEmail("kari@jobb.no", "acct-1", true, T0))
		wantErr(t, `AddEmail("kari@jobb.no") as a second primary of acct-1`, err, store.ErrConflict)
		// A secondary address is fine, and so is another account's primary.
		mustAddEmail(t, s, newEmail("kari@jobb.no", "acct-1", false, T0))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", true, T0))
		wantEqual(t, "primaries of acct-1", primaries(t, s, "acct-1"), []string{"kari@example.no"})
		wantEqual(t, "primaries of acct-2", primaries(t, s, "acct-2"), []string{"ola@example.no"})
	}},
	{"emails are listed primary first, then oldest first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("middle@example.no", "acct-1", false, T0.Add(time.Minute)))
		mustAddEmail(t, s, newEmail("oldest@example.no", "acct-1", false, T0))
		mustAddEmail(t, s, newEmail("primary@example.no", "acct-1", true, T0.Add(time.Hour)))
		mustAddEmail(t, s, newEmail("newest@example.no", "acct-1", false, T0.Add(2*time.Minute)))
		mustAddEmail(t, s, newEmail("other@example.no", "acct-2", true, T0))
		wantEqual(t, `ListEmails("acct-1")`, listEmails(t, s, "acct-1"),
			[]string{"primary@example.no", "oldest@example.no", "middle@example.no", "newest@example.no"})
		// Without a primary, oldest first still.
		must(t, `DeleteEmail("acct-1", "primary@example.no")`, s.DeleteEmail(t.Context(), "acct-1", "primary@example.no"))
		wantEqual(t, `ListEmails("acct-1") without a primary`, listEmails(t, s, "acct-1"),
			[]string{"oldest@example.no", "middle@example.no", "newest@example.no"})
		wantEqual(t, `ListEmails("nobody")`, listEmails(t, s, "nobody"), []string{})
	}},
	{"setting the primary email replaces the old one", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		mustAddEmail(t, s, newEmail("Kari@Jobb.no", "acct-1", false, T0.Add(time.Minute)))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", true, T0))
		must(t, `SetPrimaryEmail("acct-1", "kari@jobb.no")`, s.SetPrimaryEmail(t.Context(), "acct-1", "kari@jobb.no"))
		wantEqual(t, `ListEmails("acct-1") after SetPrimaryEmail`, listEmails(t, s, "acct-1"),
			[]string{"Kari@Jobb.no", "kari@example.no"})
		wantEqual(t, "primaries of acct-1", primaries(t, s, "acct-1"), []string{"Kari@Jobb.no"})
		wantEqual(t, "primaries of acct-2", primaries(t, s, "acct-2"), []string{"ola@example.no"})
		// Setting the primary again changes nothing; an account without a
		// primary gets one.
		must(t, `SetPrimaryEmail("acct-1", "Kari@Jobb.no") again`, s.SetPrimaryEmail(t.Context(), "acct-1", "Kari@Jobb.no"))
		wantEqual(t, "primaries of acct-1 after setting it again", primaries(t, s, "acct-1"), []string{"Kari@Jobb.no"})
		must(t, `DeleteEmail("acct-1", "kari@jobb.no")`, s.DeleteEmail(t.Context(), "acct-1", "kari@jobb.no"))
		wantEqual(t, "primaries of acct-1 after deleting the primary", primaries(t, s, "acct-1"), []string{})
		must(t, `SetPrimaryEmail("acct-1", "kari@example.no")`, s.SetPrimaryEmail(t.Context(), "acct-1", "kari@example.no"))
		wantEqual(t, "primaries of acct-1 after setting one", primaries(t, s, "acct-1"), []string{"kari@example.no"})
	}},
	{"setting as primary an address the account does not own is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", false, T0))
		for _, addr := range []string{"ola@example.no", "nobody@example.no"} {
			err := s.SetPrimaryEmail(t.Context(), "acct-1", addr)
			wantErr(t, `SetPrimaryEmail("acct-1", "`+addr+`")`, err, store.ErrNotFound)
		}
		err := s.SetPrimaryEmail(t.Context(), "nobody", "kari@example.no")
		wantErr(t, `SetPrimaryEmail("nobody", "kari@example.no")`, err, store.ErrNotFound)
		wantEqual(t, "primaries of acct-1", primaries(t, s, "acct-1"), []string{"kari@example.no"})
		wantEqual(t, "primaries of acct-2", primaries(t, s, "acct-2"), []string{})
	}},
	{"parallel primary switches leave exactly one primary", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		addrs := []string{"a@example.no", "b@example.no", "c@example.no", "d@example.no"}
		for i, addr := range addrs {
			mustAddEmail(t, s, newEmail(addr, "acct-1", i == 0, T0.Add(time.Duration(i)*time.Minute)))
		}
		parallel(t, 20, func(i int) {
			addr := addrs[i%len(addrs)]
			if err := s.SetPrimaryEmail(t.Context(), "acct-1", addr); err != nil {
				t.Errorf("SetPrimaryEmail(%q, %q): %v", "acct-1", addr, err)
			}
		})
		if got := primaries(t, s, "acct-1"); len(got) != 1 {
			t.Errorf("primaries of acct-1 after 20 parallel switches = %q, want exactly one", got)
		}
		wantEqual(t, `len(ListEmails("acct-1"))`, len(listEmails(t, s, "acct-1")), len(addrs))
	}},
	{"deleting an email frees the address", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		mustAddEmail(t, s, newEmail("Kari@Jobb.no", "acct-1", false, T0))
		must(t, `DeleteEmail("acct-1", "KARI@JOBB.NO")`, s.DeleteEmail(t.Context(), "acct-1", "KARI@JOBB.NO"))
		_, err := s.GetEmail(t.Context(), "kari@jobb.no")
		wantErr(t, `GetEmail("kari@jobb.no") after DeleteEmail`, err, store.ErrNotFound)
		wantEqual(t, `ListEmails("acct-1") after DeleteEmail`, listEmails(t, s, "acct-1"), []string{"kari@example.no"})
		mustAddEmail(t, s, newEmail("kari@jobb.no", "acct-2", false, T0))
		wantErr(t, `DeleteEmail("acct-1", "kari@jobb.no") again`, s.DeleteEmail(t.Context(), "acct-1", "kari@jobb.no"), store.ErrNotFound)
	}},
	{"deleting another account's email is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		for _, call := range []struct{ acct, addr string }{
			{"acct-2", "kari@example.no"},
			{"nobody", "kari@example.no"},
			{"acct-1", "nobody@example.no"},
		} {
			err := s.DeleteEmail(t.Context(), call.acct, call.addr)
			wantErr(t, fmt.Sprintf("DeleteEmail(%q, %q)", call.acct, call.addr), err, store.ErrNotFound)
		}
		got, err := s.GetEmail(t.Context(), "kari@example.no")
		must(t, `GetEmail("kari@example.no")`, err)
		wantEqual(t, `GetEmail("kari@example.no") after the failed deletes`, got, want)
	}},
}
