package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newBrowser returns a trusted browser with every field set, created at
// created and trusted for 30 days.
func newBrowser(id, accountID string, created time.Time) store.TrustedBrowser {
	return store.TrustedBrowser{
		ID:        id,
		AccountID: accountID,
		TokenHash: hash("browser token of " + id),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		IP:        "192.0.2.7",
		CreatedAt: created,
		ExpiresAt: created.Add(30 * 24 * time.Hour),
	}
}

func mustCreateBrowser(tb testing.TB, s store.Store, b store.TrustedBrowser) store.TrustedBrowser {
	tb.Helper()
	must(tb, "CreateTrustedBrowser("+b.ID+")", s.CreateTrustedBrowser(tb.Context(), b))
	return b
}

func browserID(b store.TrustedBrowser) string { return b.ID }

// listBrowsers returns the IDs of the account's trusted browsers in order,
// failing the test on error.
func listBrowsers(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListTrustedBrowsers(tb.Context(), accountID)
	must(tb, "ListTrustedBrowsers("+accountID+")", err)
	return ids(list, browserID)
}

var trustedBrowserTests = []subtest{
	{"a trusted browser reads back by its token hash", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		got, err := s.GetTrustedBrowser(t.Context(), want.TokenHash)
		must(t, "GetTrustedBrowser(token of browser-1)", err)
		wantEqual(t, "GetTrustedBrowser(token of browser-1)", got, want)
		list, err := s.ListTrustedBrowsers(t.Context(), "acct-1")
		must(t, `ListTrustedBrowsers("acct-1")`, err)
		wantEqual(t, `ListTrustedBrowsers("acct-1")`, list, []store.TrustedBrowser{want})
	}},
	{"a missing trusted browser is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		for name, h := range map[string][]byte{`hash("nothing")`: hash("nothing"), "nil": nil, "[]byte{}": {}} {
			_, err := s.GetTrustedBrowser(t.Context(), h)
			wantErr(t, "GetTrustedBrowser("+name+")", err, store.ErrNotFound)
		}
		err := s.DeleteTrustedBrowser(t.Context(), "acct-1", "nothing")
		wantErr(t, `DeleteTrustedBrowser("acct-1", "nothing")`, err, store.ErrNotFound)
	}},
	{"a second trusted browser with the same ID or token hash is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		first := mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		sameID := newBrowser("browser-1", "acct-2", T0)
		sameID.TokenHash = hash("another token")
		wantErr(t, `CreateTrustedBrowser("browser-1") again`, s.CreateTrustedBrowser(t.Context(), sameID), store.ErrConflict)
		sameToken := newBrowser("browser-2", "acct-2", T0)
		sameToken.TokenHash = first.TokenHash
		wantErr(t, `CreateTrustedBrowser("browser-2") with the token hash of browser-1`,
			s.CreateTrustedBrowser(t.Context(), sameToken), store.ErrConflict)
		got, err := s.GetTrustedBrowser(t.Context(), first.TokenHash)
		must(t, "GetTrustedBrowser(token of browser-1)", err)
		wantEqual(t, "GetTrustedBrowser(token of browser-1) after the conflicts", got, first)
		wantEqual(t, `ListTrustedBrowsers("acct-2") after the conflicts`, listBrowsers(t, s, "acct-2"), []string{})
	}},
	{"trusted browsers are listed newest first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateBrowser(t, s, newBrowser("middle", "acct-1", T0.Add(time.Minute)))
		mustCreateBrowser(t, s, newBrowser("oldest", "acct-1", T0))
		mustCreateBrowser(t, s, newBrowser("newest", "acct-1", T0.Add(time.Hour)))
		mustCreateBrowser(t, s, newBrowser("other", "acct-2", T0.Add(2*time.Hour)))
		wantEqual(t, `ListTrustedBrowsers("acct-1")`, listBrowsers(t, s, "acct-1"), []string{"newest", "middle", "oldest"})
		wantEqual(t, `ListTrustedBrowsers("nobody")`, listBrowsers(t, s, "nobody"), []string{})
	}},
	{"deleting a trusted browser removes it and its token", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		b := mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		mustCreateBrowser(t, s, newBrowser("browser-2", "acct-1", T0.Add(time.Minute)))
		must(t, `DeleteTrustedBrowser("acct-1", "browser-1")`, s.DeleteTrustedBrowser(t.Context(), "acct-1", "browser-1"))
		_, err := s.GetTrustedBrowser(t.Context(), b.TokenHash)
		wantErr(t, "GetTrustedBrowser(token of browser-1) after DeleteTrustedBrowser", err, store.ErrNotFound)
		wantEqual(t, `ListTrustedBrowsers("acct-1") after DeleteTrustedBrowser`, listBrowsers(t, s, "acct-1"), []string{"browser-2"})
		err = s.DeleteTrustedBrowser(t.Context(), "acct-1", "browser-1")
		wantErr(t, `DeleteTrustedBrowser("acct-1", "browser-1") again`, err, store.ErrNotFound)
	}},
	{"deleting another account's trusted browser is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		for _, acct := range []string{"acct-2", "nobody", ""} {
			err := s.DeleteTrustedBrowser(t.Context(), acct, "browser-1")
			wantErr(t, fmt.Sprintf("DeleteTrustedBrowser(%q, %q)", acct, "browser-1"), err, store.ErrNotFound)
		}
		got, err := s.GetTrustedBrowser(t.Context(), want.TokenHash)
		must(t, "GetTrustedBrowser(token of browser-1)", err)
		wantEqual(t, "GetTrustedBrowser(token of browser-1) after the failed deletes", got, want)
	}},
	{"deleting an account's trusted browsers removes them all", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		for i, id := range []string{"browser-1", "browser-2", "browser-3"} {
			mustCreateBrowser(t, s, newBrowser(id, "acct-1", T0.Add(time.Duration(i)*time.Minute)))
		}
		mustCreateBrowser(t, s, newBrowser("browser-4", "acct-2", T0))
		n, err := s.DeleteTrustedBrowsers(t.Context(), "acct-1")
		must(t, `DeleteTrustedBrowsers("acct-1")`, err)
		wantEqual(t, `DeleteTrustedBrowsers("acct-1") count`, n, 3)
		wantEqual(t, `ListTrustedBrowsers("acct-1") after DeleteTrustedBrowsers`, listBrowsers(t, s, "acct-1"), []string{})
		wantEqual(t, `ListTrustedBrowsers("acct-2") after DeleteTrustedBrowsers("acct-1")`, listBrowsers(t, s, "acct-2"),
			[]string{"browser-4"})
		for _, acct := range []string{"acct-1", "nobody"} {
			n, err = s.DeleteTrustedBrowsers(t.Context(), acct)
			must(t, "DeleteTrustedBrowsers("+acct+")", err)
			wantEqual(t, "DeleteTrustedBrowsers("+acct+") count", n, 0)
		}
	}},
}
