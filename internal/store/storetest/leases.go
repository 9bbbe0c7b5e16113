package storetest

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// renew calls RenewMessageLeases and returns how many it renewed, failing
// the test on error.
func renew(tb testing.TB, s store.Store, ids []string, held, until time.Time) int {
	tb.Helper()
	n, err := s.RenewMessageLeases(tb.Context(), ids, held, until)
	must(tb, "RenewMessageLeases", err)
	return n
}

// leaseTests pin the outbox hand-over: a worker keeps its claim alive by
// renewing the lease while it sends, and learns when it has lost it.
var leaseTests = []subtest{
	{"a renewed lease keeps other claimers off", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		mustEnqueue(t, s, newMessage("msg-2", T0))
		claimed, err := s.ClaimMessages(t.Context(), T0, 10, 20*time.Second)
		must(t, "ClaimMessages", err)
		if len(claimed) != 2 {
			t.Fatalf("ClaimMessages got %d messages, want 2", len(claimed))
		}
		held := claimed[0].NextAttemptAt
		if n := renew(t, s, []string{"msg-1", "msg-2"}, held, T0.Add(40*time.Second)); n != 2 {
			t.Errorf("RenewMessageLeases(held) = %d, want 2", n)
		}
		if got := claimIDs(t, s, T0.Add(30*time.Second), 10, 20*time.Second); len(got) != 0 {
			t.Errorf("ClaimMessages after the first lease's end but within the renewed one = %v, want none", got)
		}
		if got := claimIDs(t, s, T0.Add(40*time.Second), 10, 20*time.Second); len(got) != 2 {
			t.Errorf("ClaimMessages at the renewed lease's end = %v, want both", got)
		}
	}},
	{"renewing with a lease that is no longer held renews nothing", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		claimIDs(t, s, T0, 10, 20*time.Second)
		// The first claimer stalled past its lease and another took over.
		taken, err := s.ClaimMessages(t.Context(), T0.Add(21*time.Second), 10, 20*time.Second)
		must(t, "ClaimMessages by the second claimer", err)
		if len(taken) != 1 {
			t.Fatalf("second claimer got %d messages, want 1", len(taken))
		}
		if n := renew(t, s, []string{"msg-1"}, T0.Add(20*time.Second), T0.Add(60*time.Second)); n != 0 {
			t.Errorf("RenewMessageLeases by the first claimer = %d, want 0", n)
		}
		if n := renew(t, s, []string{"msg-1"}, taken[0].NextAttemptAt, T0.Add(60*time.Second)); n != 1 {
			t.Errorf("RenewMessageLeases by the second claimer = %d, want 1", n)
		}
	}},
	{"sent and failed messages are not renewed", func(t *testing.T, s store.Store) {
		for _, id := range []string{"msg-1", "msg-2", "msg-3"} {
			mustEnqueue(t, s, newMessage(id, T0))
		}
		claimed, err := s.ClaimMessages(t.Context(), T0, 10, 20*time.Second)
		must(t, "ClaimMessages", err)
		held := claimed[0].NextAttemptAt
		must(t, "MarkMessageSent", s.MarkMessageSent(t.Context(), "msg-1", T0.Add(time.Second)))
		must(t, "MarkMessageFailed", s.MarkMessageFailed(t.Context(), "msg-2", "421", T0.Add(time.Minute)))
		if n := renew(t, s, []string{"msg-1", "msg-2", "msg-3"}, held, T0.Add(40*time.Second)); n != 1 {
			t.Errorf("RenewMessageLeases = %d, want 1 (only the unsent, still held msg-3)", n)
		}
		if n := renew(t, s, nil, held, T0.Add(40*time.Second)); n != 0 {
			t.Errorf("RenewMessageLeases(no ids) = %d, want 0", n)
		}
	}},
}
