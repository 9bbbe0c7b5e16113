package storetest

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// wantNoAccount fails the test if anything of a registration of the
// account with that ID, username and addresses was written.
func wantNoAccount(tb testing.TB, s store.Store, call, id, username string, addresses ...string) {
	tb.Helper()
	if a, err := s.GetAccount(tb.Context(), id); err == nil {
		tb.Errorf("%s: GetAccount(%q) = %+v, want not found", call, id, a)
	}
	if username != "" {
		_, err := s.GetAccountByUsername(tb.Context(), username)
		wantErr(tb, call+": GetAccountByUsername("+username+")", err, store.ErrNotFound)
	}
	for _, addr := range addresses {
		_, err := s.GetEmail(tb.Context(), addr)
		wantErr(tb, call+": GetEmail("+addr+")", err, store.ErrNotFound)
	}
}

var registerTests = []subtest{
	{"registering writes the account, its emails and its password", func(t *testing.T, s store.Store) {
		a := newAccount("acct-1", "kari")
		emails := []store.Email{
			newEmail("kari@example.no", "acct-1", true, T0),
			newEmail("Kari@Jobb.no", "acct-1", false, T0.Add(time.Millisecond)),
		}
		pw := newPassword("acct-1")
		must(t, `Register("acct-1")`, s.Register(t.Context(), a, emails, &pw))
		gotA, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1")`, gotA, a)
		gotE, err := s.ListEmails(t.Context(), "acct-1")
		must(t, `ListEmails("acct-1")`, err)
		wantEqual(t, `ListEmails("acct-1")`, gotE, emails)
		gotP, err := s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1")`, gotP, pw)
	}},
	{"registering without a password or emails writes neither", func(t *testing.T, s store.Store) {
		must(t, `Register("acct-1")`, s.Register(t.Context(), newAccount("acct-1", "kari"), nil, nil))
		_, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `ListEmails("acct-1")`, listEmails(t, s, "acct-1"), []string{})
		_, err = s.GetPassword(t.Context(), "acct-1")
		wantErr(t, `GetPassword("acct-1") of an account registered without one`, err, store.ErrNotFound)
	}},
	{"registering with a taken address is a conflict and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		emails := []store.Email{
			newEmail("ola@example.no", "acct-2", true, T0),
			newEmail("KARI@example.no", "acct-2", false, T0),
		}
		pw := newPassword("acct-2")
		err := s.Register(t.Context(), newAccount("acct-2", "ola"), emails, &pw)
		wantErr(t, `Register("acct-2") with "KARI@example.no" taken`, err, store.ErrConflict)
		wantNoAccount(t, s, `after Register("acct-2")`, "acct-2", "ola", "ola@example.no")
		_, err = s.GetPassword(t.Context(), "acct-2")
		wantErr(t, `GetPassword("acct-2") after the conflict`, err, store.ErrNotFound)
		wantEqual(t, `ListEmails("acct-1") after the conflict`, listEmails(t, s, "acct-1"), []string{"kari@example.no"})
	}},
	{"registering the same address twice is a conflict and writes nothing", func(t *testing.T, s store.Store) {
		emails := []store.Email{
			newEmail("ola@example.no", "acct-1", true, T0),
			newEmail("Ola@Example.no", "acct-1", false, T0),
		}
		err := s.Register(t.Context(), newAccount("acct-1", "ola"), emails, nil)
		wantErr(t, `Register("acct-1") with one address twice`, err, store.ErrConflict)
		wantNoAccount(t, s, `after Register("acct-1")`, "acct-1", "ola", "ola@example.no")
	}},
	{"registering with a taken username is a conflict and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		pw := newPassword("acct-2")
		err := s.Register(t.Context(), newAccount("acct-2", "kari"),
			[]store.Email{newEmail("kari2@example.no", "acct-2", true, T0)}, &pw)
		wantErr(t, `Register("acct-2") with username "kari" taken`, err, store.ErrConflict)
		wantNoAccount(t, s, `after Register("acct-2")`, "acct-2", "", "kari2@example.no")
		_, err = s.GetPassword(t.Context(), "acct-2")
		wantErr(t, `GetPassword("acct-2") after the conflict`, err, store.ErrNotFound)
	}},
	{"registering with a taken account ID is a conflict and writes nothing", func(t *testing.T, s store.Store) {
		want := mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		pw := newPassword("acct-1")
		err := s.Register(t.Context(), newAccount("acct-1", "ola"),
			[]store.Email{newEmail("ola@example.no", "acct-1", true, T0)}, &pw)
		wantErr(t, `Register("acct-1") again`, err, store.ErrConflict)
		got, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1") after the conflict`, got, want)
		wantNoAccount(t, s, `after Register("acct-1") again`, "acct-x", "ola", "ola@example.no")
		_, err = s.GetPassword(t.Context(), "acct-1")
		wantErr(t, `GetPassword("acct-1") after the conflict`, err, store.ErrNotFound)
	}},
	{"deleting an account removes its emails, password and flows", func(t *testing.T, s store.Store) {
		pw := newPassword("acct-1")
		must(t, `Register("acct-1")`, s.Register(t.Context(), newAccount("acct-1", "kari"),
			[]store.Email{newEmail("kari@example.no", "acct-1", true, T0)}, &pw))
		mustCreateAccount(t, s, newAccount("acct-2", "ola"))
		mustAddEmail(t, s, newEmail("ola@example.no", "acct-2", true, T0))
		mustSetPassword(t, s, newPassword("acct-2"))
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, "acct-1"))
		mustCreateFlow(t, s, newFlow("flow-2", store.FlowRecovery, "acct-2"))
		mustCreateFlow(t, s, bareFlow("flow-3"))

		must(t, `DeleteAccount("acct-1")`, s.DeleteAccount(t.Context(), "acct-1"))
		wantNoAccount(t, s, `after DeleteAccount("acct-1")`, "acct-1", "kari", "kari@example.no")
		wantEqual(t, `ListEmails("acct-1") after DeleteAccount`, listEmails(t, s, "acct-1"), []string{})
		_, err := s.GetPassword(t.Context(), "acct-1")
		wantErr(t, `GetPassword("acct-1") after DeleteAccount`, err, store.ErrNotFound)
		wantFlows(t, s, `DeleteAccount("acct-1")`, []string{"flow-1", "flow-2", "flow-3"}, "flow-2", "flow-3")
		// The other account keeps everything, and the address is free again.
		wantEqual(t, `ListEmails("acct-2")`, listEmails(t, s, "acct-2"), []string{"ola@example.no"})
		_, err = s.GetPassword(t.Context(), "acct-2")
		must(t, `GetPassword("acct-2")`, err)
		mustAddEmail(t, s, newEmail("Kari@example.no", "acct-2", false, T0))
	}},
}
