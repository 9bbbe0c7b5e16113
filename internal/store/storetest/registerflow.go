package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// errUsed is what the consuming updaters below return for a flow that is
// already used.
var errUsed = errors.New("storetest: flow already used")

// consumeOnce is the updater a sign-up completion runs: it refuses a used
// flow and marks the flow used.
func consumeOnce(f store.Flow) (store.Flow, error) {
	if !f.ConsumedAt.IsZero() {
		return f, errUsed
	}
	f.ConsumedAt, f.State = T0.Add(time.Minute), "done"
	return f, nil
}

// wantUnconsumed fails the test unless the flow is still unused.
func wantUnconsumed(tb testing.TB, s store.Store, call, id string) {
	tb.Helper()
	f, err := s.GetFlow(tb.Context(), id)
	must(tb, call+": GetFlow("+id+")", err)
	if !f.ConsumedAt.IsZero() || f.State != "code_sent" {
		tb.Errorf("%s: the flow was written (ConsumedAt %v, State %q), want it as it was", call, f.ConsumedAt, f.State)
	}
}

// registerFromFlowTests: sign-up completion consumes its flow and creates
// the account in one transaction (issue 12): there is never a used flow
// without its account, nor an account from a flow that could be used again.
var registerFromFlowTests = []subtest{
	{"registering from a flow consumes it and writes the account, its emails and its password", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowSignup, ""))
		a := newAccount("acct-1", "")
		emails := []store.Email{newEmail("kari@example.no", "acct-1", true, T0)}
		pw := newPassword("acct-1")
		got, err := s.RegisterFromFlow(t.Context(), "flow-1", consumeOnce, a, emails, &pw)
		must(t, `RegisterFromFlow("flow-1")`, err)
		if !got.ConsumedAt.Equal(T0.Add(time.Minute)) || got.State != "done" {
			t.Errorf("RegisterFromFlow returned the flow %+v, want it consumed", got)
		}
		f, err := s.GetFlow(t.Context(), "flow-1")
		must(t, `GetFlow("flow-1")`, err)
		wantEqual(t, `GetFlow("flow-1")`, f, got)
		gotA, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1")`, gotA, a)
		wantEqual(t, `ListEmails("acct-1")`, listEmails(t, s, "acct-1"), []string{"kari@example.no"})
		gotP, err := s.GetPassword(t.Context(), "acct-1")
		must(t, `GetPassword("acct-1")`, err)
		wantEqual(t, `GetPassword("acct-1")`, gotP, pw)
	}},
	{"registering from a flow whose updater refuses returns its error and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowSignup, ""))
		pw := newPassword("acct-1")
		_, err := s.RegisterFromFlow(t.Context(), "flow-1", func(f store.Flow) (store.Flow, error) { return f, errBoom },
			newAccount("acct-1", "kari"), []store.Email{newEmail("kari@example.no", "acct-1", true, T0)}, &pw)
		if err != errBoom {
			t.Errorf("RegisterFromFlow with a refusing updater: err = %v, want errBoom itself", err)
		}
		wantUnconsumed(t, s, "after a refusing updater", "flow-1")
		wantNoAccount(t, s, "after a refusing updater", "acct-1", "kari", "kari@example.no")
	}},
	{"registering from a flow with a taken address leaves the flow unused and writes no account", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-0", "ola"))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-0", true, T0))
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowSignup, ""))
		pw := newPassword("acct-1")
		_, err := s.RegisterFromFlow(t.Context(), "flow-1", consumeOnce, newAccount("acct-1", "kari"),
			[]store.Email{newEmail("KARI@example.no", "acct-1", true, T0)}, &pw)
		wantErr(t, "RegisterFromFlow with a taken address", err, store.ErrConflict)
		wantUnconsumed(t, s, "after a taken address", "flow-1")
		wantNoAccount(t, s, "after a taken address", "acct-1", "kari")
		// The flow is still good: with a free address it completes.
		_, err = s.RegisterFromFlow(t.Context(), "flow-1", consumeOnce, newAccount("acct-1", "kari"),
			[]store.Email{newEmail("kari@jobb.no", "acct-1", true, T0)}, &pw)
		must(t, "RegisterFromFlow with a free address", err)
	}},
	{"registering from a missing flow is not found and writes no account", func(t *testing.T, s store.Store) {
		_, err := s.RegisterFromFlow(t.Context(), "flow-x", consumeOnce, newAccount("acct-1", "kari"),
			[]store.Email{newEmail("kari@example.no", "acct-1", true, T0)}, nil)
		wantErr(t, `RegisterFromFlow("flow-x")`, err, store.ErrNotFound)
		wantNoAccount(t, s, "after a missing flow", "acct-1", "kari", "kari@example.no")
	}},
	{"registering from a flow: of twenty parallel completions exactly one registers", func(t *testing.T, s store.Store) {
		mustCreateFlow(t, s, newFlow("flow-1", store.FlowSignup, ""))
		const n = 20
		id := func(i int) string { return fmt.Sprintf("acct-%02d", i) }
		winners, losers := race(t, n, "RegisterFromFlow", func(err error) bool { return err == errUsed }, func(i int) error {
			_, err := s.RegisterFromFlow(t.Context(), "flow-1", consumeOnce, newAccount(id(i), ""),
				[]store.Email{newEmail(fmt.Sprintf("kari%02d@example.no", i), id(i), true, T0)}, nil)
			return err
		})
		if len(winners) != 1 || losers != n-1 {
			t.Fatalf("%d of %d parallel completions registered (%d lost), want exactly 1", len(winners), n, losers)
		}
		for i := range n {
			_, err := s.GetAccount(t.Context(), id(i))
			if i == winners[0] {
				must(t, "GetAccount(winner)", err)
			} else if err == nil {
				t.Errorf("completion %d lost the race but its account %s exists", i, id(i))
			}
		}
	}},
}
