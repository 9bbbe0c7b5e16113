package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

func take(tb testing.TB, s store.Store, name, holder string, now, until time.Time) bool {
	tb.Helper()
	ok, err := s.TakeLease(tb.Context(), name, holder, now, until)
	must(tb, "TakeLease", err)
	return ok
}

// housekeepingTests pin the scheduler's job leases and the garbage
// collection of counters, remembered browsers and delivered mail.
var housekeepingTests = []subtest{
	{"a job lease has one holder until it ends", func(t *testing.T, s store.Store) {
		if !take(t, s, "gc", "node-a", T0, T0.Add(time.Minute)) {
			t.Fatal("first TakeLease = false, want true")
		}
		if take(t, s, "gc", "node-b", T0.Add(59*time.Second), T0.Add(2*time.Minute)) {
			t.Error("TakeLease by another node before the lease ended = true")
		}
		if take(t, s, "gc", "node-a", T0.Add(30*time.Second), T0.Add(2*time.Minute)) {
			t.Error("TakeLease by the holder before the lease ended = true (a job must not run twice in a period)")
		}
		if !take(t, s, "other", "node-b", T0, T0.Add(time.Minute)) {
			t.Error("TakeLease of another job = false; leases are per job")
		}
		if !take(t, s, "gc", "node-b", T0.Add(time.Minute), T0.Add(2*time.Minute)) {
			t.Error("TakeLease when the lease ended = false")
		}
		if take(t, s, "gc", "node-a", T0.Add(90*time.Second), T0.Add(3*time.Minute)) {
			t.Error("TakeLease within the new holder's lease = true")
		}
	}},
	{"of nodes racing for a lease exactly one wins", func(t *testing.T, s store.Store) {
		for round := range 3 {
			now := T0.Add(time.Duration(round) * time.Minute)
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.TakeLease(t.Context(), "race", "node", now, now.Add(time.Minute))
					if err != nil {
						t.Errorf("TakeLease: %v", err)
					}
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Errorf("round %d: %d winners, want 1", round, won)
			}
		}
	}},
	{"counters are collected a window after their last failure", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.AddFailure(ctx, "short", T0, time.Hour)
		must(t, "AddFailure", err)
		_, err = s.AddFailure(ctx, "lock", T0, 100*365*24*time.Hour)
		must(t, "AddFailure", err)
		// A later failure under a shorter window keeps the longer expiry.
		_, err = s.AddFailure(ctx, "lock", T0.Add(time.Minute), time.Hour)
		must(t, "AddFailure", err)
		n, err := s.DeleteExpiredCounters(ctx, T0.Add(time.Hour))
		must(t, "DeleteExpiredCounters", err)
		if n != 0 {
			t.Errorf("DeleteExpiredCounters at the window's end = %d, want 0", n)
		}
		n, err = s.DeleteExpiredCounters(ctx, T0.Add(time.Hour+2*time.Minute))
		must(t, "DeleteExpiredCounters", err)
		if n != 1 {
			t.Errorf("DeleteExpiredCounters after the window = %d, want 1", n)
		}
		if c, _, err := s.Failures(ctx, "lock", T0.Add(2*time.Hour), 100*365*24*time.Hour); err != nil || c != 2 {
			t.Errorf("Failures(lock) = %d, %v; want 2 (a lock is never collected in its window)", c, err)
		}
		if _, last, err := s.Failures(ctx, "short", T0.Add(2*time.Hour), time.Hour); err != nil || !last.IsZero() {
			t.Errorf("Failures(short) last = %v, %v; want the zero time (collected)", last, err)
		}
	}},
	{"expired remembered browsers are collected", func(t *testing.T, s store.Store) {
		a := mustCreateAccount(t, s, newAccount("acct-1", "kari"))
		old := mustCreateBrowser(t, s, newBrowser("old", a.ID, T0.Add(-31*24*time.Hour)))
		mustCreateBrowser(t, s, newBrowser("new", a.ID, T0))
		n, err := s.DeleteExpiredTrustedBrowsers(t.Context(), old.ExpiresAt)
		must(t, "DeleteExpiredTrustedBrowsers", err)
		if n != 1 {
			t.Errorf("DeleteExpiredTrustedBrowsers = %d, want 1", n)
		}
		if got := listBrowsers(t, s, a.ID); len(got) != 1 || got[0] != "new" {
			t.Errorf("browsers left = %v, want [new]", got)
		}
	}},
	{"delivered mail is collected, unsent mail is kept", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		for _, id := range []string{"sent-old", "sent-new", "unsent"} {
			mustEnqueue(t, s, newMessage(id, T0.Add(-48*time.Hour)))
		}
		must(t, "MarkMessageSent", s.MarkMessageSent(ctx, "sent-old", T0.Add(-25*time.Hour)))
		must(t, "MarkMessageSent", s.MarkMessageSent(ctx, "sent-new", T0.Add(-time.Hour)))
		n, err := s.DeleteSentMessages(ctx, T0.Add(-24*time.Hour))
		must(t, "DeleteSentMessages", err)
		if n != 1 {
			t.Errorf("DeleteSentMessages = %d, want 1", n)
		}
		left, err := s.ListMessages(ctx, store.MessageFilter{})
		must(t, "ListMessages", err)
		var got []string
		for _, m := range left {
			got = append(got, m.ID)
		}
		if len(got) != 2 || got[0] == "sent-old" || got[1] == "sent-old" {
			t.Errorf("messages left = %v, want sent-new and unsent", got)
		}
	}},
}
