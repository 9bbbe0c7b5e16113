package storetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newFlow returns a flow of the given kind with every field set, started
// at T0 and alive for an hour.
func newFlow(id, kind, accountID string) store.Flow {
	return store.Flow{
		ID:          id,
		Kind:        kind,
		BrowserHash: hash("browser of " + id),
		AccountID:   accountID,
		Email:       "kari@example.no",
		State:       "code_sent",
		CodeHash:    hash("code of " + id),
		LinkHash:    hash("link of " + id),
		Attempts:    1,
		Sends:       2,
		LastSentAt:  T0.Add(time.Minute),
		Data:        `{"ip":"192.0.2.7","ua":"Firefox on Linux"}`,
		CreatedAt:   T0,
		ExpiresAt:   T0.Add(time.Hour),
	}
}

// bareFlow returns a flow with none of the optional fields: no browser,
// account, code or link.
func bareFlow(id string) store.Flow {
	return store.Flow{ID: id, Kind: store.FlowSignup, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
}

func mustCreateFlow(tb testing.TB, s store.Store, f store.Flow) store.Flow {
	tb.Helper()
	must(tb, "CreateFlow("+f.ID+")", s.CreateFlow(tb.Context(), f))
	return f
}

// wantFlows fails the test unless exactly the flows with the given IDs
// exist, out of the IDs in all.
func wantFlows(tb testing.TB, s store.Store, call string, all []string, want ...string) {
	tb.Helper()
	got := []string{}
	for _, id := range all {
		_, err := s.GetFlow(tb.Context(), id)
		switch {
		case err == nil:
			got = append(got, id)
		case !errors.Is(err, store.ErrNotFound):
			tb.Errorf("GetFlow(%q): %v", id, err)
		}
	}
	if want == nil {
		want = []string{}
	}
	wantEqual(tb, call+": flows left", got, want)
}

var flowTests = []subtest{
	{"a created flow reads back with every field by ID and by link hash", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := newFlow("flow-1", store.FlowRecovery, "acct-1")
		want.ConsumedAt = T0.Add(2 * time.Minute)
		mustCreateFlow(t, s, want)
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1")`, got, want)
		got, err = s.GetFlowByLinkHash(t.Context(), want.LinkHash)
		must(t, "GetFlowByLinkHash(link of flow-1)", err)
		wantEqual(t, "GetFlowByLinkHash(link of flow-1)", got, want)
	}},
	{"a flow without account, browser, code or link reads back with them empty and nil", func(t *testing.T, s store.Store) {
		want := mustCreateFlow(t, s, bareFlow("flow-1"))
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1")`, got, want)
		if got.BrowserHash != nil || got.CodeHash != nil || got.LinkHash != nil {
			t.Errorf(`GetFlow("flow-1") hashes = %#v, %#v, %#v; want nil`, got.BrowserHash, got.CodeHash, got.LinkHash)
		}
	}},
	{"a second flow with the same ID is a conflict", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		again := newFlow("flow-1", store.FlowLogin, "")
		again.LinkHash = hash("another link")
		wantErr(t, `CreateFlow("flow-1") again`, s.CreateFlow(t.Context(), again), store.ErrConflict)
	}},
	{"a second flow with the same link hash is a conflict", func(t *testing.T, s store.Store) {
		first := mustCreateFlow(t, s, newFlow("flow-1", store.FlowRecovery, ""))
		second := newFlow("flow-2", store.FlowRecovery, "")
		second.LinkHash = first.LinkHash
		wantErr(t, `CreateFlow("flow-2") with the link hash of flow-1`, s.CreateFlow(t.Context(), second), store.ErrConflict)
		_, err := s.GetFlow(t.Context(), "flow-2")
		wantErr(t, `GetFlow("flow-2") after the conflict`, err, store.ErrNotFound)
		// Taking the link in an update is a conflict too.
		want := mustCreateFlow(t, s, newFlow("flow-3", store.FlowRecovery, ""))
		_, err = s.UpdateFlow(t.Context(), "flow-3", func(f store.Flow) (store.Flow, error) {
			f.LinkHash = first.LinkHash
			return f, nil
		})
		wantErr(t, `UpdateFlow("flow-3") to the link hash of flow-1`, err, store.ErrConflict)
		got, err := s.GetFlow(t.Context(), "flow-3")
		must(t, `GetFlow("flow-3")`, err)
		wantEqual(t, `GetFlow("flow-3") after the conflict`, got, want)
	}},
	{"any number of flows may have no link", func(t *testing.T, s store.Store) {
		for _, id := range []string{"flow-1", "flow-2", "flow-3"} {
			mustCreateFlow(t, s, bareFlow(id))
		}
		_, err := s.GetFlowByLinkHash(t.Context(), nil)
		wantErr(t, "GetFlowByLinkHash(nil)", err, store.ErrNotFound)
		_, err = s.GetFlowByLinkHash(t.Context(), []byte{})
		wantErr(t, "GetFlowByLinkHash([]byte{})", err, store.ErrNotFound)
	}},
	{"a missing flow is not found", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		_, err := s.GetFlow(t.Context(), "nothing")
		wantErr(t, `GetFlow("nothing")`, err, store.ErrNotFound)
		_, err = s.GetFlowByLinkHash(t.Context(), hash("nothing"))
		wantErr(t, `GetFlowByLinkHash(hash("nothing"))`, err, store.ErrNotFound)
		_, err = s.UpdateFlow(t.Context(), "nothing", func(f store.Flow) (store.Flow, error) {
			t.Errorf(`UpdateFlow("nothing") called the updater with %+v`, f)
			return f, nil
		})
		wantErr(t, `UpdateFlow("nothing")`, err, store.ErrNotFound)
		wantErr(t, `DeleteFlow("nothing")`, s.DeleteFlow(t.Context(), "nothing"), store.ErrNotFound)
	}},
	{"a flow for an unknown account is not found", func(t *testing.T, s store.Store) {
		err := s.CreateFlow(t.Context(), newFlow("flow-1", store.FlowLogin, "nobody"))
		wantErr(t, `CreateFlow("flow-1") for account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetFlow(t.Context(), "flow-1")
		wantErr(t, `GetFlow("flow-1") after the failed create`, err, store.ErrNotFound)
	}},
	{"a flow update writes what the updater returns", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		old := mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		var seen store.Flow
		got, err := s.UpdateFlow(t.Context(), "flow-1", func(f store.Flow) (store.Flow, error) {
			seen = f
			f.AccountID, f.State, f.Data = "acct-1", "password", `{}`
			f.BrowserHash, f.CodeHash, f.LinkHash = nil, hash("new code"), hash("new link")
			f.Attempts, f.Sends = 0, 3
			f.LastSentAt = T0.Add(5*time.Minute + 1500*time.Microsecond)
			f.ExpiresAt = T0.Add(2 * time.Hour)
			return f, nil
		})
		must(t, `UpdateFlow("flow-1")`, err)
		wantEqual(t, "the updater's argument", seen, old)
		want := old
		want.AccountID, want.State, want.Data = "acct-1", "password", `{}`
		want.BrowserHash, want.CodeHash, want.LinkHash = nil, hash("new code"), hash("new link")
		want.Attempts, want.Sends = 0, 3
		want.LastSentAt = T0.Add(5*time.Minute + time.Millisecond)
		want.ExpiresAt = T0.Add(2 * time.Hour)
		wantEqual(t, `UpdateFlow("flow-1") result`, got, want)
		got, err = s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1") after the update`, got, want)
		got, err = s.GetFlowByLinkHash(t.Context(), hash("new link"))
		must(t, "GetFlowByLinkHash(the new link)", err)
		wantEqual(t, "GetFlowByLinkHash(the new link)", got, want)
		_, err = s.GetFlowByLinkHash(t.Context(), old.LinkHash)
		wantErr(t, "GetFlowByLinkHash(the old link)", err, store.ErrNotFound)
	}},
	{"an updater error aborts the flow update and writes nothing", func(t *testing.T, s store.Store) {
		want := mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		_, err := s.UpdateFlow(t.Context(), "flow-1", func(f store.Flow) (store.Flow, error) {
			f.Attempts, f.ConsumedAt = 5, T0
			return f, errBoom
		})
		wantErr(t, `UpdateFlow("flow-1") with a failing updater`, err, errBoom)
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1") after the failed update`, got, want)
	}},
	{"a flow submitted twenty times in parallel is consumed exactly once", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		errUsed := errors.New("flow already used")
		winners, losers := race(t, 20, `UpdateFlow("flow-1")`, func(err error) bool { return errors.Is(err, errUsed) }, func(i int) error {
			_, err := s.UpdateFlow(t.Context(), "flow-1", func(f store.Flow) (store.Flow, error) {
				if !f.ConsumedAt.IsZero() {
					return f, errUsed
				}
				f.ConsumedAt = T0.Add(time.Duration(i+1) * time.Millisecond)
				f.State = "consumed by " + strconv.Itoa(i)
				// Hold the flow a little, so that an implementation that
				// lets another submission read it meanwhile is caught.
				time.Sleep(5 * time.Millisecond)
				return f, nil
			})
			return err
		})
		if len(winners) != 1 || losers != 19 {
			t.Fatalf("of 20 parallel submissions, %d consumed the flow (%v) and %d found it used; want 1 and 19",
				len(winners), winners, losers)
		}
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		i := winners[0]
		if !got.ConsumedAt.Equal(T0.Add(time.Duration(i+1)*time.Millisecond)) || got.State != "consumed by "+strconv.Itoa(i) {
			t.Errorf(`GetFlow("flow-1") = ConsumedAt %v, State %q; want what submission %d wrote`, got.ConsumedAt, got.State, i)
		}
	}},
	{"ConsumeFlow consumes only an unused, unexpired flow of its kind and browser", func(t *testing.T, s store.Store) {
		f := mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		mustCreateFlow(t, s, bareFlow("no-browser"))
		now := T0.Add(time.Minute)
		for _, c := range []struct {
			call    string
			id      string
			kind    string
			browser []byte
			now     time.Time
		}{
			{"an unknown flow", "nothing", store.FlowLogin, f.BrowserHash, now},
			{"another kind", "flow-1", store.FlowSignup, f.BrowserHash, now},
			{"another browser", "flow-1", store.FlowLogin, hash("another browser"), now},
			{"no browser", "flow-1", store.FlowLogin, nil, now},
			{"at its expiry", "flow-1", store.FlowLogin, f.BrowserHash, f.ExpiresAt},
		} {
			_, err := s.ConsumeFlow(t.Context(), c.id, c.kind, c.browser, c.now)
			wantErr(t, "ConsumeFlow of "+c.call, err, store.ErrNotFound)
		}
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, "the flow after refused ConsumeFlow calls", got, f)

		got, err = s.ConsumeFlow(t.Context(), "flow-1", store.FlowLogin, f.BrowserHash, f.ExpiresAt.Add(-time.Millisecond))
		must(t, `ConsumeFlow("flow-1")`, err)
		want := f
		want.ConsumedAt = f.ExpiresAt.Add(-time.Millisecond)
		wantEqual(t, `ConsumeFlow("flow-1")`, got, want)
		got, err = s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1") after ConsumeFlow`, got, want)
		_, err = s.ConsumeFlow(t.Context(), "flow-1", store.FlowLogin, f.BrowserHash, now)
		wantErr(t, `ConsumeFlow("flow-1") again`, err, store.ErrNotFound)

		// A flow without a browser is anyone's.
		got, err = s.ConsumeFlow(t.Context(), "no-browser", store.FlowSignup, hash("any browser"), now)
		must(t, `ConsumeFlow("no-browser")`, err)
		wantEqual(t, `ConsumeFlow("no-browser").ConsumedAt`, got.ConsumedAt, now)
	}},
	{"a flow consumed by twenty parallel ConsumeFlow calls is consumed exactly once", func(t *testing.T, s store.Store) {
		f := mustCreateFlow(t, s, newFlow("flow-1", store.FlowLogin, ""))
		winners, losers := race(t, 20, `ConsumeFlow("flow-1")`, func(err error) bool { return errors.Is(err, store.ErrNotFound) }, func(i int) error {
			_, err := s.ConsumeFlow(t.Context(), "flow-1", store.FlowLogin, f.BrowserHash, T0.Add(time.Duration(i+1)*time.Millisecond))
			return err
		})
		if len(winners) != 1 || losers != 19 {
			t.Fatalf("of 20 parallel calls, %d consumed the flow (%v) and %d found it used; want 1 and 19", len(winners), winners, losers)
		}
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, "ConsumedAt", got.ConsumedAt, T0.Add(time.Duration(winners[0]+1)*time.Millisecond))
	}},
	{"twenty parallel updates of one flow are all applied", func(t *testing.T, s store.Store) {
		f := newFlow("flow-1", store.FlowLogin, "")
		f.Attempts = 0
		mustCreateFlow(t, s, f)
		parallel(t, 20, func(int) {
			_, err := s.UpdateFlow(t.Context(), "flow-1", func(f store.Flow) (store.Flow, error) {
				f.Attempts++
				return f, nil
			})
			if err != nil {
				t.Errorf(`UpdateFlow("flow-1"): %v`, err)
			}
		})
		got, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		if got.Attempts != 20 {
			t.Errorf(`GetFlow("flow-1").Attempts = %d after 20 parallel increments from 0, want 20`, got.Attempts)
		}
	}},
	{"deleting a flow removes it and its link", func(t *testing.T, s store.Store) {
		f := mustCreateFlow(t, s, newFlow("flow-1", store.FlowRecovery, ""))
		mustCreateFlow(t, s, newFlow("flow-2", store.FlowRecovery, ""))
		must(t, `DeleteFlow("flow-1")`, s.DeleteFlow(t.Context(), "flow-1"))
		_, err := s.GetFlowByLinkHash(t.Context(), f.LinkHash)
		wantErr(t, "GetFlowByLinkHash(link of flow-1) after DeleteFlow", err, store.ErrNotFound)
		wantFlows(t, s, `DeleteFlow("flow-1")`, []string{"flow-1", "flow-2"}, "flow-2")
		wantErr(t, `DeleteFlow("flow-1") again`, s.DeleteFlow(t.Context(), "flow-1"), store.ErrNotFound)
	}},
	{"deleting an account's flows can be limited to kinds", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		all := []string{"login-1", "recovery-1", "verify-1a", "verify-1b", "login-2", "signup"}
		mustCreateFlow(t, s, newFlow("login-1", store.FlowLogin, "acct-1"))
		mustCreateFlow(t, s, newFlow("recovery-1", store.FlowRecovery, "acct-1"))
		mustCreateFlow(t, s, newFlow("verify-1a", store.FlowVerifyEmail, "acct-1"))
		mustCreateFlow(t, s, newFlow("verify-1b", store.FlowVerifyEmail, "acct-1"))
		mustCreateFlow(t, s, newFlow("login-2", store.FlowLogin, "acct-2"))
		mustCreateFlow(t, s, newFlow("signup", store.FlowSignup, ""))

		n, err := s.DeleteAccountFlows(t.Context(), "acct-1", store.FlowVerifyEmail, store.FlowSignup)
		must(t, `DeleteAccountFlows("acct-1", verify_email, signup)`, err)
		wantEqual(t, `DeleteAccountFlows("acct-1", verify_email, signup) count`, n, 2)
		wantFlows(t, s, `DeleteAccountFlows("acct-1", verify_email, signup)`, all,
			"login-1", "recovery-1", "login-2", "signup")

		n, err = s.DeleteAccountFlows(t.Context(), "acct-1")
		must(t, `DeleteAccountFlows("acct-1")`, err)
		wantEqual(t, `DeleteAccountFlows("acct-1") count`, n, 2)
		wantFlows(t, s, `DeleteAccountFlows("acct-1")`, all, "login-2", "signup")

		// Flows without an account belong to nobody, not to "".
		for _, acct := range []string{"acct-1", "nobody", ""} {
			n, err = s.DeleteAccountFlows(t.Context(), acct)
			must(t, "DeleteAccountFlows("+acct+")", err)
			wantEqual(t, "DeleteAccountFlows("+acct+") count", n, 0)
		}
		wantFlows(t, s, "DeleteAccountFlows of no flows", all, "login-2", "signup")
	}},
	{"expired flows are deleted", func(t *testing.T, s store.Store) {
		all := []string{"expired", "expiring now", "alive"}
		for i, id := range all {
			f := newFlow(id, store.FlowLogin, "")
			f.ExpiresAt = T0.Add(time.Duration(i-1) * time.Millisecond)
			mustCreateFlow(t, s, f)
		}
		n, err := s.DeleteExpiredFlows(t.Context(), T0)
		must(t, "DeleteExpiredFlows(T0)", err)
		wantEqual(t, "DeleteExpiredFlows(T0) count", n, 2)
		wantFlows(t, s, "DeleteExpiredFlows(T0)", all, "alive")
	}},
}
